"""``deployment.otaEnabled: false``: the version installed from such a package stays until a
deployment says ``force``; ``true`` (the default) takes updates."""

from __future__ import annotations

from sdv_studio.core.deploy.orchestrator import DeployError
from sdv_studio.core.deploy.package_file import PackageFile


def check_not_pinned(package: PackageFile, installed_version: str | None, ota_enabled: bool, force: bool) -> None:
    """Refuses, before anything is sent, another version where the installed one takes no updates."""
    if installed_version is None or ota_enabled or force or installed_version == package.version:
        return
    raise DeployError(f"{package.name} {installed_version} is pinned on this device (its package says "
                      f"deployment.otaEnabled: false), so {package.version} was not deployed; deploy with "
                      "--force (API: \"force\": true) to replace it")
