"""A deployment cancelled on the rig records what the device runs afterwards, as the device's own
status reports it: the old version when cancelled mid-transfer, the new one when its start was
already under way (it finishes, and the record waits for it)."""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from sdv_studio.core.deploy import start_deployment
from sdv_studio.core.deploy.app_control import device_status
from sdv_studio.core.deploy.events import DeviceProgress
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.ssh.trust import HostKeyTrust
from sdv_studio.models.deployment import Deployment, DeviceApps
from tests.core.deploy.conftest import APPS, FAST, build, deploy, ref
from tests.rig.rig import Rig

pytestmark = pytest.mark.rig


def test_a_cancel_mid_transfer_records_what_status_then_reports(rig: Rig, trust: HostKeyTrust, tmp_path: Path) -> None:
    device, records = rig["d1"], DeploymentRecords(tmp_path / "records")
    v1 = build(tmp_path, APPS / "light_counter.py", "halfway", "1.0.0")
    project = tmp_path / "halfway"
    project.mkdir()
    shutil.copy(APPS / "light_counter.py", project / "main.py")
    (project / "calibration.bin").write_bytes(os.urandom(2_000_000))  # new to the device: it must be sent
    v2 = build(tmp_path, project, "halfway", "2.0.0")
    assert deploy(rig, [device], v1, trust, records)[0].status == "completed"
    # Written as .part until all of it came (then renamed): its .part file means mid-transfer.
    arriving = device.home / ".local/share/sdv-studio/uploads" / v2.package_id / "app" / "calibration.bin.part"

    async def cancel_once_it_arrives() -> tuple[Deployment, DeviceApps]:
        run = start_deployment(v2, [ref(rig, device)], trust, FAST, records=records)
        while not arriving.exists():
            await asyncio.sleep(0.05)
        run.cancel()
        result = await run.wait()
        return result, await device_status(ref(rig, device), trust, 30, "halfway")

    device.throttle("2mbit")  # 2 MB take 8 s: the cancel comes mid-transfer
    try:
        with rig.in_workstation():
            result, status = asyncio.run(asyncio.wait_for(cancel_once_it_arrives(), 120))
    finally:
        device.throttle(None)
    row = result.device("d1")
    assert (result.status, row.status, row.stage) == ("cancelled", "cancelled", "transfer"), row
    [app] = status.apps
    assert (app.version, app.status) == ("1.0.0", "running")
    assert row.version == app.version and row.message == "Cancelled; the device runs halfway 1.0.0 (running)"
    assert records.load(result.deployment_id).device("d1").message == row.message


def test_a_cancel_during_the_health_gate_records_the_new_version_that_then_runs(
    rig: Rig, trust: HostKeyTrust, tmp_path: Path
) -> None:
    device, records = rig["d2"], DeploymentRecords(tmp_path / "records")
    v1 = build(tmp_path, APPS / "light_counter.py", "gated", "1.0.0")
    v2 = build(tmp_path, APPS / "light_counter.py", "gated", "2.0.0")
    assert deploy(rig, [device], v1, trust, records)[0].status == "completed"

    async def cancel_at_the_gate() -> tuple[Deployment, DeviceApps]:
        run = start_deployment(v2, [ref(rig, device)], trust, replace(FAST, grace_seconds=4.0), records=records)
        async for event in run.hub.follow():
            if isinstance(event, DeviceProgress) and event.stage == "health":
                run.cancel()
        return await run.wait(), await device_status(ref(rig, device), trust, 30, "gated")

    with rig.in_workstation():
        result, status = asyncio.run(cancel_at_the_gate())
    row = result.device("d2")
    assert (row.status, row.stage) == ("cancelled", "health"), row
    [app] = status.apps
    assert (app.version, app.status) == ("2.0.0", "running")  # the start under way finished
    assert row.version == "2.0.0" and row.message == "Cancelled; the device runs gated 2.0.0 (running)"
