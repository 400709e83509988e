"""Reach a TCP port on a device's own loopback through an SSH connection already open.

Each connection to a local listener (127.0.0.1, an ephemeral port, on the workstation) becomes a
``direct-tcpip`` channel to HOST:PORT as the device sees it; nothing is opened on the device. A
local listener, rather than a socket pair, because gRPC only dials addresses. Threads, not the
event loop, carry the bytes: the blocking paramiko channel then never stalls the loop or its executor.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Iterator

import paramiko

_POLL = 0.25  # seconds between checks of the stop flag
_TICK = 0.005  # seconds between looks at the channel: a probe's few round trips stay quick
_CHUNK = 65536


def _close(channel: paramiko.Channel) -> None:
    # Closing tells the device; on a connection that died meanwhile there is no one to tell.
    with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
        channel.close()


def _pump(client: socket.socket, channel: paramiko.Channel, stop: threading.Event) -> None:
    try:
        _relay(client, channel, stop)
    finally:
        client.close()
        _close(channel)


def _relay(client: socket.socket, channel: paramiko.Channel, stop: threading.Event) -> None:
    # The channel is polled (recv_ready), never select()ed: its fileno() is a pipe paramiko closes
    # when the channel closes, and a select or a buffered read racing that close can reach a
    # descriptor number already reused by another connection's socket.
    while not stop.is_set():
        try:
            readable, _, _ = select.select([client], [], [], _TICK)
            if readable:
                data = client.recv(_CHUNK)
                if not data:
                    return
                channel.sendall(data)
            while channel.recv_ready():
                client.sendall(channel.recv(_CHUNK))
            if channel.closed or channel.eof_received:
                return
        # The peer or the connection went away (ValueError: select() on a socket closed under us).
        except (OSError, ValueError, EOFError, paramiko.SSHException):
            return


def _serve(listener: socket.socket, transport: paramiko.Transport, remote: tuple[str, int],
           stop: threading.Event, timeout: float) -> None:
    while not stop.is_set():
        try:
            client, origin = listener.accept()
        except TimeoutError:
            continue
        except OSError:  # the listener was closed
            return
        try:
            channel = transport.open_channel("direct-tcpip", remote, origin, timeout=timeout)
        except (paramiko.SSHException, OSError, EOFError):
            client.close()  # the device refused or cannot reach the port: the caller sees a closed port
            continue
        threading.Thread(target=_pump, args=(client, channel, stop), daemon=True,
                         name=f"ssh-forward-{remote[1]}").start()


@contextlib.contextmanager
def local_forward(transport: paramiko.Transport, remote_port: int, remote_host: str = "127.0.0.1",
                  timeout: float = 5.0) -> Iterator[int]:
    """The local port that leads to ``remote_host:remote_port`` on the device, until the block ends.

    The listener is made in the calling thread, so in that thread's network namespace."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    stop = threading.Event()
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        listener.settimeout(_POLL)
        server = threading.Thread(target=_serve, args=(listener, transport, (remote_host, remote_port), stop, timeout),
                                  daemon=True, name=f"ssh-forward-{remote_port}")
        server.start()
        yield listener.getsockname()[1]
    finally:
        stop.set()
        listener.close()
