"""The saved device inventory: a JSON file, passwords only in the (test) keyring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sdv_studio.core.errors import InvalidInput, NotFound, Unavailable
from sdv_studio.core.inventory import Inventory, InventoryError, SavedDevice, device_id_for
from sdv_studio.core.ssh import load_password


def test_add_edit_remove_round_trip(tmp_path: Path) -> None:
    inv = Inventory(tmp_path / "devices.json")
    inv.add(SavedDevice(id="orin-1", name="Orin", host="10.9.0.5", user="nvidia", key_file="~/.ssh/orin"))
    inv.add(SavedDevice(id="ecu", name="ECU", host="ecu.local", port=2222))
    assert [d.id for d in inv.devices()] == ["orin-1", "ecu"]
    assert inv.get("10.9.0.5").id == "orin-1"  # type: ignore[union-attr]
    target = inv.get("orin-1").target()  # type: ignore[union-attr]
    assert (target.host, target.user, target.key_file) == ("10.9.0.5", "nvidia", Path.home() / ".ssh" / "orin")
    assert inv.get("orin-1").target(user="root").user == "root"  # type: ignore[union-attr]
    edited = inv.edit("ecu", port=22, user="sdv")
    assert (edited.port, edited.user) == (22, "sdv")
    inv.remove("orin-1")
    assert [d.id for d in Inventory(tmp_path / "devices.json").devices()] == ["ecu"]
    raw = json.loads((tmp_path / "devices.json").read_text())
    assert raw["devices"][0]["addedAt"] and "password" not in json.dumps(raw).lower()


def test_passwords_live_in_the_keyring_follow_edits_and_leave_with_the_device(tmp_path: Path) -> None:
    inv = Inventory(tmp_path / "devices.json")
    dev = inv.add(SavedDevice(id="lab", name="Lab", host="10.9.0.7", user="sdv"))
    inv.set_password(dev, "s3cret-pw")
    assert inv.has_password(dev) and "s3cret-pw" not in (tmp_path / "devices.json").read_text()
    moved = inv.edit("lab", host="10.9.0.8")
    assert inv.has_password(moved) and load_password("sdv", "10.9.0.7", 22) is None
    inv.remove("lab")
    assert load_password("sdv", "10.9.0.8", 22) is None


def test_refusals_and_their_kinds(tmp_path: Path) -> None:
    """A refused change is invalid input, an unknown id names nothing, a damaged file is unavailable."""
    inv = Inventory(tmp_path / "devices.json")
    inv.add(SavedDevice(id="a", name="A", host="10.0.0.1"))
    with pytest.raises(InvalidInput, match="already saved") as refused:
        inv.add(SavedDevice(id="a", name="A2", host="10.0.0.2"))
    assert isinstance(refused.value, InventoryError) and not isinstance(refused.value, NotFound)
    with pytest.raises(InvalidInput, match="lowercase"):
        inv.add(SavedDevice(id="Bad Id", name="B", host="10.0.0.3"))
    with pytest.raises(NotFound, match="no saved device"):
        inv.remove("nope")
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(Unavailable, match="not a device inventory") as unreadable:
        Inventory(tmp_path / "broken.json").devices()
    assert isinstance(unreadable.value, InventoryError)
    assert device_id_for("Jetson.local") == "jetson-local"


def test_tags_are_kept_once_sorted_and_can_be_added_and_removed(tmp_path: Path) -> None:
    inv = Inventory(tmp_path / "devices.json")
    inv.add(SavedDevice(id="orin", name="Orin", host="10.9.0.5", tags=["orin", "bench", "orin"]))
    assert inv.get("orin").tags == ["bench", "orin"]  # type: ignore[union-attr]
    assert inv.retag("10.9.0.5", add=["campaign-7"], remove=["bench"]).tags == ["campaign-7", "orin"]
    assert [d.id for d in Inventory(tmp_path / "devices.json").tagged("campaign-7")] == ["orin"]
    assert inv.tagged("bench") == []
    with pytest.raises(InventoryError, match="tag 'Bench': must be lowercase"):
        inv.retag("orin", add=["Bench"])
    with pytest.raises(InventoryError, match="tag 'bench': orin does not have it"):
        inv.retag("orin", remove=["bench"])
    with pytest.raises(InventoryError, match="nope: no saved device"):
        inv.retag("nope", add=["x"])
    assert inv.get("orin").tags == ["campaign-7", "orin"]  # type: ignore[union-attr]  # refusals changed nothing
