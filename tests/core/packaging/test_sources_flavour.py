"""Every source kind, and flavour detection from imports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sdv_studio.core.packaging.flavour import Flavour, detect_flavour, is_complete_program, needs_vehicle_model
from sdv_studio.core.packaging.sources import SourceError, load_source, source_from_playground

APPS = Path(__file__).resolve().parents[2] / "data" / "apps"


def test_single_file() -> None:
    source = load_source(APPS / "kuksa_app.py")
    assert (source.kind, source.entry_point, source.name_hint) == ("file", "main.py", "kuksa_app")
    assert list(source.files) == ["main.py"]


def test_velocitas_project_folder() -> None:
    source = load_source(APPS / "velocitas_project")
    assert source.kind == "folder"
    assert source.entry_point == "src/main.py"
    assert source.name_hint == "SampleApp"  # from AppManifest.json
    assert source.vss_hint == "4.0"  # from the vehicle-signal-interface's src (a release URL)
    assert ("velocitas-sdk==0.13.1", "app/requirements-velocitas.txt:1") in source.requirement_lines()
    assert "AppManifest.json" in source.files


def test_velocitas_template_repository_root() -> None:
    """The template's layout: the developer environment at the root, the app in app/."""
    source = load_source(APPS / "velocitas_template_root")
    assert (source.entry_point, source.name_hint, source.vss_hint) == ("src/main.py", "SampleApp", "3.0")
    lines = dict(source.requirement_lines())
    assert lines["velocitas-sdk==0.15.4"] == "app/requirements-velocitas.txt:1"
    assert lines["grpcio==1.64.1"] == "app/requirements.txt:25"
    assert not any(line.startswith(("mypy", "pre-commit", "pip-tools")) for line in lines)  # the root's
    assert not any(path.startswith("tests/") for path in source.files)
    assert "note: test code is not packaged: tests/integration/integration_test.py, tests/requirements.txt, " \
           "tests/unit/test_run.py" in source.notes


def write_manifest(tmp_path: Path, text: str) -> Path:
    (tmp_path / "main.py").write_text("print(1)\n")
    (tmp_path / "AppManifest.json").write_text(text)
    return tmp_path


def test_manifest_comments_and_trailing_commas_are_accepted_with_warnings(tmp_path: Path) -> None:
    text = """{
    // written by hand
    "manifestVersion": "v3",
    "name": "dogmode", /* the app's name */
    "interfaces": [
        {
            "type": "vehicle-signal-interface",
            "config": {"src": "https://github.com/COVESA/vehicle_signal_specification/releases/download/v3.1.1/vss_rel_3.1.1.json",},
        },
    ],
}
"""
    source = load_source(write_manifest(tmp_path, text))
    assert (source.name_hint, source.vss_hint) == ("dogmode", "3.1.1")
    accepted = "(accepted as the Velocitas tooling does)"
    assert source.notes == [f"AppManifest.json:2: comment {accepted}", f"AppManifest.json:4: comment {accepted}",
                            f"AppManifest.json:8: trailing comma {accepted}",
                            f"AppManifest.json:8: trailing comma {accepted}",
                            f"AppManifest.json:9: trailing comma {accepted}",
                            f"AppManifest.json:10: trailing comma {accepted}"]


@pytest.mark.parametrize(("text", "problem"), [
    ('{\n  "name": "x"\n  "interfaces": []\n}', "AppManifest.json:3:3: Expecting ',' delimiter"),
    ('{\n  "name": \'x\'\n}', "AppManifest.json:2:11: Expecting value"),
    ('{"name": "x"} /* never closed', "AppManifest.json:1:15: unterminated /* comment"),
    ("42", "AppManifest.json: expected an object (or a one-element list of one)"),
])
def test_invalid_manifest_names_line_and_column(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(SourceError) as info:
        load_source(write_manifest(tmp_path, text))
    assert info.value.problems == [problem]


@pytest.mark.parametrize(("manifest", "release"), [
    ([{"Name": "v1app", "VehicleModel": {"src": "https://github.com/COVESA/vehicle_signal_specification/"
                                                "releases/download/v3.0/vss_rel_3.0.json"},
       "dependencies": {"python": {"version": "3.10"}}}], "3.0"),
    ({"Name": "v1app", "dependencies": {"vehicle model": {"src": "vss_rel_4.0.json"}}}, "4.0"),
    ({"manifestVersion": "v2", "name": "v1app", "vehicleModel": {"src": "https://example.invalid/vss_rel_5.1.json"}},
     "5.1"),
    ({"manifestVersion": "v3", "name": "v1app", "interfaces": [
        {"type": "pubsub", "config": {"reads": ["a"]}},
        {"type": "vehicle-signal-interface", "config": {"src": "https://github.com/COVESA/"
         "vehicle_signal_specification/releases/download/v6.0/vss_rel_6.0.json", "datapoints": {"required": []}}},
    ]}, "6.0"),
])
def test_manifest_versions(tmp_path: Path, manifest: object, release: str) -> None:
    source = load_source(write_manifest(tmp_path, json.dumps(manifest)))
    assert (source.name_hint, source.vss_hint) == ("v1app", release)


def test_manifest_local_catalogue_is_found_beside_it(tmp_path: Path) -> None:
    (tmp_path / "custom.json").write_text("{}")
    source = load_source(write_manifest(tmp_path, json.dumps({"interfaces": [
        {"type": "vehicle-signal-interface", "config": {"src": "./custom.json"}}]})))
    assert source.vss_hint == str((tmp_path / "custom.json").resolve())


def test_repository_root_finds_app_folder(tmp_path: Path) -> None:
    (tmp_path / "app" / "src").mkdir(parents=True)
    (tmp_path / "app" / "src" / "main.py").write_text("print(1)\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref")
    (tmp_path / "AppManifest.json").write_text(json.dumps([{"Name": "oldapp"}]))
    source = load_source(tmp_path)
    assert source.entry_point == "src/main.py"
    assert source.name_hint == "oldapp"


def test_folder_skips_tooling_and_venvs(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("print(1)\n")
    for junk in ("__pycache__/x.pyc", ".venv/lib/x.py", "myenv/pyvenv.cfg", "myenv/lib/y.py", ".git/config"):
        (tmp_path / junk).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / junk).write_text("junk")
    assert list(load_source(tmp_path).files) == ["main.py"]


def test_folder_without_entry(tmp_path: Path) -> None:
    (tmp_path / "lib.py").write_text("x = 1\n")
    with pytest.raises(SourceError, match=r"no main\.py or src/main\.py"):
        load_source(tmp_path)


def test_symlink_out_of_project_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "main.py").write_text("print(1)\n")
    (tmp_path / "secret.txt").write_text("s")
    (project / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (project / "inside.py").symlink_to(project / "main.py")
    with pytest.raises(SourceError) as info:
        load_source(project)
    assert info.value.problems == ["leak.txt: symlink points outside the project"]


def test_playground_code_export() -> None:
    source = load_source(APPS / "playground_export_code.json")
    assert (source.kind, source.name_hint, source.entry_point) == ("playground", "Headlight Demo", "main.py")
    assert source.description == "Toggles the low beam"
    assert b"Vehicle.Body.Lights.Beam.Low.IsOn" in source.files["main.py"]


def test_playground_tree_export() -> None:
    source = load_source(APPS / "playground_export_tree.json")
    assert sorted(source.files) == ["config/settings.json", "lights.py", "logo.png", "main.py"]
    assert source.files["logo.png"].startswith(b"\x89PNG")  # isBase64 content decoded
    assert source.name_hint == "Blink Project"


def test_playground_tree_forms() -> None:
    tree = {"type": "folder", "name": "root", "items": [{"type": "file", "name": "main.py", "content": "x = 1"}]}
    for data in (tree, [tree], {"code": [tree]}, {"code": json.dumps([tree]), "name": "n"}):
        assert list(source_from_playground(data).files) == ["main.py"]


@pytest.mark.parametrize(("data", "problem"), [
    ({"code": 5}, "code: must be Python source or a file tree"),
    ({"nothing": 1}, "export: expected a playground prototype with `code`, or a file tree"),
    ([{"type": "file", "name": "../evil.py", "content": ""}], "../evil.py: must be inside the project"),
    ([{"type": "link", "name": "x"}], "x: type must be folder or file"),
    ([{"type": "file", "name": "a.txt", "content": "x"}], "code: the file tree has no main.py"),
    ([{"type": "file", "name": "p.png", "isBase64": True, "content": "!!"}], "p.png: content is not valid base64"),
])
def test_playground_problems(data: object, problem: str) -> None:
    with pytest.raises(SourceError) as info:
        source_from_playground(data)
    assert problem in info.value.problems


def test_unreadable_sources(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        load_source(tmp_path / "missing.py")
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(SourceError, match="not valid JSON"):
        load_source(tmp_path / "x.json")
    (tmp_path / "x.txt").write_text("")
    with pytest.raises(SourceError, match=r"expected a \.py file"):
        load_source(tmp_path / "x.txt")


@pytest.mark.parametrize(("code", "flavour"), [
    ("from sdv.vehicle_app import VehicleApp\n", Flavour.VELOCITAS),
    ("import velocitas_sdk.vehicle_app\n", Flavour.VELOCITAS),
    ("from vehicle import Vehicle, vehicle\n", Flavour.VELOCITAS),
    ("from kuksa_client.grpc.aio import VSSClient\n", Flavour.KUKSA),
    ("import json\nprint(json.dumps({}))\n", Flavour.PLAIN),
])
def test_flavour_from_imports(code: str, flavour: Flavour) -> None:
    assert detect_flavour({"main.py": code}) is flavour


def test_local_vehicle_module_is_not_velocitas() -> None:
    files = {"main.py": "from vehicle import car\n", "vehicle.py": "car = 1\n"}
    assert detect_flavour(files) is Flavour.PLAIN
    assert not needs_vehicle_model(files)
    assert needs_vehicle_model({"main.py": "from vehicle import vehicle\n"})


@pytest.mark.parametrize(("code", "complete"), [
    ("async def main(): ...\nif __name__ == '__main__':\n    asyncio.run(main())\n", True),
    ("async def main(): ...\nasyncio.run(main())\n", True),
    ("LOOP.run_until_complete(main())\n", True),
    ("import time\nwhile True:\n    print('tick')\n    time.sleep(1)\n", True),
    ("for line in open('/dev/stdin'):\n    print(line)\n", True),
    ("async def on_start(app):\n    pass\n", False),
    ("print('hi')\n", False),
    ("def broken(:\n", False),
])
def test_complete_program_or_fragment(code: str, complete: bool) -> None:
    assert is_complete_program(code) is complete
