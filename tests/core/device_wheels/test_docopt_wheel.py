"""docopt's wheel for amqtt 0.10, built once from its sdist into the wheel cache."""

from __future__ import annotations

import hashlib
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from sdv_studio.core.device_wheels import docopt_wheel
from sdv_studio.core.packaging.wheels import WheelError

# What every workstation builds (checked with pip 23 to 26 on Python 3.8, 3.11 and 3.13).
REPRODUCED_SHA256 = "c74d49b7a476236cb99eee7ba5ade326afd707f1d18e6ad8d77afcd018c7df6e"


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SDV_STUDIO_WHEEL_CACHE", str(tmp_path / "wheels"))
    return tmp_path / "wheels"


@pytest.mark.slow
def test_the_wheel_is_built_from_the_sdist_reproducibly_and_then_cached(
    empty_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = docopt_wheel.docopt_wheel()
    assert wheel == empty_cache / "files" / docopt_wheel.WHEEL
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() == REPRODUCED_SHA256
    with zipfile.ZipFile(wheel) as archive:
        assert "docopt.py" in archive.namelist()
    assert [p.name for p in empty_cache.iterdir()] == ["files"]  # no build folder left behind

    def no_pip(*args: object, **kwargs: object) -> None:
        raise AssertionError("built again")

    monkeypatch.setattr(subprocess, "run", no_pip)
    assert docopt_wheel.docopt_wheel() == wheel


def test_offline_and_not_cached_says_what_is_missing(empty_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No configuration files, and an index on a port where nothing listens: pip is refused at once.
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    with pytest.raises(WheelError, match=r"docopt 0\.6\.2 \(needed by amqtt 0\.10.*needs PyPI once, failed: ") as info:
        docopt_wheel.docopt_wheel()
    assert str(empty_cache / "files") in str(info.value)
    assert not (empty_cache / "files" / docopt_wheel.WHEEL).exists()
