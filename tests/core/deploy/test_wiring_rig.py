"""Deploying next to a databroker on the device's own loopback: the app is wired to it, found by the
same detection as the Devices and Kuksa steps, and no fallback broker is started."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sdv_studio.core.deploy import start_deployment
from sdv_studio.core.deploy.events import DeviceLog
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.ssh.trust import HostKeyTrust
from tests.core.deploy.conftest import FAST, ref
from tests.core.kuksa.device_broker import broker_on
from tests.rig.rig import Rig

pytestmark = pytest.mark.rig


def test_app_wired_to_the_loopback_databroker_found_on_the_device(
    rig: Rig, trust: HostKeyTrust, light_package: PackageFile, tmp_path: Path
) -> None:
    device = rig["d6"]

    async def go() -> list[str]:
        run = start_deployment(light_package, [ref(rig, device)], trust, FAST,
                               records=DeploymentRecords(tmp_path / "records"))
        lines = [e.line async for e in run.hub.follow() if isinstance(e, DeviceLog)]
        assert (await run.wait()).status == "completed", lines
        return lines

    with broker_on(device), rig.in_workstation():
        lines = asyncio.run(go())
    wired = [line for line in lines if line.startswith("databroker ")]
    assert wired == ["databroker 127.0.0.1:55555 (databroker found on the device (sdv-studio-databroker 0.1.0; "
                     "kuksa.val.v2, kuksa.val.v1, sdv.databroker.v1))"], lines
