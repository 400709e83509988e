"""WS /api/devices/{deviceId}/signals?path=…: a device's signal values as they change.

Through the SSH connection to the device (a forwarded channel to its databroker), the values of the
paths asked for (and with ``app``, the signals its package lists, on the databroker it talks to),
each a JSON message ``{"seq", "kind", "deviceId", ...}`` (core.monitor.event_to_json): ``link-up``,
``subscribed``, ``signal`` (``path, value, timestamp, received``), ``broker-down``, ``link-down``.
A lost link is reached again by itself; the stream ends when the client leaves, or with
``link-down`` and ``retryIn: null`` when the device refuses us for good (close 1011).

A plain GET of the same path answers 426 and documents the WebSocket in the OpenAPI document.
"""

from __future__ import annotations

import contextlib
import re
from typing import Annotated

from fastapi import APIRouter, Path, Query, WebSocket
from fastapi.responses import JSONResponse

from sdv_studio.api.context import ApiContext, context
from sdv_studio.api.errors import ApiError, field_named, status_for
from sdv_studio.api.models import ErrorBody
from sdv_studio.api.websocket import refuse, stream
from sdv_studio.core.deploy.service import DeviceRef
from sdv_studio.core.deploy.targets import UnknownDevice, resolve_device
from sdv_studio.core.errors import Problems
from sdv_studio.core.monitor import LinkDown, Watch, event_to_json, monitor_device
from sdv_studio.models.package import check_name

router = APIRouter(prefix="/api/devices", tags=["devices"])
MAX_PATHS = 100
_VSS_PATH = re.compile(r"Vehicle(\.[A-Za-z0-9_]+)+")
_BROKER = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})")

DevicePath = Annotated[str, Path(max_length=300, description="a saved device's id, a discovered device's id "
                                 "(its address), [USER@]HOST[:PORT], or 'local' for this computer")]
Paths = Annotated[list[str], Query(max_length=MAX_PATHS, description="a VSS path to stream (repeatable)")]
App = Annotated[str | None, Query(max_length=63, description="an app on the device: also the signals its package "
                                                             "lists, on the databroker it talks to")]
Broker = Annotated[str | None, Query(max_length=300, description="HOST:PORT of the databroker as the device sees "
                                                                 "it (default: the app's, else 127.0.0.1:55555)")]


def _problems(paths: list[str], app: str | None, broker: str | None) -> list[str]:
    problems = [f"path: {p!r}: expected a VSS path such as Vehicle.Speed" for p in paths if not _VSS_PATH.fullmatch(p)]
    if len(paths) > MAX_PATHS:
        problems.append(f"path: at most {MAX_PATHS}")
    if not paths and not app:
        problems.append("path: name at least one signal (or app)")
    if app is not None:
        try:
            check_name(app)
        except ValueError as exc:
            problems.append(f"app: {exc}")
    match = _BROKER.fullmatch(broker) if broker is not None else None
    if broker is not None and (match is None or not 0 < int(match.group(2)) < 65536):
        problems.append(f"broker: {broker!r}: expected HOST:PORT")
    return problems


@router.get("/{device_id}/signals", status_code=426, responses={
    422: {"model": ErrorBody}, 426: {"model": ErrorBody, "description": "this is a WebSocket (see the summary)"}},
    summary="WebSocket: the device's signal values as they change (connect with ws://, not GET)",
    description=__doc__)
async def signals_over_http(device_id: DevicePath, path: Paths = [], app: App = None,  # noqa: B006
                            broker: Broker = None) -> JSONResponse:
    problems = _problems(path, app, broker)
    if problems:
        raise ApiError(422, "invalid request", problems)
    raise ApiError(426, "this is a WebSocket: connect with ws://", [
        f"{device_id}: open ws://…/api/devices/{{deviceId}}/signals?path=… with the bearer token"],
        headers={"Upgrade": "websocket", "Connection": "Upgrade"})


@router.websocket("/{device_id}/signals")
async def signals(ws: WebSocket, device_id: DevicePath, path: Paths = [], app: App = None,  # noqa: B006
                  broker: Broker = None) -> None:
    ctx = context(ws)
    problems = _problems(path, app, broker)
    if problems:
        await refuse(ws, 422, "invalid request", problems)
        return
    try:
        with field_named("--device", "deviceId"):
            device = resolve_device(device_id, ctx.settings.connection, ctx.inventory)
    except UnknownDevice as exc:  # a path that names no device
        await refuse(ws, 404, f"no device {device_id!r}", exc.problems)
        return
    except Problems as exc:  # the inventory cannot be read
        await refuse(ws, status_for(exc), exc.summary, exc.problems)
        return
    watch = Watch(app=app, signals=tuple(dict.fromkeys(path)), metrics=False, broker=broker,
                  timeout=ctx.settings.device_timeout)
    # Given up on the device: its last message says why.
    await stream(ws, _send(ws, device, ctx, watch), close_code=1011)


async def _send(ws: WebSocket, device: DeviceRef, ctx: ApiContext, watch: Watch) -> None:
    seq = 0
    async with contextlib.aclosing(monitor_device(device, ctx.settings.trust, watch)) as events:
        async for event in events:
            await ws.send_json({"seq": seq, **event_to_json(event)})
            seq += 1
            if isinstance(event, LinkDown) and event.retry_in is None:
                return
