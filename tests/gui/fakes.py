"""The GUI tests' engines: the scripted bench from sdv_studio.gui.demo on a small test bench.

Packaging is real; deployments go through the real orchestrator with scripted device jobs. For the
wizard's own logic only: a test of what a device or broker answers uses real engines (test_rig*.py,
test_local_engines.py, test_actions.py).
"""

from __future__ import annotations

from pathlib import Path

from sdv_studio.gui.adapters import Engines
from sdv_studio.gui.adapters.discovery import Device
from sdv_studio.gui.demo import FINGERPRINT, demo_engines

BENCH = [
    Device(id="jetson-01", name="Jetson Orin (bench)", ip="10.99.0.11", type="jetson-orin", user="sdv",
           runtime="both", architecture="arm64", gpu=True, kuksa=True, memory="32GB", storage="41GB",
           os="Ubuntu 22.04", python="3.10.12", last_seen="2026-01-01T00:00:00Z"),
    Device(id="linux-02", name="linux-02", ip="10.99.0.12", user="sdv", runtime="native",
           memory="4GB", storage="12GB", os="Debian 12", python="3.11.2", last_seen="2026-01-01T00:00:00Z"),
    Device(id="ecu-03", name="Prototype ECU", ip="10.99.0.13", type="automotive-prototype", user="sdv",
           runtime="–", compatible=False, reason="python3 has no venv module", memory="1GB",
           storage="2GB", os="Yocto", python="3.8.10", last_seen="2026-01-01T00:00:00Z"),
]

# A whole program with no dependencies: installs in a blink, so tests measure the orchestration.
PLAIN_APP = '''\
import time


def main():
    while True:
        print("heartbeat", flush=True)
        time.sleep(5)


if __name__ == "__main__":
    main()
'''


def fake_engines(tmp: Path) -> Engines:
    return demo_engines(tmp, BENCH)


def fleet(count: int) -> list[Device]:
    """``count`` alike, compatible devices: a fleet for the pages' tables (bench/gui.py --fleet too)."""
    return [Device(id=f"fleet-{n:02d}", name=f"fleet-{n:02d}", ip=f"10.99.1.{n}", user="sdv", memory="8GB",
                   storage="20GB", os="Debian 12", python="3.11.2", last_seen="2026-01-01T00:00:00Z")
            for n in range(1, count + 1)]


__all__ = ["BENCH", "FINGERPRINT", "PLAIN_APP", "fake_engines", "fleet"]
