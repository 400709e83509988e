"""Deploying a package to many devices at once. What the faces (CLI, GUI, REST API) use:

``start_deployment(package, [DeviceRef…], trust, DeployOptions(…))`` returns a run that streams
events (``events``) and can be cancelled; ``package_file.open_package`` reads the package,
``records`` keeps history, ``app_control`` manages what is deployed. Inside: ``orchestrator``
runs devices in parallel, ``runtimes`` holds the native and container jobs, ``agent_link`` talks
to the agent on a device; ``core.device_wheels`` builds what a device gets besides the app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sdv_studio.core.deploy.device_ref import DeviceRef
    from sdv_studio.core.deploy.options import DeployOptions
    from sdv_studio.core.deploy.service import start_deployment

__all__ = ["DeployOptions", "DeviceRef", "start_deployment"]


def __getattr__(name: str) -> Any:
    # Resolved on first use: importing a light submodule (events, records) must not load the
    # runtimes' SSH and Docker libraries, which the GUI defers until after its window shows.
    if name == "DeployOptions":
        from sdv_studio.core.deploy.options import DeployOptions

        return DeployOptions
    if name == "DeviceRef":
        from sdv_studio.core.deploy.device_ref import DeviceRef

        return DeviceRef
    if name == "start_deployment":
        from sdv_studio.core.deploy.service import start_deployment

        return start_deployment
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
