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
    assert "support/sdv/__init__.py" in files and "support/vehicle/__init__.py" in files
    assert "support/vehicle/Body/Lights/Beam/Low/__init__.py" in files
    assert "velocitas-sdk==0.15.7" in files["requirements.txt"].decode().splitlines()
    assert any(n.startswith("wheels/any/velocitas_sdk-0.15.7") for n in files)
    assert any(n.startswith("wheels/x86_64/grpcio-") for n in files)
    assert any(n.startswith("wheels/aarch64/grpcio-") for n in files)


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


def test_velocitas_project_folder(store: PackageStore) -> None:
    notes: list[str] = []
    result = build_package(APPS / "velocitas_project", BuildOptions(python_versions=ONE, platforms=["x86_64"]),
                           notes.append, store)
    files = members(result.path)
    assert result.manifest["name"] == "sampleapp" and result.manifest["entryPoint"] == "src/main.py"
    assert json.loads(files["launch.json"])["argv"][-1] == "app/src/main.py"
    requirements = files["requirements.txt"].decode()
    assert "velocitas-sdk==0.15.7" in requirements and "grpcio==1.64.1" in requirements
    assert any("grpcio==1.59.0 is replaced" in n for n in notes)
    assert "support/vehicle/__init__.py" in files
    assert "support/sdv/__init__.py" not in files  # imports velocitas_sdk directly


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
        "requirements: foo: a direct URL cannot be vendored; name a released version instead"]


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
        "requirements: nowheel==1.0: no wheel for x86_64 (Python 3.11, manylinux)",
        "requirements: nowheel==1.0: no wheel for aarch64 (Python 3.11, manylinux)",
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
