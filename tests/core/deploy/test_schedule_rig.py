"""What issue 18's scheduled updates must show, on the rig: ``--when idle`` with ``Vehicle.Speed == 0``
stages the new version (installed, not started) while the device's databroker says the vehicle moves;
the old version keeps running, after the workstation has gone. Once the test sets the speed to 0 on
that device's databroker, the device itself switches to the new version through the health gate.
And a staged version cancelled with ``deploy --cancel-staged`` never starts, the running one untouched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.deploy.schedule import Schedule
from sdv_studio.core.deploy.security.tokens import key_path, workstation_key
from sdv_studio.core.ssh.trust import HostKeyTrust
from tests.agent.conftest import wait_for
from tests.core.deploy.conftest import FAST, agent_status, broker_token, build, deploy
from tests.rig.rig import Device, Rig

pytestmark = pytest.mark.rig

REPO = Path(__file__).resolve().parents[3]
APP = """\
import time

while True:
    time.sleep(1)
"""
SET_SPEED = """\
import os
import sys
from kuksa_client.grpc import Datapoint, VSSClient

with VSSClient('127.0.0.1', 55555, token=os.environ['KUKSA_TOKEN']) as client:
    client.set_current_values({'Vehicle.Speed': Datapoint(float(sys.argv[1]))})
"""


def set_speed(device: Device, speed: float) -> None:
    """Vehicle.Speed on the databroker of ``device`` (its own loopback), as a vehicle's feeder sets it."""
    done = subprocess.run(["nsenter", "-t", str(device.pid), "-n", "--", sys.executable, "-c", SET_SPEED, str(speed)],
                          capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "KUKSA_TOKEN": broker_token()})
    assert done.returncode == 0, done.stderr


def entries(device: Device, name: str) -> dict[str, dict[str, Any]]:
    """The agent's status of ``name`` on the device: ``{"app": as it runs, "staged": what waits}``."""
    [app] = agent_status(device, name)["apps"]
    return {"app": app, "staged": app.get("staged") or {}}


def runs(pid: int) -> str:
    """The version the process really is (what the agent started it with), from the device's /proc."""
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    [version] = [v.split(b"=", 1)[1].decode() for v in environ if v.startswith(b"APP_VERSION=")]
    return version


def test_when_idle_starts_the_staged_version_only_once_the_vehicle_stops(
    rig: Rig, trust: HostKeyTrust, tmp_path: Path
) -> None:
    device = rig["d4"]
    device.stop_sdv_apps()
    records = DeploymentRecords(tmp_path / "records")
    first, _ = deploy(rig, [device], build(tmp_path, APP, "idler", "1.0.0"), trust, records)
    assert first.status == "completed", [(d.message, d.logs[-8:]) for d in first.devices]
    before = entries(device, "idler")["app"]
    assert (before["version"], before["status"]) == ("1.0.0", "running") and runs(before["pid"]) == "1.0.0"
    set_speed(device, 50.0)

    idle = replace(FAST, schedule=Schedule(idle="Vehicle.Speed == 0"))
    staged, _ = deploy(rig, [device], build(tmp_path, APP, "idler", "2.0.0"), trust, records, idle)
    [row] = staged.devices
    assert (staged.status, row.status, row.staged) == ("completed", "success", True), (row.message, row.logs[-8:])
    assert row.message == "idler 2.0.0 staged: starts when Vehicle.Speed == 0; 1.0.0 keeps running until then"

    # The workstation is gone; the device watches its databroker on its own.
    seen = wait_for(lambda: (s := entries(device, "idler")["staged"]).get("observed") and s,
                    "the device's first look at Vehicle.Speed", timeout=60)
    assert (seen["version"], seen["condition"], seen["kind"]) == ("2.0.0", "Vehicle.Speed == 0", "idle")
    assert seen["observed"]["holds"] is False and seen["observed"]["values"] == {"Vehicle.Speed": 50.0}, seen
    time.sleep(3)  # several of the watcher's rounds at 50 km/h
    now = entries(device, "idler")
    assert (now["app"]["version"], now["app"]["pid"], now["staged"]["version"]) == ("1.0.0", before["pid"], "2.0.0")
    assert runs(before["pid"]) == "1.0.0"

    set_speed(device, 0.0)
    after = wait_for(lambda: (e := entries(device, "idler"))["app"]["lastStaged"] and e,
                     "the device to switch to the staged version", timeout=120)["app"]
    assert after["lastStaged"]["outcome"] == "started", after["lastStaged"]
    assert (after["version"], after["status"], after["staged"]) == ("2.0.0", "running", None)
    assert after["pid"] != before["pid"] and runs(after["pid"]) == "2.0.0"
    assert after["health"]["app_running"] is True, after["health"]
    assert not Path(f"/proc/{before['pid']}").exists()
    device.stop_sdv_apps()


def cli(rig: Rig, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`sdv-studio` as a user runs it on the workstation, in a home of the test's own (the host keys it
    accepts stay there: later tests see the rig's devices untrusted) holding the test session's
    databroker key, the one ``broker_token`` signs with (another would have the device's databroker
    restarted)."""
    (home / "config").mkdir(parents=True, exist_ok=True)
    key = home / "config" / key_path().name
    if not key.exists():
        workstation_key()  # the session's, made now if no test has made it yet
        key.symlink_to(key_path())
    argv = rig.workstation_argv("env", f"SDV_STUDIO_HOME={home}", sys.executable, "-m", "sdv_studio", *args)
    return subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=300, check=False)


def test_a_cancelled_staged_version_never_starts_and_what_runs_stays(rig: Rig, tmp_path: Path) -> None:
    device = rig["d6"]
    device.stop_sdv_apps()
    target = ["--device", f"{rig.user}@{device.ip}", "--identity", str(rig.key_path), "--accept-new-host-keys"]
    v1, v2 = build(tmp_path, APP, "keeper", "1.0.0"), build(tmp_path, APP, "keeper", "2.0.0")
    done = cli(rig, tmp_path / "home", "deploy", str(v1.path), *target, "--grace", "1", "--json")
    assert done.returncode == 0, done.stderr
    before = entries(device, "keeper")["app"]
    set_speed(device, 30.0)

    done = cli(rig, tmp_path / "home", "deploy", str(v2.path), *target, "--grace", "1", "--when", "idle", "--json")
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)["devices"]
    assert (row["status"], row["staged"]) == ("success", True), row
    status = json.loads(cli(rig, tmp_path / "home", "status", "keeper", *target, "--json").stdout)
    [apps] = [d["apps"] for d in status["devices"]]
    assert [(a["version"], a["status"]) for a in apps] == [("1.0.0", "running"), ("2.0.0", "staged")], apps
    assert apps[1]["condition"] == "Vehicle.Speed == 0"

    cancelled = cli(rig, tmp_path / "home", "deploy", "--cancel-staged", "keeper", *target)
    assert cancelled.returncode == 0, cancelled.stderr
    assert "cancelled keeper 2.0.0 (staged to start Vehicle.Speed == 0); what runs is unchanged" in cancelled.stderr
    again = cli(rig, tmp_path / "home", "deploy", "--cancel-staged", "keeper", *target)
    assert again.returncode == 1 and "keeper has no staged release" in again.stderr, again.stderr

    set_speed(device, 0.0)  # what would have started it
    time.sleep(3)
    now = entries(device, "keeper")
    assert (now["app"]["version"], now["app"]["pid"], now["staged"]) == ("1.0.0", before["pid"], {})
    assert now["app"]["lastStaged"] is None and runs(before["pid"]) == "1.0.0"
    device.stop_sdv_apps()
