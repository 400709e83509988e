"""Reach a port on a rig device's loopback from this machine's loopback.

A service a deployment starts on a device (the fallback databroker) listens on the device's
127.0.0.1 only. Tests that speak to it with clients running here (threads of gRPC's own,
subprocesses in other venvs) connect to a local port instead; each connection is carried to
the device by a socket created inside the device's network namespace, where it stays.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType

from tests.rig.netns import inside_netns

CONNECT_TIMEOUT = 5.0


class LoopbackForward:
    """127.0.0.1:``port`` here -> 127.0.0.1:``target_port`` in network namespace ``netns``."""

    def __init__(self, netns: str, target_port: int) -> None:
        self._netns, self._target_port = netns, target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name=f"forward-{netns}", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            try:
                with inside_netns(self._netns):
                    upstream = socket.create_connection(("127.0.0.1", self._target_port), CONNECT_TIMEOUT)
            except OSError:
                client.close()  # the client sees the refusal as a dropped connection
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        self._listener.close()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def __enter__(self) -> LoopbackForward:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy until ``source`` ends, then end ``sink``'s sending side (the other pump ends its own)."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
