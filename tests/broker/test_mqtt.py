"""MQTT beside a secured databroker: the Velocitas SDK's MQTT client has no credentials and no
TLS, so MQTT cannot ask for either; instead it listens on loopback alone when the databroker asks
for a JWT or TLS, where the device's apps still reach it and the network does not."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sdv_studio.broker.server import BrokerOptions, mqtt_address
from tests.broker.helpers import VSS_40, broker_process, mqtt_round_trip, rsa_keys
from tests.rig.netns import inside_netns

LAN_ADDRESS = "198.18.2.1"  # the benchmarking range the rig uses, here only inside a private namespace


@pytest.mark.parametrize(("address", "when_secured"), [
    ("0.0.0.0", "127.0.0.1"),
    ("::", "127.0.0.1"),
    ("192.0.2.7", "127.0.0.1"),
    ("broker.example", "127.0.0.1"),  # a name may resolve to anything
    ("127.0.0.2", "127.0.0.2"),
    ("::1", "::1"),
    ("localhost", "localhost"),
])
def test_mqtt_listens_beside_the_databroker_unless_that_is_secured(address: str, when_secured: str) -> None:
    assert mqtt_address(BrokerOptions(VSS_40, address=address)) == address
    assert mqtt_address(BrokerOptions(VSS_40, address=address, jwt_public_key=Path("jwt.pem"))) == when_secured
    tls = BrokerOptions(VSS_40, address=address, tls_cert=Path("c.pem"), tls_private_key=Path("k.pem"))
    assert mqtt_address(tls) == when_secured


def test_a_secured_broker_keeps_mqtt_for_the_apps_on_its_machine(tmp_path: Path) -> None:
    _key, public = rsa_keys(tmp_path)
    with broker_process("--vss", str(VSS_40), "--jwt-public-key", str(public), mqtt=True) as info:
        assert f"MQTT on 127.0.0.1:{info['mqtt_port']} (amqtt)" in info["line"]
        assert mqtt_round_trip(info["mqtt_port"]) == b'{"speed": 42}'


@contextmanager
def private_lan() -> Iterator[str]:
    """A network namespace with loopback and a veth pair, one end holding LAN_ADDRESS; its name."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 for a network namespace")
    name = f"sdvt{os.getpid()}-mqtt"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        for command in (["link", "set", "lo", "up"], ["link", "add", "lan0", "type", "veth", "peer", "name", "lan1"],
                        ["addr", "add", f"{LAN_ADDRESS}/24", "dev", "lan0"], ["link", "set", "lan0", "up"],
                        ["link", "set", "lan1", "up"]):
            subprocess.run(["ip", "-n", name, *command], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def reachable(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        return False
    return True


@pytest.mark.rig
@pytest.mark.parametrize("secured", [True, False])
def test_on_all_interfaces_mqtt_stays_on_loopback_when_the_databroker_is_secured(tmp_path: Path,
                                                                                 secured: bool) -> None:
    _key, public = rsa_keys(tmp_path)
    auth = ["--jwt-public-key", str(public)] if secured else []
    with private_lan() as netns, broker_process(
            "--vss", str(VSS_40), "--address", "0.0.0.0", *auth, mqtt=True,
            program=["ip", "netns", "exec", netns, sys.executable, "-m", "sdv_studio", "broker"]) as info, \
            inside_netns(netns):
        assert reachable(LAN_ADDRESS, info["port"])  # the databroker serves the LAN either way
        assert reachable(LAN_ADDRESS, info["mqtt_port"]) is not secured
        assert mqtt_round_trip(info["mqtt_port"]) == b'{"speed": 42}'  # on 127.0.0.1, as apps connect
