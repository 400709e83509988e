"""WS /api/deployments/{deploymentId}/events: one deployment's events in order, from the first, then live.

Each message is a core event as JSON (``kind``: progress | log | wave | finished) with ``seq`` counting
from 0; the server closes with 1000 after ``finished``. A deployment this server no longer holds in
memory is replayed from its record: each device's last state, each wave's, then ``finished``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import cast

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse

from sdv_studio.api.auth import SUBPROTOCOL
from sdv_studio.api.context import context
from sdv_studio.api.errors import error_body
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


async def _until_disconnect(ws: WebSocket) -> None:
    """Clients send nothing; reading notices when they leave (or the server shuts down)."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await ws.receive()


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
            body = error_body(f"no deployment {deployment_id!r}", [f"deploymentId: no deployment {deployment_id!r}"])
            if "websocket.http.response" in ws.scope.get("extensions", {}):
                await ws.send_denial_response(JSONResponse(body, 404))
            else:
                await ws.close(code=4404)
            return
    # A browser that offered subprotocols fails the handshake unless the server picks one.
    await ws.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in ws.scope.get("subprotocols", []) else None)
    sender = asyncio.create_task(_send_all(ws, events))
    watcher = asyncio.create_task(_until_disconnect(ws))
    # The deployment goes on whatever happens here: this only stops following it.
    done, pending = await asyncio.wait({sender, watcher}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await task
    if sender in done and sender.exception() is None:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await ws.close(code=1000)
