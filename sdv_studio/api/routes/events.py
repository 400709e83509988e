"""WS /api/deployments/{deploymentId}/events: one deployment's events in order, from the first, then live.

Each message is a core event as JSON (``kind``: progress | log | wave | finished) with ``seq`` counting
from 0; the server closes with 1000 after ``finished``. A deployment this server no longer holds in
memory is replayed from its record: each device's last state, each wave's, then ``finished``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from typing import cast

from fastapi import APIRouter, WebSocket

from sdv_studio.api.context import context
from sdv_studio.api.websocket import refuse, stream
from sdv_studio.core.deploy.events import (
    DeploymentEvent,
    DeploymentFinished,
    DeviceProgress,
    WaveChanged,
    event_to_json,
)
from sdv_studio.models.deployment import Deployment

router = APIRouter()


async def _from_record(record: Deployment) -> AsyncGenerator[DeploymentEvent, None]:
    for row in record.devices:
        yield DeviceProgress(record.deployment_id, row.device_id, row.stage, row.progress, row.status, row.message)
    for wave in record.waves or []:
        yield WaveChanged(record.deployment_id, wave.index, wave.devices, wave.status, wave.failed)
    if record.status in ("completed", "failed", "cancelled", "interrupted"):
        yield DeploymentFinished(record.deployment_id, record.status)


async def _send_all(ws: WebSocket, events: AsyncGenerator[DeploymentEvent, None]) -> None:
    async with contextlib.aclosing(events):  # a follower that stops early lets go of the hub at once
        seq = 0
        async for event in events:
            await ws.send_json({"seq": seq, **event_to_json(event)})
            seq += 1



@router.websocket("/api/deployments/{deployment_id}/events")
async def deployment_events(ws: WebSocket, deployment_id: str) -> None:
    deployments = context(ws).deployments
    run = deployments.run(deployment_id)
    events: AsyncGenerator[DeploymentEvent, None]
    if run is not None:
        # follow() is an async generator (typed as an iterator): closing it releases the hub at once.
        events = cast(AsyncGenerator[DeploymentEvent, None], run.hub.follow())
    else:
        try:
            events = _from_record(deployments.records.load(deployment_id))
        except (KeyError, ValueError):
            missing = f"no deployment {deployment_id!r}"
            await refuse(ws, 404, missing, [f"deploymentId: {missing}"])
            return
    # The deployment goes on whatever happens here: this only stops following it.
    await stream(ws, _send_all(ws, events), close_code=1000)
