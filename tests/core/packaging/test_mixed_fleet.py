"""One package for a mixed fleet: wheels per (Python, arch), what resolved where, and why not."""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import pytest

from sdv_studio.core.packaging import BuildFailed, BuildOptions, BuildResult, PackageStore, build_package
from sdv_studio.core.packaging import wheels as wheels_mod
from sdv_studio.models.package import PYTHONS

APPS = Path(__file__).resolve().parents[2] / "data" / "apps"
GRPCIO_313 = "grpcio==1.64.1 (required by velocitas-sdk 0.15.7) has no wheel for Python 3.13 on x86_64"


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def kuksa_39_311(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    tmp = tmp_path_factory.mktemp("kuksa")
    options = BuildOptions(python_versions=["3.11", "3.9"], platforms=["x86_64"])
    return build_package(APPS / "kuksa_app.py", options, store=PackageStore(tmp / "store"))


@pytest.fixture(scope="module")
def velocitas_311_313(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    tmp = tmp_path_factory.mktemp("velocitas")
    options = BuildOptions(python_versions=["3.11", "3.13"], platforms=["x86_64"])
    return build_package(APPS / "playground_default.py", options, store=PackageStore(tmp / "store"))


def test_kuksa_client_resolves_per_python(kuksa_39_311: BuildResult) -> None:
    files = members(kuksa_39_311.path)
    manifest = json.loads(files["manifest.json"])
    assert manifest["formatVersion"] == 2
    assert (manifest["pythonVersion"], manifest["pythonVersions"]) == ("3.9", ["3.9", "3.11"])
    sets = manifest["wheelSets"]
    assert set(sets) == {"3.9-x86_64", "3.11-x86_64"}
    assert "kuksa-client==0.6.0" in sets["3.11-x86_64"]["pins"]
    older = [p for p in sets["3.9-x86_64"]["pins"] if p.startswith("kuksa-client==")]
    assert len(older) == 1 and re.fullmatch(r"kuksa-client==0\.[45]\.\d+", older[0])
    for key, record in sets.items():
        assert files[record["requirements"]].decode().splitlines() == record["pins"]
        assert all(name in files for name in record["wheels"]), key
    # The note says which version went where and why.
    note = next(n for n in manifest["notes"] if n.startswith("kuksa-client "))
    assert note == f"kuksa-client 0.6.0 on Python 3.11, {older[0].split('==')[1]} on 3.9 (0.6.0 needs Python >=3.11)"
    # Pure wheels once under any, compiled ones under the arch, nothing that no combination uses.
    listed = {name for record in sets.values() for name in record["wheels"]}
    assert {n for n in files if n.startswith("wheels/")} == listed
    assert any(re.match(r"wheels/x86_64/grpcio-.*-cp39-", n) for n in listed)
    assert any(re.match(r"wheels/x86_64/grpcio-.*-cp311-", n) for n in listed)
    assert {n for n in listed if "kuksa_client" in n} == {
        f"wheels/any/kuksa_client-{v}-py3-none-any.whl" for v in ("0.6.0", older[0].split("==")[1])}
    # requirements.txt serves pip by hand on any of them: markers where versions differ.
    requirements = files["requirements.txt"].decode().splitlines()
    assert 'kuksa-client==0.6.0; python_version == "3.11"' in requirements
    assert f'{older[0]}; python_version == "3.9"' in requirements


def test_docker_installs_the_pins_for_its_images_python(kuksa_39_311: BuildResult) -> None:
    dockerfile = members(kuksa_39_311.path)["docker/Dockerfile"].decode()
    assert "ARG BASE_IMAGE=python:3.11-slim" in dockerfile  # the usual image, since 3.11 resolved
    assert '-r "requirements/$combo.txt"' in dockerfile


def test_a_python_nothing_fits_is_recorded_and_the_rest_builds(velocitas_311_313: BuildResult) -> None:
    files = members(velocitas_311_313.path)
    sets = json.loads(files["manifest.json"])["wheelSets"]
    assert sets["3.13-x86_64"] == {"python": "3.13", "platform": "x86_64", "error": GRPCIO_313}
    assert "grpcio==1.64.1" in sets["3.11-x86_64"]["pins"]
    assert "requirements/3.13-x86_64.txt" not in files
    assert not any("cp313" in name for name in files)
    assert f"note: no wheels for Python 3.13 on x86_64: {GRPCIO_313}" in velocitas_311_313.notes


def test_a_warm_rebuild_runs_no_pip_even_for_what_failed(velocitas_311_313: BuildResult, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("pip ran with a warm cache")

    monkeypatch.setattr(wheels_mod.subprocess, "run", forbidden)
    again = build_package(APPS / "playground_default.py",
                          BuildOptions(python_versions=["3.11", "3.13"], platforms=["x86_64"]),
                          store=PackageStore(tmp_path / "store"))
    assert again.stored.package_id == velocitas_311_313.stored.package_id


def test_no_python_resolving_fails_the_build_and_network_trouble_is_not_remembered(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[object] = []

    class Offline:
        returncode, stdout = 1, ""
        stderr = ("WARNING: Retrying (Retry(total=4)) after connection broken by 'NewConnectionError'\n"
                  "ERROR: Could not find a version that satisfies the requirement zeroconf (from versions: none)\n"
                  "ERROR: No matching distribution found for zeroconf\n")

    def offline(*args: object, **kwargs: object) -> Offline:
        runs.append(args)
        return Offline()

    monkeypatch.setattr(wheels_mod.subprocess, "run", offline)
    monkeypatch.setenv("SDV_STUDIO_WHEEL_CACHE", str(tmp_path / "cache"))
    (tmp_path / "main.py").write_text("import zeroconf\nif __name__ == '__main__':\n    pass\n")
    (tmp_path / "requirements.txt").write_text("zeroconf\n")
    options = BuildOptions(name="x", python_versions=["3.9", "3.11"], platforms=["x86_64"])
    for expected_runs in (2, 4):  # the second build asks pip again: the network may be back
        with pytest.raises(BuildFailed) as info:
            build_package(tmp_path, options, store=PackageStore(tmp_path / "store"))
        assert len(runs) == expected_runs
    offline = ("in this computer's wheel cache, and the package index is unreachable (WARNING: Retrying "
               "(Retry(total=4)) after connection broken by 'NewConnectionError'); connect once (or set "
               "PIP_INDEX_URL to a reachable mirror) to fill the cache")
    assert info.value.problems == [
        f"requirements: zeroconf (requirements.txt:1): no wheel for x86_64 (Python 3.9, manylinux) {offline}",
        f"requirements: zeroconf (requirements.txt:1): no wheel for x86_64 (Python 3.11, manylinux) {offline}",
    ]


def test_the_docker_image_python_is_one_that_resolved(tmp_path: Path) -> None:
    options = BuildOptions(python_versions=["3.12", "3.13"], platforms=["x86_64"])
    newest = build_package(APPS / "playground_default.py", options, store=PackageStore(tmp_path / "store"))
    assert "ARG BASE_IMAGE=python:3.12-slim" in members(newest.path)["docker/Dockerfile"].decode()  # not 3.13


def test_by_default_every_python_and_an_app_without_requirements_has_no_sets(tmp_path: Path) -> None:
    assert tuple(BuildOptions().python_versions) == PYTHONS == ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")
    result = build_package(APPS / "light_counter.py", BuildOptions(), store=PackageStore(tmp_path / "store"))
    files = members(result.path)
    manifest = json.loads(files["manifest.json"])
    assert manifest["pythonVersions"] == list(PYTHONS) and manifest["wheelSets"] == {}
    assert not any(n.startswith(("wheels/", "requirements/")) for n in files)
