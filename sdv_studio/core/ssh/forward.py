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
_CHUNK = 65536


def _close(channel: paramiko.Channel) -> None:
    # Closing tells the device; on a connection that died meanwhile there is no one to tell.
    with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
        channel.close()


def _pump(client: socket.socket, channel: paramiko.Channel, stop: threading.Event) -> None:
    """Carries bytes both ways until either end closes or ``stop``: this thread the device's to the
    client, a second one the client's to the device, each blocked in its own read until data comes
    (a single thread polling both ends woke 200 times a second: six streamed devices' forwards cost
    a twentieth of a core doing nothing)."""
    up = threading.Thread(target=_carry_up, args=(client, channel, stop), daemon=True,
                          name=threading.current_thread().name + "-up")
    up.start()
    try:
        _carry_down(client, channel)
    finally:
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_RDWR)  # wakes the other thread's select
        up.join()
        client.close()
        _close(channel)


# The peer or the connection went away (ValueError: a socket closed under us).
_GONE = (OSError, ValueError, EOFError, paramiko.SSHException)


def _carry_down(client: socket.socket, channel: paramiko.Channel) -> None:
    # The channel is read, never select()ed: its fileno() is a pipe paramiko closes when the
    # channel closes, and a select racing that close can reach a descriptor number already reused
    # by another connection's socket. A read blocks until data comes or the channel closes (the
    # other thread closes it when it ends).
    while True:
        try:
            data = channel.recv(_CHUNK)
            if not data:
                return
            client.sendall(data)
        except _GONE:
            return


def _carry_up(client: socket.socket, channel: paramiko.Channel, stop: threading.Event) -> None:
    try:
        while not stop.is_set():
            readable, _, _ = select.select([client], [], [], _POLL)
            if not readable:
                continue
            data = client.recv(_CHUNK)
            if not data:
                return
            channel.sendall(data)
    except _GONE:
        return
    finally:
        _close(channel)  # ends the other thread's read


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
