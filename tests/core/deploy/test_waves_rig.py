"""What issue 18's waves must show, on the rig: with ``--waves 1,100%``, a first device that fails its
health gate stops the rollout and the other five are skipped, untouched (their v1 still running,
nothing uploaded, no new release); with the cause removed, all six run v2 and the waves are in the result.
And ``--rollback-wave`` takes a failed wave's healthy devices back to the version before, and cancels
what a scheduled update staged on them (which would otherwise start later on its own)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

import pytest

from sdv_studio.core.deploy import start_deployment
from sdv_studio.core.deploy.options import DeployOptions
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.deploy.schedule import Schedule
from sdv_studio.core.deploy.waves import WavePlan, parse_waves
from sdv_studio.core.ssh.trust import HostKeyTrust
from sdv_studio.models.deployment import Deployment
from tests.core.deploy.conftest import FAST, agent_status, build, deploy, footprint, ref
from tests.rig.rig import Device, Rig

pytestmark = pytest.mark.rig

MARKER = "wave-fail"  # in the login user's home: the app refuses to start on a device that has it
WAVY = f"""\
import os
import pwd
import sys
import time


def main() -> None:
    if os.path.exists(os.path.join(pwd.getpwuid(os.getuid()).pw_dir, "{MARKER}")):
        sys.exit("{MARKER} found: this device refuses the app")
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
"""


def deploy_in_waves(rig: Rig, devices: list[Device], package: PackageFile, trust: HostKeyTrust,
                    records: DeploymentRecords, waves: str, rollback_wave: bool = False,
                    options: DeployOptions = FAST) -> Deployment:
    async def go() -> Deployment:
        run = start_deployment(package, [ref(rig, d) for d in devices], trust, options, records=records,
                               plan=WavePlan(parse_waves(waves), rollback_wave=rollback_wave))
        return await run.wait()

    with rig.in_workstation():
        return asyncio.run(go())


def wavy_v1_running(rig: Rig, devices: list[Device], trust: HostKeyTrust,
                    tmp_path: Path) -> tuple[DeploymentRecords, PackageFile]:
    """wavy 1.0.0 running on ``devices``, none of them refusing it: the records it went into, and
    wavy 2.0.0 to deploy next."""
    records = DeploymentRecords(tmp_path / "records")
    v1 = build(tmp_path, WAVY, "wavy", "1.0.0")
    for device in devices:
        device.stop_sdv_apps()
        (device.home / MARKER).unlink(missing_ok=True)
    result, _ = deploy(rig, devices, v1, trust, records)
    assert result.status == "completed", [(d.device_id, d.message) for d in result.devices]
    return records, build(tmp_path, WAVY, "wavy", "2.0.0")


def test_a_first_wave_that_fails_its_health_gate_leaves_the_other_five_untouched(
    rig: Rig, trust: HostKeyTrust, tmp_path: Path
) -> None:
    devices = rig.working()
    assert len(devices) == 6
    first, rest = devices[0], devices[1:]
    records, v2 = wavy_v1_running(rig, devices, trust, tmp_path)
    before = {d.name: footprint(d, "wavy") for d in rest}
    assert all(f["version"] == "1.0.0" and f["status"] == "running" for f in before.values()), before

    (first.home / MARKER).touch()
    try:
        failed = deploy_in_waves(rig, devices, v2, trust, records, "1,100%")
    finally:
        (first.home / MARKER).unlink()
    row = failed.device(first.name)
    assert row.status == "error" and "refuses the app" in " ".join(row.logs), (row.message, row.logs)
    assert [(d.device_id, d.status) for d in failed.devices[1:]] == [(d.name, "skipped") for d in rest]
    assert all(d.start_time is None for d in failed.devices[1:])
    assert [(w.index, w.devices, w.status, w.failed) for w in failed.waves or []] == [
        (1, [first.name], "failed", 1), (2, [d.name for d in rest], "skipped", 0)]
    assert failed.status == "failed"
    # Untouched: the same v1 process, no v2 release, the uploads folder as it was.
    assert {d.name: footprint(d, "wavy") for d in rest} == before

    passed = deploy_in_waves(rig, devices, v2, trust, records, "1,100%")
    assert passed.status == "completed", [(d.device_id, d.message) for d in passed.devices]
    assert [(w.index, w.status, w.failed) for w in passed.waves or []] == [(1, "completed", 0), (2, "completed", 0)]
    for device in devices:
        [app] = agent_status(device, "wavy")["apps"]
        assert (app["version"], app["status"]) == ("2.0.0", "running"), (device.name, app)
        device.stop_sdv_apps()


def test_rollback_wave_takes_the_failed_waves_healthy_devices_back_to_v1(
    rig: Rig, trust: HostKeyTrust, tmp_path: Path
) -> None:
    healthy, refusing = rig["d5"], rig["d6"]
    records, v2 = wavy_v1_running(rig, [healthy, refusing], trust, tmp_path)

    (refusing.home / MARKER).touch()
    try:
        rolled = deploy_in_waves(rig, [healthy, refusing], v2, trust, records, "2", rollback_wave=True)
    finally:
        (refusing.home / MARKER).unlink()
    row = rolled.device("d5")
    assert (row.status, row.rolled_back, row.version) == ("error", True, "1.0.0"), row.message
    assert row.message == "Rolled back with wave 1: the device runs wavy 1.0.0 (running)"
    assert [(w.status, w.failed) for w in rolled.waves or []] == [("failed", 1)]
    for device in (healthy, refusing):
        [app] = agent_status(device, "wavy")["apps"]
        assert (app["version"], app["status"]) == ("1.0.0", "running"), (device.name, app)
        device.stop_sdv_apps()


def test_rollback_wave_cancels_what_a_scheduled_update_staged_and_leaves_v1_running(
    rig: Rig, trust: HostKeyTrust, tmp_path: Path
) -> None:
    waiting, unplugged = rig["d5"], rig["d6"]
    records, v2 = wavy_v1_running(rig, [waiting], trust, tmp_path)
    before = agent_status(waiting, "wavy")["apps"][0]["pid"]

    # A window hours away: the staged release waits on the device, and would start there on its own.
    start = time.localtime(time.time() + 3 * 3600)
    window = Schedule(window=f"{start.tm_hour:02d}:00-{start.tm_hour:02d}:30")
    unplugged.link(False)  # the wave's other device cannot be reached: the wave fails
    try:
        rolled = deploy_in_waves(rig, [waiting, unplugged], v2, trust, records, "2", rollback_wave=True,
                                 options=replace(FAST, schedule=window, connect_timeout=5.0))
    finally:
        unplugged.link(True)
    assert rolled.device("d6").status == "error"
    row = rolled.device("d5")
    assert (row.status, row.staged, row.rolled_back, row.version) == ("error", False, False, "1.0.0"), row.message
    assert row.message == "Staged release cancelled with wave 1: the device runs wavy 1.0.0 (running)"
    [app] = agent_status(waiting, "wavy")["apps"]
    assert (app["version"], app["status"], app["pid"], app.get("staged")) == ("1.0.0", "running", before, None), app
    waiting.stop_sdv_apps()
