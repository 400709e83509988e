"""known_hosts file handling and fingerprints, checked against OpenSSH's own tools (no network)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import paramiko
import pytest

from sdv_studio.core.ssh import KnownHosts, fingerprint, parse_address
from sdv_studio.core.ssh.errors import KnownHostsDamaged


def _keygen(path: Path) -> paramiko.PKey:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return paramiko.PKey.from_path(path)


def test_fingerprint_matches_ssh_keygen(tmp_path: Path) -> None:
    key = _keygen(tmp_path / "k")
    listed = subprocess.run(["ssh-keygen", "-lf", str(tmp_path / "k.pub")], capture_output=True, text=True, check=True)
    assert fingerprint(key) == listed.stdout.split()[1]


def test_add_lookup_forget_and_ssh_keygen_reads_our_file(tmp_path: Path) -> None:
    known = KnownHosts(tmp_path / "kh")
    one, two = _keygen(tmp_path / "a"), _keygen(tmp_path / "b")
    known.add("10.0.0.1", one)
    known.add("10.0.0.1", one)  # idempotent
    known.add("[10.0.0.2]:2222", two)
    assert known.lookup("10.0.0.1") == {"ssh-ed25519": one}
    assert known.lookup("[10.0.0.2]:2222") == {"ssh-ed25519": two}
    assert known.lookup("10.0.0.2") == {}
    assert len((tmp_path / "kh").read_text().splitlines()) == 2
    found = subprocess.run(["ssh-keygen", "-F", "[10.0.0.2]:2222", "-f", str(tmp_path / "kh")],
                           capture_output=True, text=True, check=False)
    assert found.returncode == 0
    assert known.forget("10.0.0.1") is True
    assert known.forget("10.0.0.1") is False
    assert known.lookup("10.0.0.1") == {}
    assert known.lookup("[10.0.0.2]:2222") == {"ssh-ed25519": two}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("host", (None, "host", None)),
        ("sdv@198.18.0.11", ("sdv", "198.18.0.11", None)),
        ("sdv@jetson.local:2222", ("sdv", "jetson.local", 2222)),
        ("[fe80::1]:22", (None, "fe80::1", 22)),
    ],
)
def test_parse_address(text: str, expected: tuple[str | None, str, int | None]) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["", "a@b@c", "host:99999", "host:port", "two words", "a" * 64, "-lead.example",
                                  "x." * 127 + "example", "bad..dots", "under_score-.example"])
def test_parse_address_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_address(text)


@pytest.mark.parametrize("damage", ["10.0.0.9 ssh-ed25519 AAAA!!!not-base64", "10.0.0.9 ssh-ed25519 QUFB"])
def test_a_damaged_line_is_named_and_trusts_nothing(tmp_path: Path, damage: str) -> None:
    """OpenSSH skips a bad line; we refuse, so a damaged entry cannot make a known device look
    new (and accept-new then trust whatever key it presents)."""
    known = KnownHosts(tmp_path / "kh")
    key = _keygen(tmp_path / "a")
    known.add("10.0.0.1", key)
    (tmp_path / "kh").write_text((tmp_path / "kh").read_text() + damage + "\n")
    with pytest.raises(KnownHostsDamaged, match=r"kh:2: not a valid known_hosts line"):
        known.lookup("10.0.0.1")
    with pytest.raises(KnownHostsDamaged):
        known.add("10.0.0.3", key)
    assert len((tmp_path / "kh").read_text().splitlines()) == 2


def test_hashed_names_as_ssh_keygen_writes_them_are_found(tmp_path: Path) -> None:
    known = KnownHosts(tmp_path / "kh")
    key = _keygen(tmp_path / "a")
    known.add("10.0.0.1", key)
    subprocess.run(["ssh-keygen", "-H", "-f", str(tmp_path / "kh")], capture_output=True, check=True)
    assert (tmp_path / "kh").read_text().startswith("|1|")
    assert known.lookup("10.0.0.1") == {"ssh-ed25519": key}


def test_a_file_changed_by_another_program_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "kh"
    known, elsewhere = KnownHosts(path), KnownHosts(path)  # e.g. the desktop app and a CLI run
    one, two = _keygen(tmp_path / "a"), _keygen(tmp_path / "b")
    known.add("10.0.0.1", one)
    assert known.lookup("10.0.0.2") == {}  # parsed and kept
    elsewhere.add("10.0.0.2", two)
    assert known.lookup("10.0.0.2") == {"ssh-ed25519": two}
    elsewhere.forget("10.0.0.1")
    assert known.lookup("10.0.0.1") == {}
