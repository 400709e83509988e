"""Scan defaults in SDV Studio's own config folder, and the SSH keys offered."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdv_studio.core import scan_defaults
from sdv_studio.core.scan_defaults import ScanDefaults


def test_saved_under_sdv_studio_home_and_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDV_STUDIO_HOME", str(tmp_path))
    assert scan_defaults.load() == ScanDefaults()
    scan_defaults.save(ScanDefaults(subnet="198.18.0.0/24", user="sdv", identity="~/.ssh/id_ed25519"))
    assert (tmp_path / "config" / scan_defaults.FILE).is_file()
    assert scan_defaults.load() == ScanDefaults("198.18.0.0/24", "sdv", "~/.ssh/id_ed25519", True)


def test_damaged_or_mistyped_values_fall_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDV_STUDIO_HOME", str(tmp_path))
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / scan_defaults.FILE).write_text('{"user": 5, "subnet": "10.0.0.0/24", "scan_on_entry": 0}')
    assert scan_defaults.load() == ScanDefaults(subnet="10.0.0.0/24")
    (tmp_path / "config" / scan_defaults.FILE).write_text("not json")
    assert scan_defaults.load() == ScanDefaults()


def test_ssh_keys_are_private_keys_with_a_public_half(tmp_path: Path) -> None:
    ssh = tmp_path / ".ssh"
    ssh.mkdir()
    for name in ("id_ed25519", "id_ed25519.pub", "id_rsa", "lab_key", "lab_key.pub", "known_hosts", "config"):
        (ssh / name).write_text("x")
    assert scan_defaults.ssh_keys(tmp_path) == [str(ssh / "id_ed25519"), str(ssh / "lab_key")]
