"""Overlays compiled with the real vss-tools and merged into a release catalogue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sdv_studio.core.packaging.vss_overlay import OverlayError, effective_catalogue, overlay_files

RELEASE = {"Vehicle": {"type": "branch", "description": "High-level vehicle data.", "children": {
    "Speed": {"type": "sensor", "datatype": "float", "unit": "km/h", "description": "Vehicle speed."},
    "Cabin": {"type": "branch", "description": "All in-cabin components.", "children": {
        "Sunroof": {"type": "branch", "description": "Sunroof.", "children": {}}}},
}}}
OVERLAY = b"""\
Vehicle.Speed:
  datatype: float
  type: sensor
  unit: km/h
  max: 250
  description: Vehicle speed, limited by this car.

Vehicle.Pet:
  type: branch
  description: The pet on board.

Vehicle.Pet.Name:
  datatype: string
  type: attribute
  description: What the pet answers to.
"""


@pytest.fixture
def release(tmp_path: Path) -> Path:
    path = tmp_path / "release.json"
    # A catalogue of its own per run, so the compiled result is never an earlier run's cached one.
    path.write_text(json.dumps({**RELEASE, "Run": {"type": "branch", "description": str(tmp_path)}}))
    return path


def test_overlay_adds_branches_and_overrides_leaves(release: Path) -> None:
    merged = json.loads(effective_catalogue(release, [("pet.vspec", OVERLAY)], lambda _: None).read_text())
    vehicle = merged["Vehicle"]
    assert vehicle["description"] == "High-level vehicle data."  # the release's branch is kept
    assert vehicle["children"]["Speed"]["max"] == 250 and vehicle["children"]["Speed"]["unit"] == "km/h"
    assert vehicle["children"]["Pet"]["children"]["Name"]["datatype"] == "string"
    assert "Sunroof" in vehicle["children"]["Cabin"]["children"]


def test_same_inputs_same_catalogue_and_none_without_overlays(release: Path) -> None:
    first = effective_catalogue(release, [("pet.vspec", OVERLAY)], lambda _: None)
    said: list[str] = []
    assert effective_catalogue(release, [("pet.vspec", OVERLAY)], said.append) == first and not said  # cached
    assert effective_catalogue(release, [], lambda _: None) == release


def test_overlay_limits() -> None:
    with pytest.raises(OverlayError) as info:
        overlay_files({"big.vspec": b"#" * (1024 * 1024 + 1), "main.py": b""})
    assert info.value.problems == ["big.vspec: larger than 1024KB"]
