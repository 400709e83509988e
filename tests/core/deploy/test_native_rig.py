"""Native deployments on the rig: real sshd, the real agent, real processes on the devices."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from sdv_studio.core.deploy.device_job import DeployOptions
from sdv_studio.core.deploy.events import DeviceProgress
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.deploy.service import start_deployment
from sdv_studio.core.ssh.trust import HostKeyTrust
from sdv_studio.models.deployment import Deployment
from tests.core.deploy.conftest import ref
from tests.rig.devices import LOGIN_USER
from tests.rig.rig import Device, Rig

pytestmark = pytest.mark.rig
AGENT = f"python3 /home/{LOGIN_USER}/.local/share/sdv-studio/agent/sdv_agent.py"


def deploy(rig: Rig, devices: list[Device], package: PackageFile, trust: HostKeyTrust, records: DeploymentRecords,
           options: DeployOptions | None = None) -> tuple[Deployment, list[DeviceProgress]]:
    async def go() -> tuple[Deployment, list[DeviceProgress]]:
        run = start_deployment(package, [ref(rig, d) for d in devices], trust,
                               options or DeployOptions(grace_seconds=1.0), records=records)
        events = [e async for e in run.hub.follow() if isinstance(e, DeviceProgress)]
        return await run.wait(), events

    with rig.in_workstation():
        return asyncio.run(go())


def agent_status(device: Device, name: str) -> dict:
    out = device.run(f"{AGENT} status '{json.dumps({'name': name})}'", user=LOGIN_USER).stdout
    return json.loads(out)


def test_light_app_deploys_to_six_devices_at_once(
    rig: Rig, light_package: PackageFile, trust: HostKeyTrust, tmp_path: Path
) -> None:
    records = DeploymentRecords(tmp_path / "records")
    devices = rig.working()
    assert len(devices) == 6
    result, events = deploy(rig, devices, light_package, trust, records)
    assert result.status == "completed", [(d.device_id, d.message) for d in result.devices]
    for device in devices:
        row = result.device(device.name)
        assert (row.status, row.progress, row.runtime) == ("success", 100, "native")
        [app] = agent_status(device, "light")["apps"]
        assert app["status"] == "running" and app["version"] == "1.0.0"
        # The process really runs on the device, as the login user.
        owner = device.run(f"ps -o user= -p {app['pid']}").stdout.strip()
        assert owner == LOGIN_USER
        stages = [e.progress for e in events if e.device_id == device.name]
        assert stages == [10, 30, 60, 80, 90, 95, 100]
    # History survives: a new records object reads the same deployment back.
    assert DeploymentRecords(tmp_path / "records").load(result.deployment_id).status == "completed"
