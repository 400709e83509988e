"""What a user names with --device (an address, a saved id, tag:NAME) resolved into targets."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdv_studio.core.deploy.targets import ConnectionDefaults, UnknownDevice, resolve_devices
from sdv_studio.core.inventory import Inventory, SavedDevice


@pytest.fixture
def inventory(tmp_path: Path) -> Inventory:
    inventory = Inventory(tmp_path / "devices.json")
    inventory.add(SavedDevice(id="orin-1", name="Orin 1", host="10.9.0.1", user="nvidia", tags=["orin", "bench"]))
    inventory.add(SavedDevice(id="pi", name="Pi", host="10.9.0.2", tags=["bench"]))
    inventory.add(SavedDevice(id="orin-2", name="Orin 2", host="10.9.0.3", port=2222, tags=["orin"]))
    return inventory


def test_a_tag_names_every_device_with_it_in_inventory_order(inventory: Inventory) -> None:
    refs = resolve_devices(["tag:orin"], ConnectionDefaults(user="admin"), inventory)
    assert [r.device_id for r in refs] == ["orin-1", "orin-2"]
    assert [(r.target.host, r.target.port, r.target.user) for r in refs] == [
        ("10.9.0.1", 22, "admin"), ("10.9.0.3", 2222, "admin")]  # --user wins, as for a saved id


def test_overlapping_tags_and_names_take_each_device_once(inventory: Inventory) -> None:
    refs = resolve_devices(["pi", "tag:bench", "tag:orin"], None, inventory)
    assert [r.device_id for r in refs] == ["pi", "orin-1", "orin-2"]


def test_a_device_named_twice_without_a_tag_is_still_an_error(inventory: Inventory) -> None:
    with pytest.raises(UnknownDevice, match="--device pi: the same device as pi"):
        resolve_devices(["pi", "10.9.0.2"], None, inventory)


def test_an_unknown_tag_is_named_with_the_other_problems(inventory: Inventory) -> None:
    with pytest.raises(UnknownDevice) as raised:
        resolve_devices(["tag:jetson", "bad host!", "tag:orin"], None, inventory)
    assert raised.value.problems == [
        "--device tag:jetson: no saved device has the tag 'jetson'",
        "--device bad host!: 'bad host!': expected [USER@]HOST[:PORT]",
    ]
