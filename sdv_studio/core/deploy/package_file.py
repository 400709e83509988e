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

from pydantic_core import PydanticCustomError

from sdv_studio.core.errors import InvalidInput
from sdv_studio.core.packaging.store import PackageStore
from sdv_studio.models.package import check_name, check_version

# Entries a package (format 2) carries per (Python, arch); a device is sent only its own.
PER_COMBINATION = ("wheels/", "requirements/")


class PackageUnreadable(InvalidInput):
    """The file or id given is not a package this computer can read, or its contents are damaged."""


@dataclass(frozen=True)
class ReadLimits:
    """What a package may hold. A package comes from outside (a colleague, a download): these bound what
    reading it can cost, so a small archive that expands to gigabytes is refused from its headers,
    before its contents are read. A fleet package with the Velocitas SDK's wheels for six Pythons on
    two architectures is about 150 MB expanded at a ratio under 4."""

    members: int = 20_000
    member_bytes: int = 512 * 2**20
    total_bytes: int = 2**30
    ratio: int = 100  # expanded / compressed, checked once the expanded size passes ratio_floor
    ratio_floor: int = 64 * 2**20
    index_bytes: int = 4 * 2**20  # SHA256SUMS


def major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _entry_name(name: str) -> str | None:
    """The path inside the package, or None for a name that could point outside a folder."""
    clean = name.removeprefix("./")
    parts = clean.split("/")
    if not clean or clean.startswith("/") or "\\" in clean or any(p in ("", ".", "..") for p in parts):
        return None
    return clean


@dataclass
class PackageFile:
    path: Path
    limits: ReadLimits = ReadLimits()

    @cached_property
    def entries(self) -> dict[str, bytes]:
        """The package's files listed in SHA256SUMS (and SHA256SUMS itself), by path inside the package.

        Two passes: the headers first, against the limits, then only the listed files' contents."""
        try:
            listed = self._listed()
            out: dict[str, bytes] = {}
            with tarfile.open(self.path, "r:gz") as tar:
                for member in tar:
                    name = _entry_name(member.name)
                    if member.isfile() and name is not None and (name in listed or name == "SHA256SUMS"):
                        handle = tar.extractfile(member)
                        if handle is not None:
                            out[name] = handle.read(member.size)
            return out
        except (OSError, tarfile.TarError, EOFError) as exc:
            raise PackageUnreadable(f"{self.path}: not a readable package ({exc})") from exc

    def _listed(self) -> set[str]:
        """The names SHA256SUMS lists, after every member's header passed the limits."""
        limits, compressed = self.limits, max(self.path.stat().st_size, 1)
        count = total = 0
        sums: bytes | None = None
        with tarfile.open(self.path, "r:gz") as tar:
            for member in tar:
                count += 1
                if count > limits.members:
                    raise PackageUnreadable(f"{self.path}: more than {limits.members} entries; refused")
                if not member.isfile():
                    continue
                if member.size > limits.member_bytes:
                    raise PackageUnreadable(f"{self.path}: {member.name} expands to {member.size} bytes, over the "
                                            f"limit of {limits.member_bytes}; refused")
                total += member.size
                if total > limits.total_bytes:
                    raise PackageUnreadable(f"{self.path}: expands to more than {limits.total_bytes} bytes; refused")
                if total > limits.ratio_floor and total > limits.ratio * compressed:
                    raise PackageUnreadable(f"{self.path}: expands over {limits.ratio} times its size "
                                            f"({compressed} bytes to more than {total}); refused")
                if _entry_name(member.name) == "SHA256SUMS":
                    if member.size > limits.index_bytes:
                        raise PackageUnreadable(f"{self.path}: SHA256SUMS is over {limits.index_bytes} bytes; refused")
                    handle = tar.extractfile(member)
                    sums = handle.read(member.size) if handle is not None else None
        if sums is None:
            raise PackageUnreadable(f"{self.path}: no SHA256SUMS; not an SDV Studio package")
        return set(_sums_table(self.path, sums))

    @cached_property
    def sums(self) -> dict[str, str]:
        """path -> sha256 from SHA256SUMS, verified against the bytes."""
        if "SHA256SUMS" not in self.entries:
            raise PackageUnreadable(f"{self.path}: no SHA256SUMS; not an SDV Studio package")
        table = _sums_table(self.path, self.entries["SHA256SUMS"])
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
        try:
            loaded = json.loads(data)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError both are
            raise PackageUnreadable(f"{self.path}: manifest.json is not JSON ({exc})") from exc
        if not isinstance(loaded, dict):
            raise PackageUnreadable(f"{self.path}: manifest.json is not an object")
        # The name and version reach terminals, folder names and records: checked as the packager made them.
        for field, check in (("name", check_name), ("version", check_version)):
            try:
                value = loaded.get(field)
                check(value if isinstance(value, str) else "")
            except PydanticCustomError as exc:
                raise PackageUnreadable(f"{self.path}: manifest.json: {field} {exc.message()}") from exc
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
    package.manifest  # noqa: B018
    return package


def _sums_table(path: Path, data: bytes) -> dict[str, str]:
    """SHA256SUMS as path -> hex digest; a line naming a path outside the package makes it unreadable."""
    table: dict[str, str] = {}
    try:
        text = data.decode()
    except UnicodeDecodeError as exc:
        raise PackageUnreadable(f"{path}: SHA256SUMS is not text; the file is damaged") from exc
    for number, line in enumerate(text.splitlines(), 1):
        digest, _, name = line.partition("  ")
        if not name:
            continue
        clean = _entry_name(name)
        if clean is None or len(digest) != 64:
            raise PackageUnreadable(f"{path}: SHA256SUMS:{number}: not a hash and a path inside the package")
        table[clean] = digest
    return table
