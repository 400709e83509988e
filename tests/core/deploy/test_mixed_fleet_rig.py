"""One package, one deployment, three device Pythons (bullseye 3.9, bookworm 3.11, trixie 3.13):
a kuksa-client program runs on all three and drives its signal on each device's own databroker;
the playground's Velocitas app runs where its SDK has wheels and is refused, with a reason a person
can act on, where it has none (velocitas-sdk pins grpcio 1.64.1: no wheel for Python 3.13)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from kuksa_client.grpc import VSSClient

from sdv_studio.core.defaults import DATABROKER_PORT
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.ssh.trust import HostKeyTrust
from tests.core.deploy.conftest import APPS, agent_status, broker_token, build, deploy
from tests.rig.devices import LOGIN_USER
from tests.rig.forward import LoopbackForward
from tests.rig.rig import Device, Rig

pytestmark = pytest.mark.rig

FLEET = {"bullseye": "3.9", "bookworm": "3.11", "trixie": "3.13"}
CORPUS = APPS / "corpus"


def _fleet_package(tmp: Path, source: Path, name: str) -> PackageFile:
    """Wheels for the three Pythons, on this machine's architecture only (the rig's)."""
    return build(tmp, source, name, python_versions=list(FLEET.values()), platforms=["x86_64"])


def _distinct_values(device: Device, path: str, wanted: int, within: float = 20.0) -> set[object]:
    """Values of ``path`` an independent kuksa-client reads on the device's own broker."""
    seen: set[object] = set()
    deadline = time.monotonic() + within
    with LoopbackForward(device.netns, DATABROKER_PORT) as forward, \
            VSSClient("127.0.0.1", forward.port, token=broker_token()) as client:
        while len(seen) < wanted and time.monotonic() < deadline:
            value = client.get_current_values([path])[path]
            if value is not None:
                seen.add(value.value)
            time.sleep(0.2)
    return seen


def test_a_kuksa_client_program_runs_on_39_311_and_313_from_one_package(
    foreign_rig: Rig, trust: HostKeyTrust, tmp_path: Path
) -> None:
    package = _fleet_package(tmp_path, CORPUS / "kuksa-sync" / "speed_feeder.py", "speed-feeder")
    assert set(package.manifest["pythonVersions"]) == set(FLEET.values())
    devices = [foreign_rig[name] for name in FLEET]
    result, _ = deploy(foreign_rig, devices, package, trust, DeploymentRecords(tmp_path / "records"))
    assert result.status == "completed", [(d.device_id, d.message) for d in result.devices]
    for device in devices:
        [app] = agent_status(device, "speed-feeder")["apps"]
        assert app["status"] == "running", (device.name, app)
        # kuksa-client 0.6 needs Python 3.11: the 3.9 device runs the newest release that supports it.
        client = device.run("ls /home/sdv/.local/share/sdv-studio/apps/speed-feeder/venvs/*/lib/*/site-packages"
                            " | grep -i '^kuksa_client-'", user=LOGIN_USER).stdout
        assert client.startswith("kuksa_client-0.5." if device.name == "bullseye" else "kuksa_client-0.6."), client
        assert len(_distinct_values(device, "Vehicle.Speed", 3)) >= 3, device.name


def test_the_playground_app_runs_on_39_and_311_and_313_is_refused_with_the_reason(
    foreign_rig: Rig, trust: HostKeyTrust, tmp_path: Path
) -> None:
    package = _fleet_package(tmp_path, APPS / "playground_default.py", "playground")
    devices = [foreign_rig[name] for name in FLEET]
    result, _ = deploy(foreign_rig, devices, package, trust, DeploymentRecords(tmp_path / "records"))
    rows = {row.device_id: row for row in result.devices}
    for name in ("bullseye", "bookworm"):
        assert rows[name].status == "success", (name, rows[name].message)
        [app] = agent_status(foreign_rig[name], "playground")["apps"]
        assert app["status"] == "running", (name, app)
    refused = rows["trixie"]
    assert refused.status == "error" and refused.stage == "compatibility", refused
    assert "grpcio==1.64.1" in refused.message and "Python 3.13" in refused.message, refused.message
    assert "Docker runtime" in refused.message, refused.message
