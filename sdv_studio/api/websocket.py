"""What the API's WebSockets share: refusing a handshake, accepting it with the bearer subprotocol
a browser offered, and streaming until either side ends."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse

from sdv_studio.api.auth import SUBPROTOCOL
from sdv_studio.api.errors import error_body


async def refuse(ws: WebSocket, status: int, detail: str, problems: list[str]) -> None:
    """The handshake answered with an HTTP error where the server can, else closed with 4000 + status."""
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(JSONResponse(error_body(detail, problems), status))
    else:
        await ws.close(code=4000 + status)


async def stream(ws: WebSocket, sending: Coroutine[Any, Any, None], close_code: int) -> None:
    """Accept, then run ``sending`` until it ends (then close with ``close_code``) or the client leaves."""
    # A browser that offered subprotocols fails the handshake unless the server picks one.
    await ws.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in ws.scope.get("subprotocols", []) else None)
    sender = asyncio.create_task(sending)
    watcher = asyncio.create_task(_until_disconnect(ws))
    done, pending = await asyncio.wait({sender, watcher}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await task
    if sender in done and sender.exception() is None:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await ws.close(code=close_code)


async def _until_disconnect(ws: WebSocket) -> None:
    """Clients send nothing; reading notices when they leave (or the server shuts down)."""
    with contextlib.suppress(WebSocketDisconnect):
        while (await ws.receive())["type"] != "websocket.disconnect":
            pass
