"""Native deployments to foreign devices: Debian bullseye (Python 3.9) and trixie (Python 3.13).

A dependency-free app needs nothing of the device but its Python; with the fallback databroker,
SDV Studio's broker is installed there from wheels chosen for that Python, and answers a real
kuksa-client and a real MQTT client."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest
from kuksa_client.grpc import Datapoint, VSSClient

from sdv_studio.core.defaults import DATABROKER_PORT, MQTT_PORT
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.ssh.trust import HostKeyTrust
from tests.broker.helpers import mqtt_round_trip
from tests.core.deploy.conftest import APPS, agent_status, broker_token, build, deploy
from tests.rig.devices import LOGIN_USER
from tests.rig.forward import LoopbackForward
from tests.rig.rig import Device, Rig

pytestmark = pytest.mark.rig

PYTHONS = {"bullseye": "3.9", "trixie": "3.13"}
# What broker_bundle chooses for each device Python (the newest grpcio with a wheel for it).
GRPCIO = {"bullseye": "1.80.", "trixie": "1.85."}
# And its MQTT broker: amqtt 0.10 below Python 3.10, the workstation's from 3.10 on.
AMQTT = {"bullseye": "0.10.", "trixie": f"{metadata.version('amqtt')}."}


@pytest.fixture(scope="module")
def plain_package(tmp_path_factory: pytest.TempPathFactory) -> PackageFile:
    """No dependencies and no databroker: the device's own Python is all it needs."""
    return build(tmp_path_factory.mktemp("plain"), APPS / "light_counter.py", "plain", fallback_broker=False)


def _deploy_to_both(rig: Rig, package: PackageFile, trust: HostKeyTrust, tmp_path: Path) -> list[Device]:
    devices = [rig[name] for name in PYTHONS]
    result, _ = deploy(rig, devices, package, trust, DeploymentRecords(tmp_path / "records"))
    assert result.status == "completed", [(d.device_id, d.message) for d in result.devices]
    for device in devices:
        row = result.device(device.name)
        assert (row.status, row.runtime) == ("success", "native"), row.message
    return devices


def _interpreter(device: Device, pid: int) -> str:
    return device.run(f"readlink -f /proc/{pid}/exe").stdout.strip()


def _services(device: Device, app: str) -> dict[str, dict]:
    return {s["name"]: s for s in agent_status(device, app)["services"]}


def test_a_plain_app_runs_on_the_devices_own_python(
    foreign_rig: Rig, plain_package: PackageFile, trust: HostKeyTrust, tmp_path: Path
) -> None:
    for device in _deploy_to_both(foreign_rig, plain_package, trust, tmp_path):
        [app] = agent_status(device, "plain")["apps"]
        assert app["status"] == "running" and app["version"] == "1.0.0"
        assert device.run(f"ps -o user= -p {app['pid']}").stdout.strip() == LOGIN_USER
        assert _interpreter(device, app["pid"]).endswith(f"python{PYTHONS[device.name]}")
        assert "databroker" not in _services(device, "plain")


def test_an_app_with_the_fallback_broker_gets_kuksa_and_mqtt_built_for_the_devices_python(
    foreign_rig: Rig, light_package: PackageFile, trust: HostKeyTrust, tmp_path: Path
) -> None:
    for device in _deploy_to_both(foreign_rig, light_package, trust, tmp_path):
        [app] = agent_status(device, "light")["apps"]
        assert app["status"] == "running"
        broker = _services(device, "light")["databroker"]
        assert broker["status"] == "running"
        pid = int(broker["pid"])
        assert _interpreter(device, pid).endswith(f"python{PYTHONS[device.name]}")
        venv = device.run(f"tr '\\0' '\\n' < /proc/{pid}/cmdline").stdout.split()[0].rsplit("/bin/", 1)[0]
        packages = device.run(f"ls {venv}/lib/*/site-packages").stdout.split()
        assert any(p.startswith(f"grpcio-{GRPCIO[device.name]}") for p in packages), packages
        assert any(p.startswith(f"amqtt-{AMQTT[device.name]}") for p in packages), packages
        with LoopbackForward(device.netns, DATABROKER_PORT) as forward, \
                VSSClient("127.0.0.1", forward.port, token=broker_token()) as client:
            client.set_current_values({"Vehicle.Speed": Datapoint(42.0)})
            assert client.get_current_values(["Vehicle.Speed"])["Vehicle.Speed"].value == 42.0
        # What a Velocitas app does at start-up: a paho-mqtt client connects, subscribes, publishes.
        with LoopbackForward(device.netns, MQTT_PORT) as forward:
            assert mqtt_round_trip(forward.port) == b'{"speed": 42}', device.name
