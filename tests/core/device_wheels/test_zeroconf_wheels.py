"""Fetching python-zeroconf's wheels for a device: once, impatiently, and a failure remembered
(a workstation without internet must not wait for pip on every deployment)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sdv_studio.core.device_wheels import zeroconf_wheels as module
from sdv_studio.core.packaging.wheels import WheelError


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    module._wheels.cache_clear()
    yield
    module._wheels.cache_clear()


def test_an_offline_workstation_is_asked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def offline(*args: Any, **kw: Any) -> None:
        calls.append(kw)
        raise WheelError(["requirements: no network"])

    monkeypatch.setattr(module.wheels, "vendor", offline)
    for _ in range(3):
        with pytest.raises(WheelError, match="no network"):
            module.zeroconf_wheels("3.11", "x86_64")
    assert calls == [{"patient": False}]
