"""Deployments the server started: live runs for polling and streaming, and a cache of finished records.

A run is owned by the server, not by the request that created it: a client that disconnects leaves
it running; shutting the server down cancels what is still in flight and waits for it to settle.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict

from sdv_studio.core.deploy.orchestrator import DeploymentRun
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.models.deployment import Deployment

log = logging.getLogger(__name__)
KEEP_FINISHED = 64  # finished runs kept in memory, so a late WebSocket still gets every event
CACHE_RECORDS = 512  # finished records kept as ready-made JSON: GET is then a dictionary lookup
_SETTLED = ("completed", "failed", "cancelled")


class Deployments:
    def __init__(self, records: DeploymentRecords) -> None:
        self.records = records
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

    def snapshot(self, deployment_id: str) -> bytes:
        """The deployment as JSON: live while it runs, from its record after; KeyError when unknown."""
        run = self._live.get(deployment_id)
        if run is not None:
            return json.dumps(run.deployment.to_json_dict()).encode()
        cached = self._json.get(deployment_id)
        if cached is not None:
            return cached
        record = self.records.load(deployment_id)
        data = json.dumps(record.to_json_dict()).encode()
        if record.status in _SETTLED:  # a record still in progress belongs to another process: reread it
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
