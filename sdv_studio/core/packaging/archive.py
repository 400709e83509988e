"""Reproducible .tar.gz packages: same entries in, same bytes out.

Entries sorted by path, mtime 0, uid/gid 0, empty owner names, modes 0644/0755, gzip mtime 0 and
no file name in the gzip header; ``SHA256SUMS`` lists every other entry.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

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
    # compresslevel 6: wheels are already deflated, so higher levels only cost time.
    with partial.open("wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(members):
            data = members[name].read()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o755 if members[name].executable else 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    os.replace(partial, dest)
    return sha256_file(dest)
