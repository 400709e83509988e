"""The API served over real HTTP from a thread: uvicorn on an ephemeral 127.0.0.1 port.

The listening socket is made in the caller's network namespace (so clients reach it on loopback);
``netns`` optionally moves the server's event loop thread elsewhere first, e.g. onto the rig's LAN,
so the SSH connections and sweeps it makes go there.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import httpx

from sdv_studio.api.app import create_app
from sdv_studio.api.server import ApiServer, listen, make_server, url_of
from sdv_studio.api.settings import ApiSettings

TOKEN = "test-token-0123456789abcdef"


@dataclass
class RunningApi:
    url: str
    token: str
    server: ApiServer
    thread: threading.Thread
    errors: list[BaseException] = field(default_factory=list)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.auth, timeout=60, **kwargs)  # type: ignore[arg-type]

    def stop(self, timeout: float = 60) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the API server did not stop"


@contextlib.contextmanager
def running_api(settings: ApiSettings, netns: Callable[[], AbstractContextManager[None]] | None = None,
                ) -> Iterator[RunningApi]:
    sock = listen("127.0.0.1", 0)
    server = make_server(create_app(settings))
    ready = threading.Event()
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            with netns() if netns else contextlib.nullcontext():
                asyncio.run(server.serve(sockets=[sock]))
        except BaseException as exc:  # surfaced by the fixture, not lost in the thread
            errors.append(exc)
        finally:
            ready.set()

    thread = threading.Thread(target=serve, name="api-server", daemon=True)
    api = RunningApi(url_of(sock, None), settings.token, server, thread, errors)
    thread.start()
    for _ in range(600):  # bounded: 60 s
        if server.started or ready.is_set():
            break
        ready.wait(0.1)
    if errors or not server.started:
        raise RuntimeError(f"the API server did not start: {errors}")
    try:
        yield api
    finally:
        if thread.is_alive():
            api.stop()
        sock.close()
    if errors:
        raise errors[0]
