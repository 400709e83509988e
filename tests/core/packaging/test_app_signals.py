"""The signals a package lists for a monitor: declared in the AppManifest or named in the code, and
real signals of the package's VSS catalogue."""

from __future__ import annotations

from sdv_studio import shipped
from sdv_studio.core.packaging.app_signals import app_signals, paths_in_code
from sdv_studio.core.packaging.appmanifest import parse_app_manifest
from sdv_studio.core.packaging.sources import load_source
from tests.locations import REPO

CORPUS = REPO / "tests" / "data" / "apps" / "corpus"

CODE = '''
await self.Vehicle.Body.Lights.Beam.Low.IsOn.set(True)      # the Velocitas model
speed = client.get_current_values(["Vehicle.Speed"])        # kuksa-client takes strings
seat = self.Vehicle.Cabin.Seat.Row(1).Pos(1).Position       # an instance call: not a whole path
# Vehicle.NoSuchSignal is a typo
'''


def test_paths_are_read_from_code_up_to_the_first_lower_case_part() -> None:
    assert paths_in_code([CODE]) == {"Vehicle.Body.Lights.Beam.Low.IsOn", "Vehicle.Speed",
                                     "Vehicle.Cabin.Seat.Row", "Vehicle.NoSuchSignal"}


def test_only_the_catalogues_signals_are_kept_and_declared_ones_join_them() -> None:
    found = app_signals(["Vehicle.Body.Trunk.Rear.IsOpen"], [CODE], shipped.vss_dir() / "vss_release_4.0.json")
    assert found == ["Vehicle.Body.Lights.Beam.Low.IsOn", "Vehicle.Body.Trunk.Rear.IsOpen", "Vehicle.Speed"]
    assert app_signals([], [CODE], None) == sorted(paths_in_code([CODE]))  # nothing to check against


def test_the_app_manifest_declares_its_datapoints() -> None:
    manifest = parse_app_manifest((CORPUS / "velocitas-app-folder" / "app" / "AppManifest.json").read_bytes(),
                                  "AppManifest.json")
    assert manifest.datapoints == ["Vehicle.Body.Trunk.Rear.IsOpen"]
    assert load_source(CORPUS / "velocitas-app-folder").declared_signals == ["Vehicle.Body.Trunk.Rear.IsOpen"]
    assert parse_app_manifest(b'{"manifestVersion": "v3", "interfaces": [{"type": "vehicle-signal-interface", '
                              b'"config": {"datapoints": {"required": [{"path": 3}, "x"]}}}]}', "m").datapoints == []
