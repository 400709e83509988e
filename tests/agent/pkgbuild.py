"""Builds tiny packages in the format of docs/package-format.md for the agent's tests."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

# An app that serves /health on SDV_HEALTH_PORT and prints a heartbeat; MODE "crash" dies at once.
# While the file DOWN_FILE names exists, /health answers 503 with its text as the reason, as an app
# whose databroker is unreachable does; once the file EXIT_FILE names exists, the app exits with code 3.
APP = '''\
import http.server, json, os, sys, threading, time

MODE = {mode!r}
print("starting", os.environ["APP_NAME"], os.environ["APP_VERSION"], "mode", MODE, flush=True)
if MODE == "crash":
    print("boom: cannot start", flush=True)
    sys.exit(3)


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        down = os.environ.get("DOWN_FILE", "")
        reason = open(down).read() if down and os.path.exists(down) else ""
        body = json.dumps({{"status": "degraded" if reason else "ok", "version": os.environ["APP_VERSION"],
                           "kuksa_connection": not reason, "app_running": True, "reason": reason}}).encode()
        self.send_response((503 if reason else 200) if self.path == "/health" else 404)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


port = int(os.environ.get("SDV_HEALTH_PORT", "0"))
if port:
    server = http.server.HTTPServer(("127.0.0.1", port), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
beat = os.environ.get("HEARTBEAT_FILE")
exit_file = os.environ.get("EXIT_FILE")
while True:
    if exit_file and os.path.exists(exit_file):
        sys.exit(3)
    if beat:
        with open(beat, "w") as f:
            f.write("%s %s %f" % (os.environ["APP_VERSION"], os.getpid(), time.time()))
    print("heartbeat", os.environ["APP_VERSION"], {extra!r}, flush=True)
    time.sleep(0.2)
'''


def package_files(name: str, version: str, mode: str = "ok", extra: str = "") -> dict[str, bytes]:
    manifest = {
        "formatVersion": 1, "name": name, "version": version, "description": "test app",
        "flavour": "plain", "entryPoint": "main.py", "pythonVersion": "3.8", "platforms": ["x86_64", "aarch64"],
        "runtimeMode": "native",
        "kuksaConfig": {"brokerAutoDetect": True, "fallbackBroker": False, "vssVersion": "4.0"},
        "deployment": {"hotSwap": False, "otaEnabled": False, "resourceLimits": {"memory": "512MB", "cpu": "0.5"}},
    }
    launch = {"argv": ["{python}", "app/main.py"], "env": {"APP_MODE": mode}, "health": {"path": "/health"}}
    files = {
        "manifest.json": json.dumps(manifest, indent=1, sort_keys=True).encode(),
        "launch.json": json.dumps(launch, indent=1, sort_keys=True).encode(),
        "app/main.py": APP.format(mode=mode, extra=extra).encode(),
        "app/README.md": b"a test app\n" * 50,
        "requirements.txt": b"",
        "docker/Dockerfile": b"FROM python:3.11-slim\nCOPY app /app\n",
        "docker/compose.yaml": b"services: {}\n",
    }
    files["SHA256SUMS"] = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {path}\n" for path, data in sorted(files.items())
    ).encode()
    return files


def write_package(dest: Path, files: dict[str, bytes]) -> Path:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path, data in sorted(files.items()):
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    dest.write_bytes(gzip.compress(buf.getvalue(), mtime=0))
    return dest


def build(dest_dir: Path, name: str, version: str, mode: str = "ok", extra: str = "") -> Path:
    return write_package(dest_dir / f"{name}-{version}-{mode}.tar.gz", package_files(name, version, mode, extra))


def package_id(files: dict[str, bytes]) -> str:
    return "pkg_" + hashlib.sha256(files["SHA256SUMS"]).hexdigest()[:16]
