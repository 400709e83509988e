"""Bearer-token authentication for every HTTP request and WebSocket, checked before any route runs.

A middleware (not a per-route dependency) so that nothing, not the OpenAPI document, not a 404,
not a WebSocket handshake, is answered without the token.

Browsers cannot set headers on a WebSocket, so a handshake may carry the token as subprotocols
instead: ``Sec-WebSocket-Protocol: bearer, <token>`` (``new WebSocket(url, ["bearer", token])``).
The server then answers with the ``bearer`` subprotocol, never the token, and routes see the offered
subprotocols without it.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from sdv_studio import paths
from sdv_studio.api.errors import error_bytes

TOKEN_FILE = "api-token"
SUBPROTOCOL = "bearer"
_DENIED = error_bytes("missing or wrong bearer token", ["Authorization: send 'Authorization: Bearer <token>'"])


def token_path() -> Path:
    return paths.config_dir() / TOKEN_FILE


def load_or_create_token(path: Path | None = None) -> str:
    """The stored token, or a new one written once with 0600 permissions."""
    path = path or token_path()
    for _ in range(2):  # a second round only when another server wrote the file meanwhile
        try:
            token = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            token = None
        if token:
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)  # someone loosened it: a token readable by others is no secret
            return token
        if token == "":
            path.unlink()  # an empty file is no token
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two servers starting at once must not overwrite each other's freshly issued token.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        token = secrets.token_urlsafe(32)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(token + "\n")
        return token
    raise OSError(f"{path}: could not read or create the API token")


def bearer_matches(header: bytes | None, token: str) -> bool:
    if not header:
        return False
    scheme, _, value = header.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.strip().encode(), token.encode())


def subprotocol_token(offered: list[str], token: str) -> list[str] | None:
    """The offered subprotocols without the token when they are ``bearer, <token>``, else None."""
    if len(offered) < 2 or offered[0] != SUBPROTOCOL:
        return None
    if not hmac.compare_digest(offered[1].encode(), token.encode()):
        return None
    return [offered[0], *offered[2:]]


class BearerAuth:
    """401 for any request without ``Authorization: Bearer <token>`` (or, on a WebSocket, the subprotocols)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"authorization")
        if bearer_matches(header, self.token):
            await self.app(scope, receive, send)
            return
        if header is None and scope["type"] == "websocket":
            offered = subprotocol_token(scope.get("subprotocols", []), self.token)
            if offered is not None:
                await self.app({**scope, "subprotocols": offered}, receive, send)
                return
        headers = [(b"content-type", b"application/json"), (b"www-authenticate", b'Bearer realm="sdv-studio"'),
                   (b"content-length", str(len(_DENIED)).encode())]
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 401, "headers": headers})
            await send({"type": "http.response.body", "body": _DENIED})
        elif "websocket.http.response" in scope.get("extensions", {}):
            # The handshake is answered with a real 401, so clients can tell it from other failures.
            await send({"type": "websocket.http.response.start", "status": 401, "headers": headers})
            await send({"type": "websocket.http.response.body", "body": _DENIED})
        else:
            await send({"type": "websocket.close", "code": 1008})
