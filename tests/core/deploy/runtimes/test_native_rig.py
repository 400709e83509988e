"""Native deployments on the rig: real sshd, the real agent, real processes on the devices."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.discovery.mdns import AGENT_SERVICE, MdnsService, browse
from sdv_studio.core.ssh.trust import HostKeyTrust
from tests.core.deploy.conftest import FAST, agent_status, deploy
from tests.rig.devices import LOGIN_USER
from tests.rig.rig import Device, Rig

pytestmark = pytest.mark.rig
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


def test_a_deployed_device_advertises_itself_over_mdns(
    rig: Rig, light_package: PackageFile, trust: HostKeyTrust, tmp_path: Path
) -> None:
    devices, quiet = rig.working()[4:], rig.working()[3]
    for device in (*devices, quiet):
        device.stop_sdv_apps()  # what earlier tests left advertising
    result, _ = deploy(rig, devices, light_package, trust, DeploymentRecords(tmp_path / "records"),
                       replace(FAST, advertise=True))
    assert result.status == "completed", [(d.device_id, d.message) for d in result.devices]
    quiet_result, _ = deploy(rig, [quiet], light_package, trust, DeploymentRecords(tmp_path / "records"))
    assert quiet_result.status == "completed"  # advertising is opt-in: this one was not asked to
    def advertiser(device: Device) -> str | None:
        return {s["name"]: s["status"] for s in agent_status(device, "light")["services"]}.get("sdv-mdns")

    # The supervisor starts the advertiser a few seconds after the deployment, off its critical path
    # (a loaded machine may take that long to get here).
    assert {advertiser(d) for d in devices} <= {"scheduled", "running"}

    async def agents() -> dict[str, MdnsService]:
        found: dict[str, MdnsService] = {}
        async for service in browse(duration=20, service_types=[AGENT_SERVICE]):
            found.update({address: service for address in service.addresses})
            if {d.ip for d in devices} <= found.keys():
                break
        return found

    with rig.in_workstation():
        found = asyncio.run(agents())
    for device in devices:
        service = found.get(device.ip)
        assert service is not None, f"{device.name} is not advertised; found {sorted(found)}"
        assert list(service.addresses) == [device.ip]  # only the interface the workstation reached it through
        assert service.ssh_port == 22 and service.properties["arch"] == "x86_64"
        assert service.properties["python"].startswith("3.") and service.properties["agent"]
        assert advertiser(device) == "running"
    assert quiet.ip not in found and advertiser(quiet) is None
