"""A container deployment takes the device's deployment lock as a native one does: while another
deployment holds the device it waits (saying for whom), and gives up with that name when it waits
too long; nothing is built or started meanwhile."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from sdv_studio.core.deploy import start_deployment
from sdv_studio.core.deploy.agent_link.session import agent_session
from sdv_studio.core.deploy.events import DeviceLog
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.ssh.trust import HostKeyTrust
from tests.core.deploy.conftest import APPS, FAST, build, ref
from tests.rig.rig import Rig

pytestmark = pytest.mark.rig
HOLDER = {"host": "other-workstation", "pid": 4242, "deploymentId": "deploy_0123456789abcdef"}


def test_a_container_deployment_waits_for_the_device_lock_then_runs(
    rig: Rig, trust: HostKeyTrust, tmp_path: Path
) -> None:
    device = rig["d2"]  # it has a container engine
    package = build(tmp_path, APPS / "light_counter.py", "locked", runtime="docker")
    target = ref(rig, device)
    records = DeploymentRecords(tmp_path / "records")

    async def go() -> tuple[str, str, list[str]]:
        async def deploy(lock_wait: float) -> tuple[str, str, list[str]]:
            run = start_deployment(package, [target], trust, replace(FAST, lock_wait=lock_wait), records=records)
            lines = [e.line async for e in run.hub.follow() if isinstance(e, DeviceLog)]
            result = await run.wait()
            return result.status, result.devices[0].message, lines

        prepare = {"name": "locked", "packageId": package.package_id, "holder": HOLDER}
        async with agent_session(target.target, trust, 30, "prepare", prepare):
            refused = await deploy(lock_wait=2)
            waiting = asyncio.ensure_future(deploy(lock_wait=120))
            await asyncio.sleep(3)
            assert not waiting.done()  # still waiting for the holder
        return refused, await waiting  # type: ignore[return-value]

    with rig.in_workstation():
        (status, message, _), (status_after, message_after, lines) = asyncio.run(go())
    assert status == "failed" and "the device is busy: deploy_0123456789abcdef from workstation other-workstation" \
        in message, message
    assert status_after == "completed", message_after
    assert any("waiting up to 120s" in line for line in lines), lines
    assert device.run("docker ps -q --filter label=io.sdv-studio.app=locked").stdout.split()
