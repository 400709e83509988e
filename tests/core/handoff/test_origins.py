from __future__ import annotations

import pytest

from sdv_studio.core.defaults import HANDOFF_PORT
from sdv_studio.core.errors import InvalidInput
from sdv_studio.core.handoff.origins import (
    ORIGINS_ENV,
    PLAYGROUND_ORIGINS,
    PORT_ENV,
    OriginPolicy,
    handoff_config,
    normalize_origin,
)


def test_the_playground_is_allowed_by_default_and_nothing_else() -> None:
    policy = handoff_config().policy
    assert policy.allows("https://playground.digital.auto") and policy.allows("https://digital.auto")
    for other in ("https://evil.example", "http://digital.auto", "https://digital.auto.evil.example",
                  "https://playground.digital.auto:8443", "null", "", None, "not a url"):
        assert not policy.allows(other), other


def test_origins_compare_as_browsers_send_them() -> None:
    policy = OriginPolicy.of(["HTTP://LocalHost:3000/"])
    assert policy.allows("http://localhost:3000")
    assert normalize_origin("https://Digital.Auto") == "https://digital.auto"
    for bad in ("digital.auto", "https://digital.auto/page", "ftp://x", "https://u@digital.auto"):
        with pytest.raises(InvalidInput, match="must be scheme://host"):
            normalize_origin(bad)


def test_the_environment_overrides_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert handoff_config().port == HANDOFF_PORT
    monkeypatch.setenv(PORT_ENV, "0")
    monkeypatch.setenv(ORIGINS_ENV, "http://127.0.0.1:9000, http://localhost:9000")
    config = handoff_config(8766, PLAYGROUND_ORIGINS)
    assert config.port == 0
    assert config.policy.allowed == {"http://127.0.0.1:9000", "http://localhost:9000"}
    monkeypatch.setenv(PORT_ENV, "http")
    with pytest.raises(InvalidInput, match=PORT_ENV):
        handoff_config()
