"""Start a deployment: what the CLI, the GUI and the REST API all call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import partial

from sdv_studio.core.defaults import DEPLOY_CONCURRENCY
from sdv_studio.core.deploy.app_control import roll_back, state_after_cancel, unstage
from sdv_studio.core.deploy.device_ref import DeviceRef
from sdv_studio.core.deploy.options import DeployOptions
from sdv_studio.core.deploy.orchestrator import DeploymentRun, DeviceTask, new_deployment_id
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.deploy.runtimes.container import docker_job
from sdv_studio.core.deploy.runtimes.native import native_job
from sdv_studio.core.deploy.waves import WavePlan
from sdv_studio.core.ssh.trust import HostKeyTrust
from sdv_studio.models.deployment import Deployment, DeviceDeployment


def start_deployment(
    package: PackageFile,
    devices: Sequence[DeviceRef],
    trust: HostKeyTrust,
    options: DeployOptions | None = None,
    *,
    records: DeploymentRecords | None = None,
    concurrency: int | None = DEPLOY_CONCURRENCY,
    plan: WavePlan | None = None,
) -> DeploymentRun:
    """Begin deploying ``package`` to every device (with ``plan``, in waves, in the order given), at
    most ``concurrency`` at once (None: a limit that adapts); the returned run streams events and can
    be cancelled.

    Must be called inside a running event loop."""
    options = options or DeployOptions()
    if options.hot_swap is None:
        options = replace(options, hot_swap=package_hot_swap(package))
    runtime = str(package.manifest.get("runtimeMode", "native"))
    make_job = docker_job if runtime == "docker" else native_job
    deployment = Deployment(
        deployment_id=new_deployment_id(),
        package_id=package.package_id,
        app_name=package.name,
        app_version=package.version,
        deployment_mode="hot-swap" if options.hot_swap else "standard",
        rollback_enabled=options.rollback,
        devices=[DeviceDeployment(device_id=d.device_id) for d in devices],
    )
    # A cancelled device is asked what it runs once what was under way there has ended: at most a
    # health gate, and whatever stopping the old version takes.
    settle = options.grace_seconds + options.health_timeout + 60
    tasks = [DeviceTask(d.device_id, d.target.label, make_job(d.target, trust, package, _for_device(options, d)),
                        after_cancel=partial(state_after_cancel, d, trust, options.connect_timeout, package.name,
                                             settle),
                        roll_back=partial(roll_back, d, trust, options.connect_timeout, package.name),
                        unstage=partial(unstage, d, trust, options.connect_timeout, package.name))
             for d in devices]
    return DeploymentRun(deployment, tasks, records or DeploymentRecords(), concurrency, plan).start()


def _for_device(options: DeployOptions, device: DeviceRef) -> DeployOptions:
    """A saved device that opted in to mDNS is announced even when the deployment did not ask."""
    return replace(options, advertise=True) if device.advertise and not options.advertise else options


def package_hot_swap(package: PackageFile) -> bool:
    """The package's own choice (deployment.hotSwap), used when the deployment does not say."""
    deployment = package.manifest.get("deployment")
    return bool(deployment.get("hotSwap", False)) if isinstance(deployment, dict) else False
