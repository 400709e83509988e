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
    assert source.vss_hint == "4.0"  # from the vehicle-signal-interface's src
    assert "velocitas-sdk==0.13.1" in source.requirements
    assert "AppManifest.json" in source.files


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
