"""The local package store: packages by id in the user's data folder, for deploy and the API."""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from sdv_studio import paths

_ID = re.compile(r"pkg_[0-9a-f]{16}")


@dataclass(frozen=True)
class StoredPackage:
    package_id: str
    path: Path
    checksum: str  # "sha256:<hex>"
    size: int
    created_at: str  # ISO 8601, when it first entered the store
    name: str
    version: str

    def to_json_dict(self) -> dict[str, object]:
        """The CLI's and API's shape: packageId, path, checksum, size, createdAt (+ name, version)."""
        data = asdict(self)
        return {"packageId": data["package_id"], "path": str(self.path), "checksum": self.checksum,
                "size": self.size, "createdAt": self.created_at, "name": self.name,
                "version": self.version}


class PackageStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or paths.data_dir() / "packages"
        self.root.mkdir(parents=True, exist_ok=True)

    def _meta(self, package_id: str) -> Path:
        return self.root / f"{package_id}.json"

    def archive_path(self, package_id: str) -> Path:
        return self.root / f"{package_id}.tar.gz"

    def add(self, archive: Path, package: StoredPackage) -> StoredPackage:
        """Keeps a copy of ``archive`` under its id; a package already there keeps its createdAt."""
        existing = self.get(package.package_id)
        target = self.archive_path(package.package_id)
        if existing is not None and existing.checksum == package.checksum:
            return existing
        if archive.resolve() != target.resolve():
            partial = target.with_suffix(f".{os.getpid()}.partial")
            shutil.copyfile(archive, partial)
            os.replace(partial, target)
        stored = StoredPackage(**{**asdict(package), "path": target})
        meta = stored.to_json_dict()
        partial_meta = self._meta(package.package_id).with_suffix(".partial")
        partial_meta.write_text(json.dumps(meta, indent=2))
        os.replace(partial_meta, self._meta(package.package_id))
        return stored

    def get(self, package_id: str) -> StoredPackage | None:
        if not _ID.fullmatch(package_id):
            return None
        try:
            meta = json.loads(self._meta(package_id).read_text())
        except (OSError, ValueError):
            return None
        path = self.archive_path(package_id)
        if not path.is_file():
            return None
        try:
            return StoredPackage(package_id=meta["packageId"], path=path, checksum=meta["checksum"],
                                 size=meta["size"], created_at=meta["createdAt"], name=meta["name"],
                                 version=meta["version"])
        except (KeyError, TypeError):  # metadata damaged by hand or a crash: as if never stored
            return None

    def list(self) -> list[StoredPackage]:
        found = (self.get(p.name.removesuffix(".json")) for p in sorted(self.root.glob("pkg_*.json")))
        return sorted((p for p in found if p is not None), key=lambda p: p.created_at)

    def remove(self, package_id: str) -> bool:
        if self.get(package_id) is None:
            return False
        self.archive_path(package_id).unlink(missing_ok=True)
        self._meta(package_id).unlink(missing_ok=True)
        return True


def is_package_id(value: str) -> bool:
    return bool(_ID.fullmatch(value))
