"""A deployment cancelled on the rig records what the device runs afterwards, as the device's own
status reports it: the old version when cancelled mid-transfer, the new one when its start was
already under way (it finishes, and the record waits for it)."""

from __future__ import annotations

import asyncio
import threading
import time
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
    v2 = build(tmp_path, APPS / "kuksa_app.py", "halfway", "2.0.0", platforms=["x86_64"])  # wheels: a transfer
    assert deploy(rig, [device], v1, trust, records)[0].status == "completed"
    uploads = device.home / ".local/share/sdv-studio/uploads" / v2.package_id

    async def cancel_when_wheels_arrive() -> tuple[Deployment, DeviceApps]:
        run = start_deployment(v2, [ref(rig, device)], trust, FAST, records=records)
        loop, cancelled = asyncio.get_running_loop(), threading.Event()

        def watch() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not cancelled.is_set():
                if uploads.exists() and any(uploads.rglob("*.whl")):
                    loop.call_soon_threadsafe(run.cancel)
                    cancelled.set()
                time.sleep(0.005)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        result = await run.wait()
        watcher.join(timeout=60)
        assert cancelled.is_set(), "the transfer finished before it could be cancelled"
        return result, await device_status(ref(rig, device), trust, 30, "halfway")

    with rig.in_workstation():
        result, status = asyncio.run(cancel_when_wheels_arrive())
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
