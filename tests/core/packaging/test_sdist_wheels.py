"""Wheels built from source distributions the index has no wheel for: pure Python only, the same
bytes on every build, and what has compiled code left unresolved (needs PyPI, as packaging does)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdv_studio.core.packaging.sdist_wheels import pure_wheel

pytestmark = pytest.mark.slow


def test_a_pure_sdist_becomes_the_same_wheel_in_any_cache(tmp_path: Path) -> None:
    # velocitas-sdk 0.14 requires paho-mqtt<2, and every 1.x release is an sdist only.
    first = pure_wheel("paho-mqtt<2,>=1.6.1", tmp_path / "a")
    second = pure_wheel("paho-mqtt<2,>=1.6.1", tmp_path / "b")
    assert first is not None and second is not None
    assert first.name == "paho_mqtt-1.6.1-py3-none-any.whl" and first.parent == tmp_path / "a" / "files"
    assert first.read_bytes() == second.read_bytes()


def test_an_sdist_with_compiled_code_is_not_built_and_that_is_remembered(tmp_path: Path) -> None:
    assert pure_wheel("markupsafe==2.1.5", tmp_path) is None  # src/markupsafe/_speedups.c
    assert not (tmp_path / "files").exists()
    assert list((tmp_path / "sdists").glob("*.compiled"))
    assert pure_wheel("markupsafe==2.1.5", tmp_path) is None
