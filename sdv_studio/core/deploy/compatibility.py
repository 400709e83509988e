"""Whether a package can run on a device, from the agent's description of it; when not, what to do instead."""

from __future__ import annotations

from typing import Any

from sdv_studio.core.deploy.orchestrator import DeployError
from sdv_studio.core.deploy.package_file import PackageFile, major_minor


def check_compatible(package: PackageFile, info: dict[str, Any], runtime: str) -> None:
    """Refuses, with what to do instead, a device the package cannot run on."""
    props = info["properties"]
    arch, python = str(props.get("arch")), str(props.get("python"))
    if tuple(int(x) for x in major_minor(python).split(".")) < (3, 8):  # the agent's own need
        raise DeployError(f"the device has Python {python}; SDV Studio needs 3.8 or newer there")
    _check_arch(package, arch)
    if runtime == "docker":  # the image brings its own Python; its Dockerfile picks the wheels for it
        if props.get("runtime") not in ("docker", "both"):
            raise DeployError("the package runs in Docker but this user cannot reach a Docker engine on the device "
                              "(add the user to the docker group, or package with --runtime native)")
        return
    if package.wheel_sets:
        _check_wheel_set(package, arch, python)
        return
    wanted = str(package.manifest.get("pythonVersion", ""))  # format 1: wheels for one Python
    if any(n.startswith("wheels/") for n in package.sums) and wanted and major_minor(python) != wanted:
        raise DeployError(f"the package was built for Python {wanted} but the device has Python {python}; "
                          f"package it again with --python {major_minor(python)}")


def _check_arch(package: PackageFile, arch: str) -> None:
    compiled = any(n.startswith("wheels/") and not n.startswith("wheels/any/") for n in package.sums)
    platforms = [str(p) for p in package.manifest.get("platforms") or []]
    if compiled and arch not in platforms:
        raise DeployError(f"the package carries wheels for {', '.join(platforms)} but the device is {arch}; "
                          f"package it again with --platform {arch}")


def _check_wheel_set(package: PackageFile, arch: str, python: str) -> None:
    minor = major_minor(python)
    record = package.wheel_set(python, arch)
    if record is None:
        pythons = [str(p) for p in package.manifest.get("pythonVersions") or []]
        wider = ",".join(sorted({*pythons, minor}, key=lambda v: tuple(int(x) for x in v.split("."))))
        raise DeployError(f"the package carries wheels for Python {', '.join(pythons)} but the device has "
                          f"Python {python}; package it again with --python {wider}")
    if record.get("error"):
        raise DeployError(f"{record['error']}; use the Docker runtime (package with --runtime docker), "
                          f"or pin a version that supports Python {minor}")
