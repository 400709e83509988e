"""SDV Studio launcher: runs a Velocitas or plain Python app and serves its health endpoint.

Usage (from launch.json): ``python support/sdv_launcher.py app/<entryPoint>``. Stdlib only,
Python 3.8+: it runs on the device, in the app's own venv.

- GET /health on 127.0.0.1:$SDV_HEALTH_PORT answers 200 from a daemon thread while the app runs;
- the support folder (the ``sdv`` compatibility shim, the generated ``vehicle`` model) goes on
  sys.path after the app's own folder, so the app's modules win;
- SIGTERM raises SystemExit in the main thread, so ``finally`` blocks and atexit handlers run;
- a fresh event loop is set as soon as the app imports asyncio, as the playground's
  ``asyncio.get_event_loop()`` expects one;
- the databroker token and CA the deployment gave the app reach its kuksa-client or Velocitas
  client (``sdv_broker_access``, beside this file).

It imports as little as it can before the app runs: on a small board, asyncio and http.server
would cost a plain app several times its own start-up CPU.
"""

import os
import signal
import socket
import sys
import threading
import time
from importlib.machinery import PathFinder

STARTED = time.monotonic()
_MAX_REQUEST = 8192


def _health_reply(request: bytes) -> bytes:
    line = request.split(b"\r\n", 1)[0].split(b" ")
    if len(line) < 2 or line[0] != b"GET" or line[1].split(b"?", 1)[0] != b"/health":
        return b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    import json  # only once something asks

    body = json.dumps({
        "status": "ok",
        "app": os.getenv("APP_NAME", ""),
        "version": os.getenv("APP_VERSION", ""),
        "uptime": round(time.monotonic() - STARTED, 1),
    }).encode()
    head = "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
    return (head % len(body)).encode() + body


def _answer(conn: socket.socket) -> None:
    with conn:
        try:
            conn.settimeout(2.0)
            request = b""
            while b"\r\n\r\n" not in request and len(request) < _MAX_REQUEST:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                request += chunk
            conn.sendall(_health_reply(request))
        except OSError:
            pass  # the prober gave up; the next probe gets a fresh connection


def _serve(server: socket.socket) -> None:
    while True:
        conn, _ = server.accept()
        threading.Thread(target=_answer, args=(conn,), daemon=True).start()


def serve_health() -> None:
    port = int(os.getenv("SDV_HEALTH_PORT", "0") or 0)
    if not port:
        return
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(16)
    threading.Thread(target=_serve, args=(server,), name="sdv-health", daemon=True).start()


class _LoopOnAsyncioImport:
    """A meta-path finder that hands asyncio's own spec back with a loader that, once asyncio has
    loaded, sets a fresh event loop: apps that never import asyncio never pay for it."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> object:
        if name != "asyncio":
            return None
        sys.meta_path.remove(self)
        spec = PathFinder.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_set_loop(module: object) -> None:
            exec_module(module)
            module.set_event_loop(module.new_event_loop())  # type: ignore[attr-defined]

        spec.loader.exec_module = exec_and_set_loop  # type: ignore[method-assign]
        return spec


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def run_as_main(path: str) -> None:
    """What ``runpy.run_path(path, run_name="__main__")`` does for a source file, without runpy's
    imports (pkgutil, typing, re): the code runs as a fresh ``__main__`` module."""
    with open(path, "rb") as f:
        code = compile(f.read(), path, "exec")
    launcher = sys.modules["__main__"]  # kept alive while the app runs, as runpy keeps it
    module = type(sys)("__main__")
    module.__dict__.update(__file__=path, __cached__=None, __loader__=None, __package__=None, __spec__=None)
    sys.modules["__main__"] = module
    try:
        exec(code, module.__dict__)
    finally:
        sys.modules["__main__"] = launcher


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: sdv_launcher.py ENTRY_POINT [ARGS...]")
    entry = os.path.abspath(sys.argv[1])
    support = os.path.dirname(os.path.abspath(__file__))
    sys.argv = [entry, *sys.argv[2:]]
    sys.path[0:1] = [os.path.dirname(entry), support]
    signal.signal(signal.SIGTERM, _terminate)
    import sdv_broker_access  # from the support folder, now on sys.path

    sdv_broker_access.install()
    serve_health()
    if "asyncio" in sys.modules:
        sys.modules["asyncio"].set_event_loop(sys.modules["asyncio"].new_event_loop())
    else:
        sys.meta_path.insert(0, _LoopOnAsyncioImport())
    print(f"sdv-launcher: starting {os.path.relpath(entry)}", file=sys.stderr, flush=True)
    run_as_main(entry)


if __name__ == "__main__":
    main()
