"""Run SDV Studio's databroker inside a rig device, bound where KUKSA binds by default (127.0.0.1)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.rig.rig import Device

REPO = Path(__file__).resolve().parents[3]


@contextlib.contextmanager
def broker_on(device: Device, address: str = "127.0.0.1", port: int = 55555, fresh: bool = True) -> Iterator[int]:
    """The broker's pid while it runs on ``device``'s network (its own loopback). Only the network
    namespace is entered: the device's private /tmp would hide a checkout kept under /tmp. ``fresh``
    first stops what SDV Studio runs there; without it, the apps deployed before keep running."""
    if fresh:
        device.stop_sdv_apps()  # a fallback broker an earlier test deployed would hold the port
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            ["nsenter", "-t", str(device.pid), "-n", "--", sys.executable, "-m", "sdv_studio.broker",
             "--address", address, "--port", str(port), "--no-mqtt", "--insecure"],
            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while b"listening" not in _read(log):
                assert process.poll() is None and time.monotonic() < deadline, _read(log).decode(errors="replace")
                time.sleep(0.2)
            yield process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)


def _read(log: object) -> bytes:
    log.seek(0)  # type: ignore[attr-defined]
    return log.read()  # type: ignore[attr-defined, no-any-return]
