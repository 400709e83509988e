"""What issue 15's health must show, on the rig: a deploy wired to a databroker nobody runs ends in
error naming it, and a broker killed after a healthy deploy turns `sdv-studio status` to degraded
(within 40 s, the guide's 30 s re-check plus slack) and back to running when it returns."""

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
from sdv_studio.core.ssh.trust import HostKeyTrust
from tests.core.deploy.conftest import APPS, FAST, build, deploy
from tests.core.kuksa.device_broker import broker_on
from tests.rig.rig import Device, Rig

pytestmark = pytest.mark.rig

REPO = Path(__file__).resolve().parents[3]
DEGRADED_WITHIN = 40.0  # seconds, as the issue asks (with the default 30 s re-check)
# Sets a value once, then idles: losing the databroker leaves it up (a subscriber's stream would end
# with the broker, and the template then exits to be restarted).
SETS_ONCE = """\
from kuksa_client.grpc import Datapoint


async def on_start(app):
    await app.client.set_current_values({"Vehicle.Speed": Datapoint(42.0)})
"""


def cli_status(rig: Rig, device: Device, app: str, home: Path) -> dict[str, Any]:
    """`sdv-studio status APP --device … --json`'s one app, as a user's script reads it."""
    argv = [sys.executable, "-m", "sdv_studio", "status", app, "--device", f"{rig.user}@{device.ip}",
            "--identity", str(rig.key_path), "--accept-new-host-keys", "--json"]
    done = subprocess.run(rig.workstation_argv(*argv), capture_output=True, text=True, cwd=REPO, timeout=120,
                          env=dict(os.environ, SDV_STUDIO_HOME=str(home)), check=False)
    assert done.returncode == 0, done.stderr
    [found] = json.loads(done.stdout)["devices"]
    [state] = found["apps"]
    return dict(state)


def wait_for_status(rig: Rig, device: Device, app: str, home: Path, wanted: str, within: float) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        state = cli_status(rig, device, app, home)
        if state["status"] == wanted:
            return state
        assert time.monotonic() < deadline, f"still {state['status']} after {within:g}s, not {wanted}: {state}"
        time.sleep(1.0)


def test_a_deploy_wired_to_a_dead_databroker_ends_in_error_naming_it(
    rig: Rig, trust: HostKeyTrust, tmp_path: Path
) -> None:
    device = rig["d3"]
    device.stop_sdv_apps()
    package = build(tmp_path, APPS / "kuksa_fragment.py", "deadwire", platforms=["x86_64"])
    result, _ = deploy(rig, [device], package, trust, DeploymentRecords(tmp_path / "records"),
                       replace(FAST, broker="127.0.0.1:9", health_timeout=8.0))
    row = result.device("d3")
    assert result.status == "failed" and row.status == "error", row.message
    assert "not healthy within 8s: databroker 127.0.0.1:9 not reachable" in row.message, row.message
    assert any("databroker not reachable" in line for line in row.logs), row.logs  # the app's own log says so too
    assert cli_status(rig, device, "deadwire", tmp_path / "home")["status"] == "stopped"


@pytest.mark.slow
def test_a_container_wired_to_a_dead_databroker_ends_in_error_naming_it(
    rig: Rig, trust: HostKeyTrust, tmp_path: Path
) -> None:
    device = rig["d2"]
    package = build(tmp_path, SETS_ONCE, "deadbox", platforms=["x86_64"], runtime="docker")
    result, _ = deploy(rig, [device], package, trust, DeploymentRecords(tmp_path / "records"),
                       replace(FAST, broker="127.0.0.1:9", health_timeout=8.0))
    row = result.device("d2")
    assert row.status == "error" and row.runtime is None, row.message
    # The image's HEALTHCHECK printed the app's answer; its reason is the deployment's.
    assert "not healthy within 8s: databroker 127.0.0.1:9 not reachable" in row.message, row.message
    assert device.run("docker ps -aq --filter label=io.sdv-studio.app=deadbox").stdout.split() == []


def test_a_broker_killed_after_a_healthy_deploy_turns_status_degraded_and_back_to_running(
    rig: Rig, trust: HostKeyTrust, tmp_path: Path
) -> None:
    device, home = rig["d4"], tmp_path / "home"
    package = build(tmp_path, SETS_ONCE, "watched", platforms=["x86_64"])
    with broker_on(device):  # on the device's loopback, where detection finds it
        result, _ = deploy(rig, [device], package, trust, DeploymentRecords(tmp_path / "records"),
                           replace(FAST, health_interval=2.0))
        assert result.status == "completed", [(d.message, d.logs[-8:]) for d in result.devices]
        healthy = cli_status(rig, device, "watched", home)
        assert healthy["status"] == "running", healthy
        assert set(healthy["health"]) == {"kuksa_connection", "app_running", "last_check", "reason"}
        assert (healthy["health"]["kuksa_connection"], healthy["health"]["app_running"]) == (True, True)
    killed = time.monotonic()

    degraded = wait_for_status(rig, device, "watched", home, "degraded", DEGRADED_WITHIN)
    assert time.monotonic() - killed <= DEGRADED_WITHIN
    assert degraded["pid"] == healthy["pid"]  # up all along: degraded, not crashed
    assert degraded["health"]["kuksa_connection"] is False and degraded["health"]["app_running"] is True
    assert degraded["health"]["reason"].startswith("databroker 127.0.0.1:55555 not reachable"), degraded
    assert degraded["health"]["last_check"] > healthy["health"]["last_check"]

    with broker_on(device, fresh=False):  # the app reconnects on its own
        back = wait_for_status(rig, device, "watched", home, "running", 60.0)
        device.stop_sdv_apps()  # not left degraded once its broker is gone
    assert back["health"]["kuksa_connection"] is True and back["health"]["reason"] == ""
    assert back["pid"] == healthy["pid"]
