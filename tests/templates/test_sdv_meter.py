"""The KUKSA meter the launcher installs: what real kuksa-client and Velocitas apps do against the
broker, counted without a change to their code and sent to the agent's datagram socket."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sdv_studio import shipped
from sdv_studio.core.packaging.template import LAUNCHER
from tests.broker.helpers import VENVS, VSS_40, broker_process, venv

LAUNCHER_PATH = shipped.templates_dir() / LAUNCHER

KUKSA_APP = r'''
import asyncio, sys, threading, time
from kuksa_client.grpc import Datapoint, VSSClient, VSSClientError
from kuksa_client.grpc.aio import VSSClient as AioVSSClient

port = int(sys.argv[1])
with VSSClient("127.0.0.1", port) as client:
    client.set_current_values({"Vehicle.Speed": Datapoint(10.0)})
    client.set_current_values({"Vehicle.Speed": Datapoint(11.0)})
    try:
        client.get_current_values(["Vehicle.NoSuchSignal"])
    except VSSClientError:
        pass
    updates = client.subscribe_current_values(["Vehicle.Speed"])
    next(updates)  # the current value
    client.set_current_values({"Vehicle.Speed": Datapoint(12.0)})
    next(updates)


async def aio():
    async with AioVSSClient("127.0.0.1", port) as client:
        await client.set_current_values({"Vehicle.Speed": Datapoint(13.0)})
        async for _ in client.subscribe_current_values(["Vehicle.Speed"]):
            break

asyncio.run(aio())
print(" ".join(sorted(t.name for t in threading.enumerate())), flush=True)
time.sleep(1.5)  # the meter sends once a second
'''


@pytest.fixture
def agent_socket(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    """The datagram socket the agent's supervisor reads (here, the test)."""
    path = str(tmp_path / "metrics.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    yield path, sock
    sock.close()


def launch(app: Path, *args: str, python: str = sys.executable, env: dict[str, str] | None = None,
           timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([python, str(LAUNCHER_PATH), str(app), *args], capture_output=True, text=True,
                          cwd=app.parent, env={**os.environ, **(env or {})}, timeout=timeout, check=False)


def last_report(sock: socket.socket) -> dict[str, Any]:
    """The newest datagram waiting (the meter sends running totals)."""
    reports = [json.loads(sock.recv(65536))]
    sock.settimeout(0.1)
    try:
        while True:
            reports.append(json.loads(sock.recv(65536)))
    except TimeoutError:
        return reports[-1]


def test_kuksa_client_calls_are_counted_sync_and_aio(tmp_path: Path, agent_socket: tuple[str, socket.socket]) -> None:
    path, sock = agent_socket
    app = tmp_path / "main.py"
    app.write_text(KUKSA_APP)
    with broker_process() as broker:
        done = launch(app, str(broker["port"]), env={"SDV_METRICS_SOCKET": path})
    assert done.returncode == 0, done.stderr
    assert "sdv-meter" in done.stdout
    report = last_report(sock)
    assert report["pid"] > 0
    assert report["sent"] == 4  # four values written, whatever API kuksa-client chose
    assert report["received"] == 3  # each subscription's current value, plus one update
    assert report["errors"] == 1 and "Vehicle.NoSuchSignal" in report["lastError"]
    latency = report["latency"]
    assert latency["base"] == 0.05 and latency["perOctave"] == 4
    assert sum(latency["counts"].values()) == report["calls"] >= 4  # every unary call has its latency
    assert all(0 <= int(bucket) <= 80 for bucket in latency["counts"])


def test_without_the_agents_socket_nothing_is_touched(tmp_path: Path) -> None:
    app = tmp_path / "main.py"
    app.write_text("import grpc, threading\n"
                   "print(grpc.insecure_channel.__module__, grpc.aio.insecure_channel.__module__,\n"
                   "      'sdv-meter' in [t.name for t in threading.enumerate()])\n")
    env = dict(os.environ)
    env.pop("SDV_METRICS_SOCKET", None)
    done = subprocess.run([sys.executable, str(LAUNCHER_PATH), str(app)], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["grpc", "grpc.aio._channel", "False"]


VELOCITAS_APP = r'''
import asyncio, os, time
from velocitas_sdk.vehicle_app import VehicleApp
from vehicle import vehicle


class App(VehicleApp):
    async def on_start(self):
        for value in (True, False, True):
            await vehicle.Body.Lights.Beam.Low.IsOn.set(value)
            await vehicle.Body.Lights.Beam.Low.IsOn.get()
        time.sleep(1.5)  # the meter's thread sends meanwhile
        os._exit(0)


asyncio.get_event_loop().run_until_complete(App().run())
'''


@pytest.mark.slow
def test_velocitas_sdk_calls_are_counted(tmp_path: Path, agent_socket: tuple[str, socket.socket]) -> None:
    python = venv("velocitas-0.15.7", ["velocitas-sdk==0.15.7", "velocitas-model-generator==0.9.0"])
    model = VENVS / "velocitas-model-vss-4.0"
    if not (model / "vehicle" / "__init__.py").exists():
        subprocess.run([str(python.parent / "gen-model"), "-N", "vehicle", "-T", str(model), "-l", "python",
                        str(VSS_40)], check=True, capture_output=True, timeout=120)
    path, sock = agent_socket
    app = tmp_path / "main.py"
    app.write_text(VELOCITAS_APP)
    with broker_process("--vss", str(VSS_40), mqtt=True) as broker:
        done = launch(app, python=str(python), env={
            "SDV_METRICS_SOCKET": path, "PYTHONPATH": str(model), "SDV_MIDDLEWARE_TYPE": "native",
            "SDV_VEHICLEDATABROKER_ADDRESS": f"grpc://127.0.0.1:{broker['port']}",
            "SDV_MQTT_ADDRESS": f"mqtt://127.0.0.1:{broker['mqtt_port']}"})
    assert done.returncode == 0, done.stdout + done.stderr
    report = last_report(sock)
    assert report["sent"] == 3 and report["errors"] == 0, report  # SetDatapoints over sdv.databroker.v1
    assert sum(report["latency"]["counts"].values()) == report["calls"] >= 6


HEALTH_THEN_APP = r'''
import sys, time, urllib.request
port = sys.argv[1]
for _ in range(3):  # the launcher's health checks run while the app starts, on their own thread
    try:
        urllib.request.urlopen("http://127.0.0.1:%s/health" % port, timeout=10)
    except OSError:
        pass
    time.sleep(1.1)  # a check is redone at most every second
import grpc
print(grpc.insecure_channel.__module__, flush=True)
time.sleep(1.5)  # the meter sends once a second
'''


def test_the_launchers_own_health_checks_are_not_counted_as_the_apps_calls(
        tmp_path: Path, agent_socket: tuple[str, socket.socket]) -> None:
    """The health thread imports grpc on the first probe: the meter is already in place (a probe
    racing the meter's install once patched a half-imported grpc and the app died at start), and
    its checks of an unreachable databroker are not the app's errors."""
    path, sock = agent_socket
    app = tmp_path / "main.py"
    app.write_text(HEALTH_THEN_APP)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        health, dead = s.getsockname()[1], s.getsockname()[1] + 1
    done = launch(app, str(health), env={"SDV_METRICS_SOCKET": path, "SDV_HEALTH_PORT": str(health),
                                          "SDV_APP_FLAVOUR": "kuksa", "KUKSA_ENDPOINT": f"127.0.0.1:{dead}"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["sdv_meter"]  # the app's own channels are metered
    report = last_report(sock)
    assert (report["calls"], report["errors"], report["lastError"]) == (0, 0, None)
