"""Run SDV Studio's databroker inside a rig device, bound where KUKSA binds by default (127.0.0.1)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from tests.rig.rig import Device

REPO = Path(__file__).resolve().parents[3]


@contextlib.contextmanager
def broker_on(device: Device, address: str = "127.0.0.1", port: int = 55555) -> Iterator[int]:
    """The broker's pid while it runs in ``device`` (its network namespace: its own loopback)."""
    device.stop_sdv_apps()  # a fallback broker an earlier test deployed would hold the port
    command = (f"cd {REPO} && PYTHONPATH={REPO} nohup {sys.executable} -m sdv_studio.broker --address {address} "
               f"--port {port} --no-mqtt --insecure >/tmp/broker-{port}.log 2>&1 & echo $!")
    pid = int(device.run(command).stdout.strip())
    try:
        deadline = time.monotonic() + 60
        while "listening" not in device.run(f"cat /tmp/broker-{port}.log", check=False).stdout:
            assert time.monotonic() < deadline, device.run(f"cat /tmp/broker-{port}.log", check=False).stdout
            time.sleep(0.2)
        yield pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
