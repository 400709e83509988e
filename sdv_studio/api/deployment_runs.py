"""Deployments the server started: live runs for polling and streaming, and their JSON, cached.

A run is owned by the server, not by the request that created it: a client that disconnects leaves
it running; shutting the server down cancels what is still in flight and waits for it to settle.

GET of a deployment is what clients poll, so its JSON is encoded once per change: the runs report
every change to their records (before publishing the event), and that, like saving, drops the cached
bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from sdv_studio.core.deploy.orchestrator import DeploymentRun
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.models.deployment import Deployment

log = logging.getLogger(__name__)
KEEP_FINISHED = 64  # finished runs kept in memory, so a late WebSocket still gets every event
CACHE_RECORDS = 512  # deployments kept as ready-made JSON: GET is then a dictionary lookup
_SETTLED = ("completed", "failed", "cancelled", "interrupted")


class _Records(DeploymentRecords):
    """The records this server's runs save through: each change and save tells who caches it."""

    def __init__(self, on_change: Callable[[str], None], folder: Path | None = None) -> None:
        super().__init__(folder)
        self._on_change = on_change

    def changed(self, deployment: Deployment) -> None:
        self._on_change(deployment.deployment_id)

    def write(self, deployment_id: str, data: bytes) -> None:
        try:
            super().write(deployment_id, data)
        finally:  # a failed write still follows a change in memory
            self._on_change(deployment_id)


class Deployments:
    def __init__(self, folder: Path | None = None) -> None:
        self.records: DeploymentRecords = _Records(self._changed, folder)
        self._live: dict[str, DeploymentRun] = {}
        self._finished: OrderedDict[str, DeploymentRun] = OrderedDict()
        self._json: OrderedDict[str, bytes] = OrderedDict()
        self._retirers: set[asyncio.Task[None]] = set()

    def add(self, run: DeploymentRun) -> None:
        self._live[run.deployment_id] = run
        task = asyncio.create_task(self._retire(run), name=f"retire {run.deployment_id}")
        self._retirers.add(task)
        task.add_done_callback(self._retirers.discard)

    async def _retire(self, run: DeploymentRun) -> None:
        try:
            await run.wait()
        except Exception:  # the orchestrator records device failures itself; this is a bug, keep serving
            log.exception("deployment %s ended abnormally", run.deployment_id)
        self._live.pop(run.deployment_id, None)
        self._finished[run.deployment_id] = run
        while len(self._finished) > KEEP_FINISHED:
            self._finished.popitem(last=False)

    def run(self, deployment_id: str) -> DeploymentRun | None:
        """A run this server started and still remembers (with its full event history)."""
        return self._live.get(deployment_id) or self._finished.get(deployment_id)

    def live(self) -> list[DeploymentRun]:
        return list(self._live.values())

    def _changed(self, deployment_id: str) -> None:
        self._json.pop(deployment_id, None)

    def snapshot(self, deployment_id: str) -> bytes:
        """The deployment as JSON: live while it runs, from its record after; KeyError when unknown."""
        cached = self._json.get(deployment_id)
        if cached is not None:
            return cached
        run = self._live.get(deployment_id)
        if run is not None:
            data = _encode(run.deployment)
        else:
            record = self.records.load(deployment_id)
            data = _encode(record)
            if record.status not in _SETTLED:  # in progress in another process: reread it every time
                return data
        self._json[deployment_id] = data
        while len(self._json) > CACHE_RECORDS:
            self._json.popitem(last=False)
        return data

    def load(self, deployment_id: str) -> Deployment:
        run = self.run(deployment_id)
        return run.deployment if run is not None else self.records.load(deployment_id)

    async def shutdown(self, timeout: float) -> None:
        """Cancel every deployment in flight and wait (bounded) until each has saved its record."""
        runs = self.live()
        for run in runs:
            run.cancel()
        if runs:
            log.warning("cancelling %d deployment(s) in flight", len(runs))
            await asyncio.wait([asyncio.ensure_future(run.wait()) for run in runs], timeout=timeout)
        for task in list(self._retirers):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _encode(deployment: Deployment) -> bytes:
    return json.dumps(deployment.to_json_dict(), separators=(",", ":")).encode()
