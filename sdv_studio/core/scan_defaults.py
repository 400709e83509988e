"""What a scan starts from: the last subnet, user and key file, kept in SDV Studio's own config folder
(``SDV_STUDIO_HOME`` moves it with everything else), and the SSH keys this user already has."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from sdv_studio import paths

FILE = "scan-defaults.json"
_KEY_NAMES = ("id_ed25519", "id_ecdsa", "id_rsa", "id_ed25519_sk", "id_ecdsa_sk", "id_dsa")


@dataclass(frozen=True)
class ScanDefaults:
    subnet: str = ""  # comma-separated networks; empty: this computer's own subnets
    user: str = ""
    identity: str = ""  # private key file; empty: the usual SSH keys
    scan_on_entry: bool = True  # sweep when the Devices step opens


def _path() -> Path:
    return paths.config_dir() / FILE


def load() -> ScanDefaults:
    """The saved defaults; a missing or damaged file gives the built-in ones (it is only a convenience)."""
    try:
        raw = json.loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ScanDefaults()
    if not isinstance(raw, dict):
        return ScanDefaults()
    defaults = ScanDefaults()
    # Only fields of the right type: a hand-edited value of the wrong kind falls back to its default.
    kept = {f.name: raw[f.name] for f in fields(ScanDefaults)
            if f.name in raw and type(raw[f.name]) is type(getattr(defaults, f.name))}
    return ScanDefaults(**kept)


def save(defaults: ScanDefaults) -> None:
    path = _path()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(defaults), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def ssh_keys(home: Path | None = None) -> list[str]:
    """This user's private keys in ~/.ssh that have a public half (so not known_hosts or config)."""
    folder = (home or Path.home()) / ".ssh"
    named = [folder / name for name in _KEY_NAMES]
    others = sorted(p.with_suffix("") for p in folder.glob("*.pub")) if folder.is_dir() else []
    found = [p for p in dict.fromkeys([*named, *others]) if p.is_file() and p.with_suffix(".pub").is_file()]
    return [str(p) for p in found]
