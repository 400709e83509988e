"""The databroker relay for containers with no network (sandbox level advanced; docs/security.md).

A sandboxed container runs with network "none": its only way out is a unix socket in a folder
mounted into it. Two halves carry a TCP connection through that socket:

- ``outside UNIX=HOST:PORT…``, a service of the agent on the device: each connection to the unix
  socket is joined to HOST:PORT (the databroker, the MQTT broker);
- ``inside HOST:PORT=UNIX… -- COMMAND…``, the container's first process: it listens on the
  container's own loopback at HOST:PORT, joins each connection to the socket, and runs COMMAND (the
  app) as its child, passing it SIGTERM and SIGINT and exiting with its exit code.

The app keeps dialling the address it was given and reaches nothing else. A standalone script
(the container runs it from the mounted folder, with the image's Python): stdlib only, Python 3.8+.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:  # see __init__: typing is never imported at run time
    from typing import Callable, List, Tuple

_CHUNK = 65536


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while True:
            data = source.recv(_CHUNK)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass  # either side went away: end both directions
    finally:
        for sock, how in ((target, socket.SHUT_WR), (source, socket.SHUT_RD)):
            with contextlib.suppress(OSError):
                sock.shutdown(how)


def _join(client: socket.socket, connect: Callable[[], socket.socket]) -> None:
    try:
        upstream = connect()
    except OSError as exc:
        print("sdv-relay: cannot reach the other side: %s" % exc, file=sys.stderr, flush=True)
        client.close()
        return
    back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
    back.start()
    _pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


def _serve(server: socket.socket, connect: Callable[[], socket.socket]) -> None:
    while True:
        client, _ = server.accept()
        threading.Thread(target=_join, args=(client, connect), daemon=True).start()


def _tcp(endpoint: str) -> Tuple[str, int]:
    host, _, port = endpoint.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


def _unix_listener(path: str) -> socket.socket:
    if os.path.exists(path):
        os.unlink(path)  # left by a relay that ended
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o111)  # a container's user is another uid: it must be able to connect
    try:
        server.bind(path)
    finally:
        os.umask(old)
    server.listen(64)
    return server


def _tcp_listener(endpoint: str) -> socket.socket:
    host, port = _tcp(endpoint)
    server = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((host, port))
    server.listen(64)
    return server


def _connect_tcp(endpoint: str) -> Callable[[], socket.socket]:
    return lambda: socket.create_connection(_tcp(endpoint), timeout=10)


def _connect_unix(path: str) -> Callable[[], socket.socket]:
    def connect() -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
        except OSError:
            sock.close()
            raise
        return sock

    return connect


def _routes(items: List[str]) -> List[Tuple[str, str]]:
    routes = []
    for item in items:
        listen, sep, target = item.partition("=")
        if not sep or not listen or not target:
            raise SystemExit("sdv-relay: a route is LISTEN=TARGET, got %r" % item)
        routes.append((listen, target))
    return routes


def outside(items: List[str]) -> None:
    """Serve each UNIX=HOST:PORT until a signal ends the process."""
    for path, endpoint in _routes(items):
        threading.Thread(target=_serve, args=(_unix_listener(path), _connect_tcp(endpoint)), daemon=True).start()
    threading.Event().wait()


def inside(items: List[str], command: List[str]) -> int:
    """Serve each HOST:PORT=UNIX while ``command`` runs; its exit code."""
    for endpoint, path in _routes(items):
        threading.Thread(target=_serve, args=(_tcp_listener(endpoint), _connect_unix(path)), daemon=True).start()
    child = subprocess.Popen(command)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: child.send_signal(signum))
    code = child.wait()
    return code if code >= 0 else 128 - code  # killed by a signal: as a shell reports it


def main(argv: List[str]) -> int:
    if len(argv) < 2 or argv[0] not in ("outside", "inside"):
        raise SystemExit("usage: relay.py outside UNIX=HOST:PORT... | inside HOST:PORT=UNIX... -- COMMAND...")
    if argv[0] == "outside":
        outside(argv[1:])
        return 0
    if "--" not in argv:
        raise SystemExit("sdv-relay: inside needs -- COMMAND")
    split = argv.index("--")
    return inside(argv[1:split], argv[split + 1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
