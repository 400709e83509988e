"""Topping a stored package up with the wheel set a chosen device needs (the GUI's Deploy step)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdv_studio.core.deploy.compatibility import check_compatible
from sdv_studio.core.deploy.orchestrator import DeployError
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.packaging import BuildOptions, PackageStore, build_package
from sdv_studio.core.packaging.top_up import TopUpError, missing_combinations, top_up
from sdv_studio.core.packaging.wheels import Combination

APPS = Path(__file__).resolve().parents[2] / "data" / "apps"


def _device(python: str, arch: str = "x86_64") -> dict[str, object]:
    return {"properties": {"python": python, "arch": arch, "runtime": "native"}}


def test_a_device_python_the_package_lacks_is_added(tmp_path: Path) -> None:
    store = PackageStore(tmp_path / "store")
    built = build_package(APPS / "kuksa_app.py", BuildOptions(python_versions=["3.11"], platforms=["x86_64"]),
                          store=store)
    devices = [("3.9.2", "x86_64"), ("3.11.4", "x86_64"), ("", "aarch64"), ("3.9.7", "x86_64")]
    assert missing_combinations(built.manifest, devices) == [Combination("3.9", "x86_64")]
    with pytest.raises(DeployError):
        check_compatible(PackageFile(built.path), _device("3.9.2"), "native")

    topped = top_up(built.stored.package_id, [Combination("3.9", "x86_64")], store)
    package = PackageFile(topped.path)
    assert package.package_id == topped.stored.package_id != built.stored.package_id
    assert store.get(topped.stored.package_id) is not None and package.sums  # stored, and every hash checks
    check_compatible(package, _device("3.9.2"), "native")
    check_compatible(package, _device("3.11.4"), "native")
    manifest = package.manifest
    assert manifest["pythonVersions"] == ["3.9", "3.11"] and manifest["version"] == built.manifest["version"]
    assert "kuksa-client==0.6.0" in manifest["wheelSets"]["3.11-x86_64"]["pins"]
    assert not any(p == "kuksa-client==0.6.0" for p in manifest["wheelSets"]["3.9-x86_64"]["pins"])
    assert all(name in package.sums for name in manifest["wheelSets"]["3.9-x86_64"]["wheels"])
    assert any("cp39" in name for name in package.needed_files("3.9.2", "x86_64"))
    assert 'kuksa-client==0.6.0; python_version == "3.11"' in package.entries["requirements.txt"].decode()
    assert "added at deploy time: wheels for Python 3.9 on x86_64" in manifest["notes"]
    assert missing_combinations(manifest, devices) == []


def test_what_cannot_resolve_is_recorded_for_the_compatibility_stage(tmp_path: Path) -> None:
    store = PackageStore(tmp_path / "store")
    built = build_package(APPS / "playground_default.py",
                          BuildOptions(python_versions=["3.11"], platforms=["x86_64"]), store=store)
    topped = PackageFile(top_up(built.stored.package_id, [Combination("3.13", "x86_64")], store).path)
    with pytest.raises(DeployError, match=r"^grpcio==1\.64\.1 \(required by velocitas-sdk 0\.15\.7\) has no wheel "
                                          r"for Python 3\.13 on x86_64; use the Docker runtime"):
        check_compatible(topped, _device("3.13.1"), "native")
    assert topped.manifest["wheelSets"]["3.11-x86_64"] == built.manifest["wheelSets"]["3.11-x86_64"]  # kept
    assert "requirements/3.13-x86_64.txt" not in topped.sums


def test_a_package_outside_the_store_is_not_topped_up(tmp_path: Path) -> None:
    with pytest.raises(TopUpError) as info:
        top_up("pkg_0123456789abcdef", [Combination("3.9", "x86_64")], PackageStore(tmp_path / "store"))
    assert str(info.value) == (
        "pkg_0123456789abcdef is not in this computer's package store, so wheels for Python 3.9 on x86_64 cannot "
        "be added to it; package the app again with --python listing the devices' Pythons")
