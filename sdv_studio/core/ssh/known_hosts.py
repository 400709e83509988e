"""Our own known_hosts (OpenSSH format) in the config folder: lookup, add, forget."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import threading
from pathlib import Path

import paramiko
from paramiko.hostkeys import HostKeyEntry, InvalidHostKey
from paramiko.ssh_exception import SSHException

from sdv_studio import paths
from sdv_studio.core.ssh.errors import KnownHostsDamaged

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
        # The file as last parsed, by its (mtime_ns, size, inode): a deployment to 48 devices looks
        # up 48 hosts, and parsing every key of the file for each was quadratic.
        self._parsed: tuple[tuple[int, int, int], paramiko.HostKeys] | None = None

    def _load(self, name: str) -> paramiko.HostKeys:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return paramiko.HostKeys()
        except OSError as exc:
            raise KnownHostsDamaged(name, self.path, 1, str(exc)) from exc
        version = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        parsed = self._parsed
        if parsed is not None and parsed[0] == version:
            return parsed[1]
        keys = self._parse(name)
        self._parsed = (version, keys)
        return keys

    def _parse(self, name: str) -> paramiko.HostKeys:
        keys = paramiko.HostKeys()
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise KnownHostsDamaged(name, self.path, 1, str(exc)) from exc
        for number, line in enumerate(lines, 1):
            try:
                entry = HostKeyEntry.from_line(line, number)
            except (InvalidHostKey, SSHException, ValueError, binascii.Error) as exc:
                raise KnownHostsDamaged(name, self.path, number, str(exc) or type(exc).__name__) from exc
            if entry is not None and entry.key is not None:
                for hostname in entry.hostnames:
                    keys.add(hostname, entry.key.get_name(), entry.key)
        return keys

    def lookup(self, name: str) -> dict[str, paramiko.PKey]:
        """Trusted keys for ``name`` (``host`` or ``[host]:port``), by key type."""
        found = self._load(name).lookup(name)
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
