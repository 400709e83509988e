"""Deployment records on disk, so history survives a restart of the app, CLI or API."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from sdv_studio import paths
from sdv_studio.models.deployment import Deployment

_ID = re.compile(r"deploy_[0-9a-f]{12,32}")


class RecordUnreadable(ValueError):
    """A record file exists but cannot be read or parsed (damaged, a folder, no permission)."""


class DeploymentRecords:
    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or paths.data_dir() / "deployments"
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, deployment_id: str) -> Path:
        if not _ID.fullmatch(deployment_id):
            raise KeyError(deployment_id)
        return self.folder / f"{deployment_id}.json"

    def save(self, deployment: Deployment) -> None:
        """Atomically: a reader never sees half a record, a crash never leaves one."""
        target = self._path(deployment.deployment_id)
        data = json.dumps(deployment.to_json_dict(), indent=2).encode()
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
            return Deployment.model_validate_json(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise RecordUnreadable(f"{path}: {exc}") from exc

    def all(self) -> list[Deployment]:
        """Newest first; unreadable records are skipped rather than failing the listing."""
        found = []
        for path in self.folder.glob("deploy_*.json"):
            try:
                found.append(Deployment.model_validate_json(path.read_bytes()))
            except (OSError, ValueError):
                continue
        return sorted(found, key=lambda d: d.start_time, reverse=True)
