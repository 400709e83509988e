"""A mixed-fleet package on the engine's side: which devices it fits (and what to do when it does
not), and that a device is sent only the wheels for its own Python and arch."""

from __future__ import annotations

import asyncio
import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sdv_studio.core.deploy.agent_link.client import connect_agent
from sdv_studio.core.deploy.agent_link.local_target import LocalConnection
from sdv_studio.core.deploy.agent_link.transfer import Transfer, prepare_args, send_package
from sdv_studio.core.deploy.compatibility import check_compatible
from sdv_studio.core.deploy.orchestrator import DeployError
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.packaging import BuildOptions, PackageStore, build_package

APPS = Path(__file__).resolve().parents[2] / "data" / "apps"
HERE = f"{sys.version_info.major}.{sys.version_info.minor}"


def _build(tmp: Path, app: str, pythons: list[str], platforms: list[str]) -> PackageFile:
    options = BuildOptions(python_versions=pythons, platforms=platforms, output_dir=tmp)
    return PackageFile(build_package(APPS / app, options, store=PackageStore(tmp / "store")).path)


@pytest.fixture(scope="module")
def velocitas(tmp_path_factory: pytest.TempPathFactory) -> PackageFile:
    return _build(tmp_path_factory.mktemp("velocitas"), "playground_default.py", ["3.11", "3.13"], ["x86_64"])


def _device(python: str, arch: str = "x86_64", runtime: str = "native") -> dict[str, Any]:
    return {"properties": {"python": python, "arch": arch, "runtime": runtime}}


def _refusal(package: PackageFile, device: dict[str, Any], runtime: str = "native") -> str:
    with pytest.raises(DeployError) as info:
        check_compatible(package, device, runtime)
    return str(info.value)


def test_a_python_without_wheels_is_refused_naming_the_requirement(velocitas: PackageFile) -> None:
    check_compatible(velocitas, _device("3.11.2"), "native")
    assert _refusal(velocitas, _device("3.13.5")) == (
        "grpcio==1.64.1 (required by velocitas-sdk 0.15.7) has no wheel for Python 3.13 on x86_64; "
        "use the Docker runtime (package with --runtime docker), or pin a version that supports Python 3.13")
    check_compatible(velocitas, _device("3.13.5", runtime="docker"), "docker")  # the image brings its Python


def test_a_python_or_arch_not_targeted_is_refused_with_the_command_that_fixes_it(velocitas: PackageFile) -> None:
    assert _refusal(velocitas, _device("3.9.2")) == (
        "the package carries wheels for Python 3.11, 3.13 but the device has Python 3.9.2; "
        "package it again with --python 3.9,3.11,3.13")
    assert _refusal(velocitas, _device("3.11.2", "aarch64")) == (
        "the package carries wheels for x86_64 but the device is aarch64; package it again with --platform aarch64")
    assert _refusal(velocitas, _device("3.7.3")) == "the device has Python 3.7.3; SDV Studio needs 3.8 or newer there"


def _send_and_install(package: PackageFile) -> tuple[Transfer, dict[str, Any]]:
    """The engine's transfer to "This computer", then the agent's install of what arrived."""
    async def go() -> tuple[Transfer, dict[str, Any]]:
        agent, prepared = await connect_agent(LocalConnection(), 60, "prepare", prepare_args(package))
        try:
            check_compatible(package, prepared, "native")
            sent = await send_package(agent, package, prepared)
            installed = await agent.call("install", {"dir": sent.upload_dir}, timeout=300)
        finally:
            await agent.close()
        return sent, installed

    return asyncio.run(go())


def test_a_device_receives_only_its_own_wheels(local_target_home: Path, tmp_path: Path) -> None:
    other = "3.9" if HERE != "3.9" else "3.10"
    fleet = _build(tmp_path / "fleet", "kuksa_app.py", [other, HERE], ["x86_64", "aarch64"])
    single = _build(tmp_path / "single", "kuksa_app.py", [HERE], ["x86_64", "aarch64"])
    sent, installed = _send_and_install(fleet)

    release = local_target_home / ".local/share/sdv-studio/apps/kuksa-app/releases" / installed["release"]
    held = {str(p.relative_to(release)) for p in release.rglob("*") if p.is_file() and "venv" not in p.parts}
    record = fleet.wheel_sets[f"{HERE}-{platform.machine()}"]
    own = {*record["wheels"], record["requirements"]}
    assert {n for n in held if n.startswith(("wheels/", "requirements/"))} == own
    assert held - {"SHA256SUMS", "release.json"} == set(fleet.needed_files(HERE, platform.machine()))
    assert sent.files_sent == len(held) - 2 and installed["packageId"] == fleet.package_id
    # What runs is the version resolved for this Python.
    python = release / "venv" / "bin" / "python"
    version = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('kuksa-client'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert f"kuksa-client=={version}" in record["pins"]
    # No more than what the single-Python package sends this device (its manifest is all that is bigger).
    single_bytes = sum(len(single.entries[n]) for n in ["SHA256SUMS", *single.needed_files(HERE, platform.machine())])
    assert single_bytes < sent.bytes_sent <= 1.1 * single_bytes
    manifest = json.loads(fleet.entries["manifest.json"])
    assert set(manifest["wheelSets"]) == {f"{p}-{a}" for p in (other, HERE) for a in ("x86_64", "aarch64")}
