"""Reproducible .tar.gz packages: same entries in, same bytes out.

Entries sorted by path, mtime 0, uid/gid 0, empty owner names, modes 0644/0755, gzip mtime 0 and
no file name in the gzip headers (wheels in stored gzip members, the rest compressed);
``SHA256SUMS`` lists every other entry.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import tarfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

SUMS = "SHA256SUMS"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Entry:
    """A file in the package: bytes in memory, or a file on disk (wheels) read while writing."""

    data: bytes | None = None
    path: Path | None = None
    executable: bool = False

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sums_text(digests: Mapping[str, str]) -> bytes:
    return "".join(f"{digests[name]}  {name}\n" for name in sorted(digests)).encode()


def manifest_bytes(manifest: Mapping[str, object]) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def package_id(entries: Mapping[str, Entry], manifest: Mapping[str, object],
               digest_of: Callable[[str, Entry], str]) -> str:
    """``pkg_`` + 16 hex of the SHA-256 of the package's SHA256SUMS (which covers manifest.json)."""
    digests = {name: digest_of(name, entry) for name, entry in entries.items()}
    digests[MANIFEST] = hashlib.sha256(manifest_bytes(manifest)).hexdigest()
    return "pkg_" + hashlib.sha256(sums_text(digests)).hexdigest()[:16]


def write_archive(entries: Mapping[str, Entry], dest: Path, digests: Mapping[str, str]) -> str:
    """Writes the archive (plus SHA256SUMS) atomically; returns the archive's sha256 hex."""
    members = dict(entries)
    members[SUMS] = Entry(data=sums_text(digests))
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
    with partial.open("wb") as raw:
        gz = _GzipMembers(raw)
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
            for name in sorted(members):
                # Wheels are deflated already: level 6 saves ~1% of their size for seconds of CPU
                # per hundred MB, so they are stored; the rest is compressed.
                gz.level(0 if name.endswith(".whl") else 6)
                data = members[name].read()
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mtime = 0
                info.mode = 0o755 if members[name].executable else 0o644
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                tar.addfile(info, io.BytesIO(data))
        gz.close()
    os.replace(partial, dest)
    return sha256_file(dest)


class _GzipMembers:
    """A gzip file written as consecutive members (RFC 1952; every gzip reader joins them), so
    each stretch of the tar stream has its own compression level. Headers carry no name, mtime 0."""

    _HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.position = 0
        self._level = 6
        self._deflate: Any = None
        self._crc = self._size = 0

    def level(self, level: int) -> None:
        if level != self._level:
            self._end_member()
            self._level = level

    def write(self, data: bytes) -> int:
        if self._deflate is None:
            self.raw.write(self._HEADER)
            self._deflate = zlib.compressobj(self._level, zlib.DEFLATED, -zlib.MAX_WBITS)
            self._crc = self._size = 0
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        self.position += len(data)
        self.raw.write(self._deflate.compress(data))
        return len(data)

    def tell(self) -> int:
        return self.position

    def close(self) -> None:
        self._end_member()

    def _end_member(self) -> None:
        if self._deflate is not None:
            self.raw.write(self._deflate.flush())
            self.raw.write(struct.pack("<II", self._crc, self._size & 0xFFFFFFFF))
            self._deflate = None
