"""Deployment records on disk, so history survives a restart of the app, CLI or API."""

from __future__ import annotations

import fcntl
import os
import re
import tempfile
from pathlib import Path

from sdv_studio import paths
from sdv_studio.core.errors import OperationFailed
from sdv_studio.models.deployment import Deployment

_ID = re.compile(r"deploy_[0-9a-f]{12,32}")


class RecordUnreadable(OperationFailed, ValueError):
    """A record file exists but cannot be read or parsed (damaged, a folder, no permission)."""


class DeploymentRecords:
    """Each running deployment holds an flock on its record's lock file for as long as its program
    lives: the kernel drops it when the program dies however it dies, so a record still "in
    progress" whose lock nobody holds was interrupted, and is marked so when next read."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or paths.data_dir() / "deployments"
        self.folder.mkdir(parents=True, exist_ok=True)
        self._claims: dict[str, int] = {}

    def _lock_path(self, deployment_id: str) -> Path:
        return self.folder / f".{deployment_id}.lock"

    def claim(self, deployment_id: str) -> None:
        """This process runs the deployment (before its first save)."""
        fd = os.open(self._lock_path(deployment_id), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._claims[deployment_id] = fd

    def release(self, deployment_id: str) -> None:
        """The deployment has its final record (after the last save)."""
        fd = self._claims.pop(deployment_id, None)
        if fd is not None:
            self._lock_path(deployment_id).unlink(missing_ok=True)
            os.close(fd)

    def _abandoned(self, deployment_id: str) -> bool:
        if deployment_id in self._claims:
            return False
        try:
            fd = os.open(self._lock_path(deployment_id), os.O_RDWR)
        except FileNotFoundError:
            return True  # never claimed (an older record) or released without a final save
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        finally:
            os.close(fd)
        return True

    def _settled(self, deployment: Deployment) -> Deployment:
        if deployment.status in ("pending", "in-progress") and self._abandoned(deployment.deployment_id):
            deployment.interrupt()
            self.save(deployment)
            self._lock_path(deployment.deployment_id).unlink(missing_ok=True)
        return deployment

    def _path(self, deployment_id: str) -> Path:
        if not _ID.fullmatch(deployment_id):
            raise KeyError(deployment_id)
        return self.folder / f"{deployment_id}.json"

    def save(self, deployment: Deployment) -> None:
        """Atomically: a reader never sees half a record, a crash never leaves one."""
        self.write(deployment.deployment_id, self.encode(deployment))

    @staticmethod
    def encode(deployment: Deployment) -> bytes:
        """The record's bytes: pydantic's own encoder, ~10x quicker than json.dumps of a dict for
        the 48-device records a fleet deployment rewrites."""
        return deployment.model_dump_json(by_alias=True, exclude_none=True, indent=2).encode()

    def write(self, deployment_id: str, data: bytes) -> None:
        """Write an encoded record (from any thread), atomically."""
        target = self._path(deployment_id)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def changed(self, deployment: Deployment) -> None:
        """A deployment in flight changed (before its event goes out); its record is saved at most
        every DeploymentRun.SAVE_EVERY seconds. Nothing to do here: a cache of it hooks in."""

    def load(self, deployment_id: str) -> Deployment:
        path = self._path(deployment_id)
        if not path.exists():
            raise KeyError(deployment_id)
        try:
            deployment = Deployment.model_validate_json(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise RecordUnreadable(f"{path}: {exc}; the record is damaged: remove the file") from exc
        return self._settled(deployment)

    def all(self) -> list[Deployment]:
        """Newest first; unreadable records are skipped rather than failing the listing."""
        found = []
        for path in self.folder.glob("deploy_*.json"):
            try:
                found.append(self._settled(Deployment.model_validate_json(path.read_bytes())))
            except (OSError, ValueError):
                continue
        return sorted(found, key=lambda d: d.start_time, reverse=True)
