"""SDV Studio launcher: runs a Velocitas or plain Python app and serves its health endpoint.

Usage (from launch.json): ``python support/sdv_launcher.py app/<entryPoint>``. Stdlib only,
Python 3.8+: it runs on the device, in the app's own venv.

- GET /health on 127.0.0.1:$SDV_HEALTH_PORT answers 200 from a daemon thread while the app runs;
- the support folder (the ``sdv`` compatibility shim, the generated ``vehicle`` model) goes on
  sys.path after the app's own folder, so the app's modules win;
- SIGTERM raises SystemExit in the main thread, so ``finally`` blocks and atexit handlers run;
- a fresh event loop is set, as the playground's ``asyncio.get_event_loop()`` expects one.
"""

import asyncio
import json
import os
import runpy
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STARTED = time.monotonic()


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.split("?")[0] != "/health":
            self.send_error(404)
            return
        body = json.dumps({
            "status": "ok",
            "app": os.getenv("APP_NAME", ""),
            "version": os.getenv("APP_VERSION", ""),
            "uptime": round(time.monotonic() - STARTED, 1),
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # health probes every few seconds would drown the app's own log


def serve_health() -> None:
    port = int(os.getenv("SDV_HEALTH_PORT", "0") or 0)
    if not port:
        return
    server = ThreadingHTTPServer(("127.0.0.1", port), _Health)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="sdv-health", daemon=True).start()


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: sdv_launcher.py ENTRY_POINT [ARGS...]")
    entry = os.path.abspath(sys.argv[1])
    support = os.path.dirname(os.path.abspath(__file__))
    sys.argv = [entry, *sys.argv[2:]]
    sys.path[0:1] = [os.path.dirname(entry), support]
    signal.signal(signal.SIGTERM, _terminate)
    serve_health()
    asyncio.set_event_loop(asyncio.new_event_loop())
    print(f"sdv-launcher: starting {os.path.relpath(entry)}", file=sys.stderr, flush=True)
    runpy.run_path(entry, run_name="__main__")


if __name__ == "__main__":
    main()
