"""The hand-off endpoint: a small HTTP/1.1 server on 127.0.0.1 for ``POST /api/handoff``.

Only pages of allowed origins get anywhere: their CORS and Private Network Access preflights are
answered, their requests checked and delivered; any other origin gets 403 and nothing is delivered.
The ``Host`` must be the loopback address, so a page cannot reach it under a name it controls (DNS
rebinding). One request per connection, with bounded sizes and time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus

from sdv_studio.core.errors import InvalidInput
from sdv_studio.core.handoff.origins import OriginPolicy
from sdv_studio.core.handoff.refs import HeldHandoffs
from sdv_studio.core.handoff.request import MAX_BODY_BYTES, Handoff, HandoffError, parse_handoff

log = logging.getLogger(__name__)

HOST = "127.0.0.1"  # never anything else: the endpoint is for pages in this machine's browser
PATH = "/api/handoff"
REF_PATH = "/api/handoff/ref"
MAX_HEAD_BYTES = 16 * 1024
READ_TIMEOUT = 10.0
# A body refused for its size is read and dropped up to this much after the 413, so the page sees the
# answer: closing with its bytes unread would reset the connection before the browser reads it.
MAX_DISCARD_BYTES = 4 * MAX_BODY_BYTES



@dataclass(frozen=True)
class Queued:
    """The window is busy: the hand-off waits and is shown when the current work ends."""

    message: str  # for the page: why it waits, and that a newer hand-off of its own replaces it
    replaced: bool  # it replaced one this origin handed over before, still waiting


# Given a hand-off, the app shows it (None) or queues it until it can.
Deliver = Callable[[Handoff], Queued | None]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Response:
    status: HTTPStatus
    body: dict[str, object] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        payload = json.dumps(self.body).encode() if self.body else b""
        head = [f"HTTP/1.1 {self.status.value} {self.status.phrase}", "Connection: close", "Cache-Control: no-store",
                "Vary: Origin", f"Content-Length: {len(payload)}"]
        if payload:
            head.append("Content-Type: application/json")
        head += [f"{name}: {value}" for name, value in self.headers.items()]
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload


class HttpError(InvalidInput):
    """A request the endpoint refuses; answered with ``status`` and its one problem line."""

    def __init__(self, status: HTTPStatus, problem: str, unread: int = 0) -> None:
        super().__init__(problem)
        self.response = Response(status, {"errors": [problem]})
        self.unread = unread  # the body's bytes still on their way


class HandoffServer:
    def __init__(self, policy: OriginPolicy, deliver: Deliver, port: int, held: HeldHandoffs | None = None) -> None:
        self.policy = policy
        self.deliver = deliver
        self.held = held or HeldHandoffs()
        self._port = port
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The port it listens on (the one the OS picked when asked for 0)."""
        if self._server is None:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}{PATH}"

    async def start(self) -> None:
        """Listens; raises OSError when the port is taken. Bound here, not by start_server's host lookup
        in the executor: the window's first moments keep that busy, and the endpoint is up at once."""
        listener = socket.create_server((HOST, self._port))
        self._server = await asyncio.start_server(self._serve, sock=listener, limit=MAX_HEAD_BYTES)

    def close(self) -> None:
        """Stops listening at once (also when the loop is about to stop); a request in flight is dropped."""
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            unread = 0
            try:
                request = await asyncio.wait_for(_read_request(reader), READ_TIMEOUT)
                response = self.respond(request)
            except HttpError as exc:
                response, unread = exc.response, exc.unread
            except TimeoutError:
                response = Response(HTTPStatus.REQUEST_TIMEOUT, {"errors": ["request: too slow"]})
            writer.write(response.encode())
            await writer.drain()
            if 0 < unread <= MAX_DISCARD_BYTES:
                await asyncio.wait_for(_discard(reader, unread), READ_TIMEOUT)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass  # the page went away, or stopped sending what it announced; nothing more to say
        finally:
            writer.close()

    def respond(self, request: Request) -> Response:
        origin = request.headers.get("origin")
        if not self._host_is_loopback(request.headers.get("host", "")):
            return Response(HTTPStatus.FORBIDDEN, {"errors": [f"host: must be {HOST}:{self.port}"]})
        if request.path not in (PATH, REF_PATH):
            return Response(HTTPStatus.NOT_FOUND, {"errors": [f"path: {request.path} is not an endpoint"]})
        if not self.policy.allows(origin):
            log.warning("hand-off refused: origin %s is not allowed", origin or "(none)")
            return Response(HTTPStatus.FORBIDDEN, {"errors": [f"origin: {origin or '(none)'} may not hand off code"]})
        assert origin is not None
        cors = {"Access-Control-Allow-Origin": origin}
        if request.method == "OPTIONS":
            return Response(HTTPStatus.NO_CONTENT, headers={**cors, **_preflight(request.headers)})
        if request.method != "POST":
            return Response(HTTPStatus.METHOD_NOT_ALLOWED, {"errors": [f"method: {request.method} (use POST)"]},
                            {**cors, "Allow": "POST, OPTIONS"})
        try:
            handoff = parse_handoff(request.body, origin)
        except HandoffError as exc:
            return Response(HTTPStatus.BAD_REQUEST, {"errors": exc.problems}, cors)
        if request.path == REF_PATH:
            return Response(HTTPStatus.CREATED, {"ref": self.held.put(handoff)}, cors)
        queued = self.deliver(handoff)
        if queued is not None:
            log.info("hand-off of %r from %s waits for the window", handoff.name, origin)
            return Response(HTTPStatus.ACCEPTED, {"status": "queued", "message": queued.message,
                                                  "replaced": queued.replaced,
                                                  "problems": handoff.syntax_problems()}, cors)
        log.info("hand-off of %r from %s awaits the user", handoff.name, origin)
        return Response(HTTPStatus.ACCEPTED, {"status": "awaitingConfirmation",
                                              "problems": handoff.syntax_problems()}, cors)

    def _host_is_loopback(self, host: str) -> bool:
        return host.lower() in (f"{HOST}:{self.port}", f"localhost:{self.port}")


def _preflight(headers: dict[str, str]) -> dict[str, str]:
    answer = {"Access-Control-Allow-Methods": "POST, OPTIONS", "Access-Control-Allow-Headers": "Content-Type",
              "Access-Control-Max-Age": "600"}
    # Chrome's Private Network Access: a public page asks before it may reach this machine.
    if headers.get("access-control-request-private-network", "").lower() == "true":
        answer["Access-Control-Allow-Private-Network"] = "true"
    return answer


async def _read_request(reader: asyncio.StreamReader) -> Request:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError as exc:
        raise HttpError(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "headers: too large") from exc
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HttpError(HTTPStatus.BAD_REQUEST, "request line: not HTTP/1.x")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, sep, value = line.partition(":")
            if not sep:
                raise HttpError(HTTPStatus.BAD_REQUEST, f"header: {line[:40]!r} has no ':'")
            headers[name.strip().lower()] = value.strip()
    method, path = parts[0], parts[1].split("?", 1)[0]
    if "transfer-encoding" in headers:
        raise HttpError(HTTPStatus.LENGTH_REQUIRED, "body: send it with Content-Length")
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError:
        length = -1
    if length < 0:
        raise HttpError(HTTPStatus.BAD_REQUEST, "content-length: not a number of bytes")
    if length > MAX_BODY_BYTES:
        raise HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body: larger than {MAX_BODY_BYTES // 1024} KB",
                        unread=length)
    body = await reader.readexactly(length) if length > 0 else b""
    return Request(method, path, headers, body)


async def _discard(reader: asyncio.StreamReader, size: int) -> None:
    while size > 0:
        chunk = await reader.read(min(size, 64 * 1024))
        if not chunk:
            return
        size -= len(chunk)
