"""The bundle's data-file list and the installer scripts, checked without building anything."""

from __future__ import annotations

import importlib
import os
import runpy
from importlib import metadata
from pathlib import Path, PurePosixPath

import pytest
import yaml

import sdv_studio
from sdv_studio.agent import AGENT_DIR, agent_files
from tests.locations import REPO
from tests.packaging.helpers import PACKAGING, load

bundle_data = load("bundle_data")


def _listed() -> dict[str, str]:
    """Repository-relative source path -> destination folder in the bundle."""
    return {Path(src).relative_to(REPO).as_posix(): dest for src, dest in bundle_data.data_files()}


def _files(top: str) -> list[Path]:
    return [p for p in (REPO / top).rglob("*") if p.is_file() and "__pycache__" not in p.parts]


@pytest.mark.parametrize("top", ["resources", "templates"])
def test_every_resource_and_template_is_shipped_where_its_package_reads_it(top: str) -> None:
    # The frozen importer's importlib.resources reads package a.b's files from sys._MEIPASS/a/b.
    package = PurePosixPath(*f"sdv_studio.{top}".split("."))
    listed = _listed()
    files = [path for path in _files(top) if path != REPO / top / "__init__.py"]  # compiled in as the package
    assert files
    for path in files:
        rel = path.relative_to(REPO)
        destination = package.joinpath(*path.relative_to(REPO / top).parent.parts)
        assert listed.get(rel.as_posix()) == destination.as_posix(), f"{rel} is not in the bundle"


def test_default_vss_catalogue_is_shipped() -> None:
    assert _listed()["resources/vss/default.json"] == "sdv_studio/resources/vss"


def test_every_agent_file_is_shipped_as_source() -> None:
    listed = _listed()
    for rel in agent_files():
        source = (AGENT_DIR / rel).relative_to(REPO)
        assert listed.get(source.as_posix()) == source.parent.as_posix(), f"agent file {rel} missing"


def test_broker_sources_and_proto_stubs_are_shipped_for_the_device_wheel() -> None:
    listed = _listed()
    broker = REPO / "sdv_studio" / "broker"
    wanted = [p for p in broker.rglob("*") if p.suffix in (".py", ".pyi") and "__pycache__" not in p.parts]
    assert any("_pb2" in p.name for p in wanted)
    for path in wanted:
        rel = path.relative_to(REPO)
        assert listed.get(rel.as_posix()) == rel.parent.as_posix(), f"{rel} missing"


def test_no_caches_or_compiled_files_are_listed() -> None:
    for src, _dest in bundle_data.data_files():
        assert "__pycache__" not in Path(src).parts and not src.endswith(".pyc")


def test_hidden_imports_exist_and_agent_modules_stay_out_of_the_archive() -> None:
    for name in (*bundle_data.HIDDEN_PACKAGES, *bundle_data.HIDDEN_IMPORTS):
        importlib.import_module(name)
    assert bundle_data.keep_module("sdv_studio.cli.package_cmd")
    assert bundle_data.keep_module("sdv_studio.broker.proto.kuksa.val.v2.val_pb2")
    assert bundle_data.keep_module("sdv_studio.agent")
    assert not bundle_data.keep_module("sdv_studio.agent.sdvagent.cli")
    assert not bundle_data.keep_module("sdv_studio.broker.proto.regenerate")
    assert bundle_data.keep_module("sdv_studio.templates")
    assert not bundle_data.keep_module("sdv_studio.templates.python_app_template")


def test_metadata_the_app_reads_at_run_time_is_installed() -> None:
    for dist in bundle_data.METADATA:
        assert metadata.version(dist)


def test_version_is_read_from_the_source() -> None:
    assert bundle_data.version() == sdv_studio.__version__


def test_runtime_hook_sets_qt_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QT_API", raising=False)
    runpy.run_path(str(PACKAGING / "hooks" / "rthook_qt_api.py"))
    assert os.environ["QT_API"] == "pyside6"


def test_spec_uses_the_shared_lists_and_the_runtime_hook() -> None:
    spec = (PACKAGING / "sdv-studio.spec").read_text()
    for needle in ("bundle_data.data_files(ROOT)", "bundle_data.METADATA", "bundle_data.HIDDEN_PACKAGES",
                   "rthook_qt_api.py", "BUNDLE(", "info_plist", "sdv-studio.icns", "sdv-studio.ico"):
        assert needle in spec


def test_desktop_entry_and_apprun() -> None:
    entry = dict(line.split("=", 1) for line in (PACKAGING / "linux" / "sdv-studio.desktop").read_text().splitlines()
                 if "=" in line)
    assert entry["Type"] == "Application" and entry["Name"] == "SDV Studio"
    assert entry["Exec"] == "sdv-studio %u" and entry["Icon"] == "sdv-studio"
    for script in ("AppRun", "install.sh", "build-linux.sh"):
        path = PACKAGING / script if script == "build-linux.sh" else PACKAGING / "linux" / script
        assert os.access(path, os.X_OK), f"{script} is not executable"


def test_inno_setup_script_installs_both_programs() -> None:
    iss = (PACKAGING / "windows" / "sdv-studio.iss").read_text()
    assert "dist\\sdv-studio\\*" in iss
    assert "sdv-studio-gui.exe" in iss and "sdv-studio.ico" in iss
    assert "#define AppVersion" in iss


def test_workflow_builds_smoke_tests_and_uploads_on_three_runners() -> None:
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "installers.yml").read_text())
    jobs = workflow["jobs"]
    runners = {str(job["runs-on"]) for job in jobs.values()}
    assert any(r.startswith("ubuntu") for r in runners)
    assert any(r.startswith("windows") for r in runners)
    assert any(r.startswith("macos") for r in runners)
    for name, job in jobs.items():
        text = yaml.safe_dump(job)
        assert "--version" in text and "--self-test" in text, f"{name} has no smoke test"
        assert "actions/upload-artifact" in text, f"{name} uploads nothing"
