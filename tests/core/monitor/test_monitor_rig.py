"""On the rig: the playground's default app on two devices. Its figures, from `sdv-studio metrics
--json` and from the API, agree with what `ps` shows on the device; its low beam's toggles stream to
the workstation from both devices; a device whose cable is pulled is said to be down, and once it is
plugged back its stream resumes by itself while the other's never stopped."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from sdv_studio.api.settings import ApiSettings
from sdv_studio.core.deploy import DeployOptions
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.deploy.targets import ConnectionDefaults
from sdv_studio.core.monitor import LinkDown, LinkUp, MetricsSample, MonitorEvent, SignalUpdate, Watch, monitor
from sdv_studio.core.ssh.known_hosts import KnownHosts
from sdv_studio.core.ssh.trust import HostKeyTrust
from tests.api.server import TOKEN, running_api
from tests.core.deploy.conftest import APPS, build, deploy, ref
from tests.locations import REPO
from tests.rig.devices import LOGIN_USER
from tests.rig.rig import Device, Rig

pytestmark = [pytest.mark.rig, pytest.mark.slow]

LOW_BEAM = "Vehicle.Body.Lights.Beam.Low.IsOn"
APP = "playground"
BURNER = "burner"
# 20 ms of CPU in every 100 ms: a steady share whatever else loads the machine (the scheduler favours a
# process that mostly sleeps), so ps's average over the process's life and the agent's last seconds meet.
BURNER_CODE = """\
import time

due = time.monotonic()
while True:
    end = time.process_time() + 0.02
    while time.process_time() < end:
        pass
    due += 0.1
    time.sleep(max(0.0, due - time.monotonic()))
"""


@pytest.fixture(scope="module")
def deployed(rig: Rig, tmp_path_factory: pytest.TempPathFactory) -> list[Device]:
    """The playground app on d4 and d5 (with SDV Studio's databroker there), the burner on d4."""
    tmp = tmp_path_factory.mktemp("monitor")
    trust = HostKeyTrust(KnownHosts(tmp / "known_hosts"), accept_new=True)
    devices = [rig["d4"], rig["d5"]]
    options = DeployOptions(grace_seconds=2.0)
    playground = build(tmp, APPS / "playground_default.py", APP, python_versions=["3.11"], platforms=["x86_64"])
    result, _ = deploy(rig, devices, playground, trust, DeploymentRecords(tmp / "records"), options)
    assert result.status == "completed", [(d.device_id, d.message, d.logs[-5:]) for d in result.devices]
    burner = build(tmp, BURNER_CODE, BURNER, python_versions=["3.11"], platforms=["x86_64"])
    result, _ = deploy(rig, devices[:1], burner, trust, DeploymentRecords(tmp / "records"), options)
    assert result.status == "completed", result.devices[0].message
    return devices


@pytest.fixture
def trust(tmp_path: Path) -> HostKeyTrust:
    return HostKeyTrust(KnownHosts(tmp_path / "known_hosts"), accept_new=True)


def ps(device: Device, pid: int) -> tuple[float, int]:
    """(%CPU, RSS in bytes) as `ps` on the device shows them."""
    cpu, rss = device.run(f"ps -o %cpu=,rss= -p {pid}", user=LOGIN_USER).stdout.split()
    return float(cpu), int(rss) * 1024


def cli_metrics(rig: Rig, device: Device, home: Path) -> dict[str, Any]:
    argv = rig.workstation_argv(sys.executable, "-m", "sdv_studio", "metrics", "--device", device.ip, "--user",
                                rig.user, "--identity", str(rig.key_path), "--accept-new-host-keys", "--json")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=REPO, check=False,
                          env={**os.environ, "SDV_STUDIO_HOME": str(home)})
    assert done.returncode == 0, done.stderr
    [answer] = json.loads(done.stdout)["devices"]
    return answer  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def rig_api(rig: Rig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    home = tmp_path_factory.mktemp("api")
    settings = ApiSettings(token=TOKEN, connection=ConnectionDefaults(user=rig.user, key_file=rig.key_path),
                           trust=HostKeyTrust(KnownHosts(home / "known_hosts"), accept_new=True),
                           device_timeout=20.0, shutdown_timeout=30.0)
    with running_api(settings, netns=rig.in_workstation) as api:
        yield api


def _agrees(app: dict[str, Any], device: Device) -> None:
    cpu, rss = ps(device, app["pid"])
    assert abs(app["cpu_usage"] - cpu) <= 10, (app["name"], app["cpu_usage"], cpu)
    assert abs(app["rss"] - rss) <= 0.1 * rss, (app["name"], app["rss"], rss)


def test_metrics_agree_with_ps_on_the_device(rig: Rig, deployed: list[Device], rig_api: Any, tmp_path: Path) -> None:
    device = deployed[0]
    time.sleep(30)  # long enough for start-up to weigh little in ps's average over the process's life
    answer = cli_metrics(rig, device, tmp_path / "studio")
    apps = {a["name"]: a for a in answer["apps"]}
    assert {APP, BURNER, "databroker"} <= set(apps)
    for name in (APP, BURNER):
        _agrees(apps[name], device)
    assert apps[BURNER]["cpu_usage"] > 10  # the comparison means something
    playground = apps[APP]
    assert playground["status"] == "running" and playground["metered"] and playground["errors"] == 0
    # A set and a get every second: ~1 value written and read back per second, each a KUKSA call.
    assert 0.5 <= playground["signalUpdatesPerSecond"] <= 3 and playground["signalUpdatesSent"] >= 10
    assert playground["kuksa_latency"]["p50"] > 0 and playground["kuksa_latency"]["calls"] >= 20
    assert apps["databroker"]["kind"] == "service" and not apps["databroker"]["metered"]

    with rig_api.client() as client:
        response = client.get(f"/api/devices/{device.ip}/metrics", params={"since": time.time() - 15})
    assert response.status_code == 200, response.text
    body = response.json()
    api_apps = {a["name"]: a for a in body["apps"]}
    for name in (APP, BURNER):
        _agrees(api_apps[name], device)
    assert len(body["history"]) >= 10 and all(p["apps"][APP]["status"] == "running" for p in body["history"])


async def _collect(events: AsyncIterator[MonitorEvent], until: Any, timeout: float) -> list[MonitorEvent]:
    seen: list[MonitorEvent] = []
    async with asyncio.timeout(timeout):
        async for event in events:
            seen.append(event)
            if until(seen):
                return seen
    raise AssertionError("the stream ended")


def _toggles(events: list[MonitorEvent], device: str) -> set[object]:
    return {e.value for e in events if isinstance(e, SignalUpdate) and e.device_id == device and e.path == LOW_BEAM}


def test_toggles_stream_from_both_and_resume_after_a_pulled_cable(
        rig: Rig, deployed: list[Device], trust: HostKeyTrust) -> None:
    d4, d5 = deployed
    watch = Watch(app=APP, timeout=5.0, stall=3.0, retry=(0.5, 1.0, 2.0), history=10.0)

    async def go() -> tuple[list[MonitorEvent], list[MonitorEvent], list[MonitorEvent]]:
        events = monitor([ref(rig, d) for d in deployed], trust, watch)
        try:
            before = await _collect(events, lambda seen: all(_toggles(seen, d.name) == {True, False}
                                                             for d in deployed), 60)
            await asyncio.to_thread(d5.link, False)
            cut = time.monotonic()
            during = await _collect(events, lambda seen: any(isinstance(e, LinkDown) and e.device_id == d5.name
                                                             for e in seen), 30)
            assert time.monotonic() - cut < 15  # noticed within the stall time and a poll
            # d4 goes on while d5 is away.
            during += await _collect(events, lambda seen: _toggles(seen, d4.name) == {True, False}, 30)
            await asyncio.to_thread(d5.link, True)
            after = await _collect(events, lambda seen: _toggles(_since_up(seen, d5.name), d5.name) == {True, False},
                                   90)
            return before, during, after
        finally:
            await events.aclose()

    try:
        with rig.in_workstation():
            before, during, after = asyncio.run(go())
    finally:
        d5.link(True)
    first = next(e for e in before if isinstance(e, MetricsSample) and e.device_id == d4.name)
    assert len(first.metrics.history) >= 5  # the last seconds the device kept, at once
    updates = [e for e in before if isinstance(e, SignalUpdate)]
    assert all(e.timestamp is not None and e.timestamp <= e.received + 1 for e in updates)
    down = next(i for i, e in enumerate(during) if isinstance(e, LinkDown) and e.device_id == d5.name)
    assert not [e for e in during[down:] if isinstance(e, SignalUpdate) and e.device_id == d5.name]
    assert any(isinstance(e, LinkUp) and e.device_id == d5.name for e in after)


def _since_up(events: list[MonitorEvent], device: str) -> list[MonitorEvent]:
    """The events after ``device``'s last LinkUp (nothing before it reconnected)."""
    ups = [i for i, e in enumerate(events) if isinstance(e, LinkUp) and e.device_id == device]
    return events[ups[-1]:] if ups else []


def test_the_api_streams_the_toggles_over_its_websocket(deployed: list[Device], rig_api: Any) -> None:
    async def go() -> list[dict[str, Any]]:
        url = f"{rig_api.ws_url}/api/devices/{deployed[1].ip}/signals?app={APP}"
        seen: list[dict[str, Any]] = []
        async with websockets.connect(url, additional_headers=rig_api.auth, open_timeout=30) as ws:
            async with asyncio.timeout(60):
                async for message in ws:
                    seen.append(json.loads(message))
                    if {m.get("value") for m in seen if m["kind"] == "signal"} == {True, False}:
                        return seen
        raise AssertionError(f"the stream ended: {seen}")

    messages = asyncio.run(go())
    subscribed = next(m for m in messages if m["kind"] == "subscribed")
    assert subscribed["signals"] == [LOW_BEAM] and subscribed["broker"] == "127.0.0.1:55555"
    assert all(m["path"] == LOW_BEAM and m["deviceId"] == deployed[1].ip for m in messages if m["kind"] == "signal")
