"""Reading a package archive: its manifest, launch settings and per-file hashes.

The format is docs/package-format.md; the engine needs the entries' hashes to send a device
only what it lacks, and the manifest to check compatibility and wire the app.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from sdv_studio.core.packaging.store import PackageStore

# Entries a package (format 2) carries per (Python, arch); a device is sent only its own.
PER_COMBINATION = ("wheels/", "requirements/")


class PackageUnreadable(Exception):
    pass


def major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


@dataclass
class PackageFile:
    path: Path

    @cached_property
    def entries(self) -> dict[str, bytes]:
        """Every regular file in the archive, by its path inside the package."""
        try:
            with tarfile.open(self.path, "r:gz") as tar:
                out: dict[str, bytes] = {}
                for member in tar:
                    if member.isfile():
                        handle = tar.extractfile(member)
                        if handle is not None:
                            out[member.name.removeprefix("./")] = handle.read()
                return out
        except (OSError, tarfile.TarError) as exc:
            raise PackageUnreadable(f"{self.path}: not a readable package ({exc})") from exc

    @cached_property
    def sums(self) -> dict[str, str]:
        """path -> sha256 from SHA256SUMS, verified against the bytes."""
        if "SHA256SUMS" not in self.entries:
            raise PackageUnreadable(f"{self.path}: no SHA256SUMS; not an SDV Studio package")
        table: dict[str, str] = {}
        for line in self.entries["SHA256SUMS"].decode().splitlines():
            digest, _, name = line.partition("  ")
            if name:
                table[name] = digest
        for name, digest in table.items():
            data = self.entries.get(name)
            if data is None or hashlib.sha256(data).hexdigest() != digest:
                raise PackageUnreadable(f"{self.path}: {name} does not match SHA256SUMS; the file is damaged")
        return table

    @cached_property
    def manifest(self) -> dict[str, Any]:
        data = self.entries.get("manifest.json")
        if data is None:
            raise PackageUnreadable(f"{self.path}: no manifest.json")
        loaded = json.loads(data)
        if not isinstance(loaded, dict):
            raise PackageUnreadable(f"{self.path}: manifest.json is not an object")
        return loaded

    @property
    def package_id(self) -> str:
        return f"pkg_{hashlib.sha256(self.entries['SHA256SUMS']).hexdigest()[:16]}"

    @property
    def name(self) -> str:
        return str(self.manifest["name"])

    @property
    def version(self) -> str:
        return str(self.manifest["version"])

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    @property
    def wheel_sets(self) -> dict[str, dict[str, Any]]:
        """The manifest's record per ``<python>-<arch>``; empty for format 1 or an app without requirements."""
        sets = self.manifest.get("wheelSets")
        return {str(k): v for k, v in sets.items() if isinstance(v, dict)} if isinstance(sets, dict) else {}

    def wheel_set(self, python: str, arch: str) -> dict[str, Any] | None:
        return self.wheel_sets.get(f"{major_minor(python)}-{arch}")

    def needed_files(self, python: str, arch: str) -> list[str]:
        """The entries a device with this Python and arch uses: all but the other combinations' wheels
        and requirements (all of them when the package has no record for it: the agent then says why)."""
        record = self.wheel_set(python, arch)
        if record is None or "wheels" not in record:
            return sorted(self.sums)
        used = {*record["wheels"], record["requirements"]}
        return [name for name in sorted(self.sums) if not name.startswith(PER_COMBINATION) or name in used]


def open_package(reference: str, store: PackageStore | None = None) -> PackageFile:
    """A package by file path or by packageId from the local store."""
    path = Path(reference)
    if not path.is_file():
        if not reference.startswith("pkg_"):
            raise PackageUnreadable(f"{reference}: no such package file or packageId")
        stored = (store or PackageStore()).get(reference)
        if stored is None:
            raise PackageUnreadable(f"{reference}: no package with this id in the local store")
        path = stored.path
    package = PackageFile(path)
    package.sums  # noqa: B018 - verify now, before anything is sent anywhere
    return package
