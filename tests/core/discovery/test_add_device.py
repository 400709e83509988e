"""Adding a device by hand: which saved device it updates, what an answer saves, and a refusal saving nothing."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from sdv_studio.core.discovery import DeviceEntry, probe_and_save, save_device
from sdv_studio.core.inventory import Inventory, SavedDevice
from sdv_studio.core.ssh import HostKeyTrust, HostKeyUnknown, KnownHosts, Unreachable
from tests.core.discovery.conftest import on_lan
from tests.rig.rig import Rig


@pytest.fixture
def inventory(tmp_path: Path) -> Inventory:
    inventory = Inventory(tmp_path / "devices.json")
    inventory.add(SavedDevice(id="orin", name="Orin on the bench", host="10.20.0.5", port=2222, user="nvidia",
                              key_file="/keys/orin"))
    return inventory


def test_a_given_id_updates_that_device_with_only_what_was_given(inventory: Inventory) -> None:
    device, new = save_device(inventory, DeviceEntry("10.20.0.6", device_id="orin"))
    assert not new
    assert (device.id, device.host, device.port, device.user, device.key_file, device.name) == (
        "orin", "10.20.0.6", 2222, "nvidia", "/keys/orin", "Orin on the bench")
    assert [d.id for d in inventory.devices()] == ["orin"]


def test_without_an_id_the_device_saved_at_the_address_is_updated(inventory: Inventory) -> None:
    device, new = save_device(inventory, DeviceEntry("10.20.0.5", 2222, user="root"))
    assert (device.id, device.user, new) == ("orin", "root", False)
    # Another port is another device; a new one is named by what it answered, else its id.
    other, new = save_device(inventory, DeviceEntry("10.20.0.5"), found_name="orin-2")
    assert (other.id, other.name, other.port, other.user, new) == ("10-20-0-5", "orin-2", 22, None, True)
    again, new = save_device(inventory, DeviceEntry("10.20.0.5", 22, name="Second board"))
    assert (again.id, again.name, new) == ("10-20-0-5", "Second board", False)


def test_a_new_id_saves_a_new_device(inventory: Inventory) -> None:
    device, new = save_device(inventory, DeviceEntry("ecu.local", device_id="ecu"))
    assert (device.id, device.name, device.port, new) == ("ecu", "ecu", 22, True)
    assert [d.id for d in inventory.devices()] == ["orin", "ecu"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_device_that_does_not_answer_is_not_saved(tmp_path: Path) -> None:
    inventory = Inventory(tmp_path / "devices.json")
    entry = DeviceEntry("127.0.0.1", _closed_port(), user="nobody")
    trust = HostKeyTrust(KnownHosts(tmp_path / "known_hosts"))
    with pytest.raises(Unreachable):
        asyncio.run(probe_and_save(entry, trust, inventory, timeout=2.0))
    assert inventory.devices() == []


@pytest.mark.rig
def test_an_answering_device_is_saved_as_probed_and_probed_again_by_id(rig: Rig, tmp_path: Path) -> None:
    inventory = Inventory(tmp_path / "devices.json")
    d2 = rig["d2"]
    refusing = HostKeyTrust(KnownHosts(tmp_path / "known_hosts"))
    entry = DeviceEntry(d2.ip, user=rig.user, key_file=str(rig.key_path))
    with pytest.raises(HostKeyUnknown):
        on_lan(rig, lambda: probe_and_save(entry, refusing, inventory))
    assert inventory.devices() == []

    trust = HostKeyTrust(KnownHosts(tmp_path / "known_hosts"), accept_new=True)
    info = on_lan(rig, lambda: probe_and_save(entry, trust, inventory))
    [saved] = inventory.devices()
    assert (saved.id, saved.name, saved.host, saved.user) == (d2.ip.replace(".", "-"), "d2", d2.ip, rig.user)
    assert saved.last_seen is not None
    assert (info.id, info.status, info.hostname, info.runtime, info.sources) == (
        saved.id, "online", "d2", "both", ["inventory", "probe"])
    assert info.compatible and info.host_key_fingerprint and info.capabilities.docker_version

    renamed = DeviceEntry(d2.ip, user=rig.user, device_id=saved.id, name="Bench Pi")
    again = on_lan(rig, lambda: probe_and_save(renamed, trust, inventory))
    assert again.name == "Bench Pi" and [d.id for d in inventory.devices()] == [saved.id]
