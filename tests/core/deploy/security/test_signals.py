"""The signals a restricted token allows: the AppManifest's datapoints, else the code's Vehicle paths."""

from __future__ import annotations

import json

import pytest

from sdv_studio.core.deploy.security.signals import SignalsError, declared_signals
from tests.locations import REPO

SEAT_ADJUSTER = REPO / "tests/data/apps/corpus/sdk-example-seat-adjuster/seat-adjuster"


def _manifest(points: list[object]) -> bytes:
    return json.dumps({"manifestVersion": "v3", "interfaces": [
        {"type": "pubsub", "config": {"reads": ["x"]}},
        {"type": "vehicle-signal-interface", "config": {"datapoints": {"required": points}}}]}).encode()


def test_the_app_manifest_declares_what_is_read_and_written_and_the_code_is_not_scanned() -> None:
    entries = {"app/AppManifest.json": (SEAT_ADJUSTER / "AppManifest.json").read_bytes(),
               "app/src/main.py": b"await self.Vehicle.Body.Horn.IsActive.set(True)\n"}
    scope = declared_signals(entries)
    assert scope.source == "app/AppManifest.json"
    assert scope.writes == {"Vehicle.Cabin.Seat.Row1.DriverSide.Position"}
    assert scope.reads == {"Vehicle.Speed", "Vehicle.Cabin.Seat.Row1.DriverSide.Position"}
    assert scope.claim() == ("read:Vehicle.Speed provide:Vehicle.Cabin.Seat.Row1.DriverSide.Position "
                             "actuate:Vehicle.Cabin.Seat.Row1.DriverSide.Position")


def test_without_declared_datapoints_the_codes_vehicle_paths_are_read_and_written() -> None:
    code = (b"client.set_current_values({'Vehicle.Speed': Datapoint(1.0)})\n"
            b"await self.Vehicle.Cabin.Seat.Row(1).Pos(2).Position.set(10)\n"
            b"vehicle.Body.Lights.Beam.Low.IsOn.subscribe(on_change)\n"
            b"class SDVVehicleApp: pass  # not a path\n")
    entries = {"app/AppManifest.json": _manifest_without_points(), "app/main.py": code,
               "support/vehicle/__init__.py": b"Vehicle.Chassis.Axle = 1\n"}
    scope = declared_signals(entries)
    expected = {"Vehicle.Speed", "Vehicle.Cabin.Seat.Row1.Pos2.Position", "Vehicle.Body.Lights.Beam.Low.IsOn"}
    assert scope.writes == scope.reads == expected  # support/ is SDV Studio's, not the app's
    assert scope.source == "the Vehicle paths in the code"
    assert declared_signals({"app/main.py": b"print('no signals')\n"}).claim() == ""


def _manifest_without_points() -> bytes:
    return json.dumps({"manifestVersion": "v3", "interfaces": [{"type": "pubsub", "config": {}}]}).encode()


@pytest.mark.parametrize(("point", "problem"), [
    ({"path": "Speed", "access": "read"}, "required[0].path: must be a VSS path"),
    ({"path": "Vehicle.Speed", "access": "readwrite"}, "required[0].access: must be read or write"),
])
def test_a_datapoint_that_cannot_be_read_names_file_and_field(point: dict[str, str], problem: str) -> None:
    with pytest.raises(SignalsError) as caught:
        declared_signals({"app/AppManifest.json": _manifest([point])})
    assert str(caught.value).startswith(f"app/AppManifest.json: interfaces[1].config.datapoints.{problem}")
