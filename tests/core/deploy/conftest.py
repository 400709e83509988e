"""Packages and connection settings for deployment tests on the rig."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdv_studio.core.deploy.broker_bundle import broker_bundle
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.service import DeviceRef
from sdv_studio.core.packaging.builder import BuildOptions, build_package
from sdv_studio.core.ssh.known_hosts import KnownHosts
from sdv_studio.core.ssh.target import SshTarget
from sdv_studio.core.ssh.trust import HostKeyTrust
from tests.rig.rig import Device, Rig

APPS = Path(__file__).resolve().parents[2] / "data" / "apps"


def build(tmp: Path, source: Path | str, name: str, version: str = "1.0.0", **options: object) -> PackageFile:
    """Package ``source`` (a path, or code written to ``tmp``) like `sdv-studio package` does."""
    if isinstance(source, str):
        path = tmp / f"{name}-{version}.py"
        path.write_text(source)
        source = path
    result = build_package(source, BuildOptions(name=name, version=version, output_dir=tmp, **options))  # type: ignore[arg-type]
    return PackageFile(result.path)


@pytest.fixture(scope="session")
def light_package(tmp_path_factory: pytest.TempPathFactory) -> PackageFile:
    """An app with no dependencies: its install is light, so tests measure the orchestration."""
    return build(tmp_path_factory.mktemp("light"), APPS / "light_counter.py", "light")


def ref(rig: Rig, device: Device) -> DeviceRef:
    return DeviceRef(device.name, SshTarget(device.ip, user=rig.user, key_file=rig.key_path, use_keyring=False))


@pytest.fixture(scope="session", autouse=True)
def _broker_bundle_ready() -> None:
    """The rig's LAN has no route to PyPI: fetch the fallback broker's wheels before entering it."""
    broker_bundle("3.11", "x86_64")


@pytest.fixture
def trust(tmp_path: Path) -> HostKeyTrust:
    return HostKeyTrust(KnownHosts(tmp_path / "known_hosts"), accept_new=True)
