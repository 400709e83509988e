"""Our own known_hosts (OpenSSH format) in the config folder: lookup, add, forget."""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from pathlib import Path

import paramiko

from sdv_studio import paths

_lock = threading.Lock()  # add/forget are read-modify-write; connections run in many threads


def fingerprint(key: paramiko.PKey) -> str:
    """``SHA256:<base64>`` exactly as ``ssh-keygen -lf`` prints it."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def default_path() -> Path:
    return paths.config_dir() / "known_hosts"


class KnownHosts:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()

    def _load(self) -> paramiko.HostKeys:
        keys = paramiko.HostKeys()
        if self.path.exists():
            keys.load(str(self.path))
        return keys

    def lookup(self, name: str) -> dict[str, paramiko.PKey]:
        """Trusted keys for ``name`` (``host`` or ``[host]:port``), by key type."""
        found = self._load().lookup(name)
        return dict(found.items()) if found else {}

    def add(self, name: str, key: paramiko.PKey) -> None:
        with _lock:
            if self.lookup(name).get(key.get_name()) == key:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(f"{name} {key.get_name()} {key.get_base64()}\n")

    def forget(self, name: str) -> bool:
        """Remove every key of ``name``; True when there was one (e.g. after a known re-install)."""
        with _lock:
            if not self.path.exists():
                return False
            lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
            kept = [line for line in lines if not line.strip() or name not in line.split(maxsplit=1)[0].split(",")]
            if len(kept) == len(lines):
                return False
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text("".join(kept), encoding="utf-8")
            os.replace(tmp, self.path)
            return True
