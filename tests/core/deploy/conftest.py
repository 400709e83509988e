"""Packages and connection settings for deployment tests on the rig."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from sdv_studio.core.deploy import DeployOptions, DeviceRef, start_deployment
from sdv_studio.core.deploy.events import DeviceProgress
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.deploy.security.tokens import FULL_ACCESS, mint, workstation_key
from sdv_studio.core.packaging.builder import BuildOptions, build_package
from sdv_studio.core.ssh.known_hosts import KnownHosts
from sdv_studio.core.ssh.target import SshTarget
from sdv_studio.core.ssh.trust import HostKeyTrust
from sdv_studio.models.deployment import Deployment
from tests.rig.devices import LOGIN_USER
from tests.rig.rig import Device, Rig

APPS = Path(__file__).resolve().parents[2] / "data" / "apps"
AGENT = f"python3 /home/{LOGIN_USER}/.local/share/sdv-studio/agent/entrypoint.py"
FAST = DeployOptions(grace_seconds=1.0)


def build(tmp: Path, source: Path | str, name: str, version: str = "1.0.0", **options: object) -> PackageFile:
    """Package ``source`` (a path, or code written to ``tmp``) like `sdv-studio package` does."""
    if isinstance(source, str):
        path = tmp / f"{name}-{version}.py"
        path.write_text(source)
        source = path
    options = {"python_versions": ["3.11"], **options}  # one Python unless a test is about Pythons
    result = build_package(source, BuildOptions(name=name, version=version, output_dir=tmp, **options))  # type: ignore[arg-type]
    return PackageFile(result.path)


@pytest.fixture(scope="session")
def light_package(tmp_path_factory: pytest.TempPathFactory) -> PackageFile:
    """An app with no dependencies: its install is light, so tests measure the orchestration."""
    return build(tmp_path_factory.mktemp("light"), APPS / "light_counter.py", "light")


def ref(rig: Rig, device: Device) -> DeviceRef:
    return DeviceRef(device.name, SshTarget(device.ip, user=rig.user, key_file=rig.key_path, use_keyring=False))


@pytest.fixture
def trust(tmp_path: Path) -> HostKeyTrust:
    return HostKeyTrust(KnownHosts(tmp_path / "known_hosts"), accept_new=True)


def deploy(rig: Rig, devices: list[Device], package: PackageFile, trust: HostKeyTrust, records: DeploymentRecords,
           options: DeployOptions = FAST) -> tuple[Deployment, list[DeviceProgress]]:
    """Deploy from the workstation namespace; the result and every progress event."""
    async def go() -> tuple[Deployment, list[DeviceProgress]]:
        run = start_deployment(package, [ref(rig, d) for d in devices], trust, options, records=records)
        events = [e async for e in run.hub.follow() if isinstance(e, DeviceProgress)]
        return await run.wait(), events

    with rig.in_workstation():
        return asyncio.run(go())


def agent_status(device: Device, name: str) -> dict[str, Any]:
    """What the agent on the device says of ``name``, asked on the device itself."""
    out = device.run(f"{AGENT} status '{json.dumps({'name': name})}'", user=LOGIN_USER).stdout
    answer: dict[str, Any] = json.loads(out)
    return answer


def footprint(device: Device, app: str) -> dict[str, Any]:
    """What a deployment of ``app`` that reached the device would change: the app's process and
    releases, and the agent's uploads folder (every deploy session clears package uploads there)."""
    [state] = agent_status(device, app)["apps"]
    inventory = json.loads(device.run(f"{AGENT} inventory '{json.dumps({'name': app})}'",
                                      user=LOGIN_USER).stdout)
    uploads = Path(inventory["uploads"].replace(f"/home/{LOGIN_USER}", str(device.home), 1))
    return {"version": state["version"], "status": state["status"], "pid": state["pid"],
            "releases": sorted(r["release"] for r in inventory["apps"][0]["releases"]),
            "uploads": sorted((p.name, p.stat().st_mtime_ns) for p in uploads.iterdir()) if uploads.exists() else []}


def broker_token() -> str:
    """A token for every signal on the databroker deployments start on rig devices, which verifies
    this test session's workstation key (the deployments' own)."""
    return mint(workstation_key(), "tests", FULL_ACCESS)
