"""Binding to the deployment engine (sdv_studio.core.deploy): one run per Deploy click or retry.

A run streams the engine's own events (DeviceProgress, DeviceLog, DeploymentFinished) and can
cancel one device or all of them; app management (stop, roll back, logs) goes per device.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sdv_studio.core.deploy.events import DeploymentEvent, DeploymentFinished, DeviceLog, DeviceProgress
from sdv_studio.gui.adapters.discovery import Approvals, Device

# SSH, Docker and the agent client load on first use, not with the window.
if TYPE_CHECKING:
    from sdv_studio.core.deploy.orchestrator import DeploymentRun
    from sdv_studio.core.deploy.records import DeploymentRecords
    from sdv_studio.core.deploy.service import DeviceRef

__all__ = ["DeploymentEvent", "DeploymentFinished", "DeviceLog", "DeviceProgress"]


@dataclass(frozen=True)
class DeploySettings:
    """How to deploy; what the app is wired to otherwise comes from the package's kuksaConfig."""

    broker: str | None = None  # HOST:PORT the app is wired to; None lets each device use its own
    hot_swap: bool | None = None  # None: as the package's deployment.hotSwap says
    rollback_enabled: bool = True


class DeployRun(Protocol):
    deployment_id: str

    def events(self) -> AsyncIterator[DeploymentEvent]: ...

    def cancel(self, device_id: str | None = None) -> None: ...

    def failure_log(self, device_id: str) -> list[str]: ...


class DeployEngine(Protocol):
    async def start(self, package: Path, devices: list[Device], settings: DeploySettings) -> DeployRun: ...

    async def stop(self, device: Device, app: str) -> None: ...

    async def rollback(self, device: Device, app: str) -> str: ...

    async def logs(self, device: Device, app: str, lines: int = 200) -> list[str]: ...

    def follow_logs(self, device: Device, app: str, lines: int = 200) -> AsyncIterator[str]:
        """The log's tail, then each new line until the consumer stops (``sdv-studio logs --follow``)."""
        ...


class OrchestratedRun:
    """A run of the core orchestrator seen through :class:`DeployRun`."""

    def __init__(self, run: DeploymentRun) -> None:
        self._run = run
        self.deployment_id = run.deployment_id

    def events(self) -> AsyncIterator[DeploymentEvent]:
        return self._run.hub.follow()

    def cancel(self, device_id: str | None = None) -> None:
        self._run.cancel(device_id)

    def failure_log(self, device_id: str) -> list[str]:
        """The tail of the app's own log when it failed on the device."""
        return list(self._run.deployment.device(device_id).logs)


class CoreDeployer:
    """The deployment engine: ``start_deployment`` for runs, ``core.deploy.apps`` for stop/rollback/logs."""

    def __init__(self, approvals: Approvals, records: DeploymentRecords | None = None,
                 timeout: float = 15.0) -> None:
        self.approvals = approvals
        self.records = records
        self.timeout = timeout

    def _ref(self, device: Device) -> DeviceRef:
        from sdv_studio.core.deploy.service import DeviceRef

        return DeviceRef(device.id, self.approvals.target(device))

    async def start(self, package: Path, devices: list[Device], settings: DeploySettings) -> DeployRun:
        from sdv_studio.core.deploy.options import DeployOptions
        from sdv_studio.core.deploy.package_file import open_package
        from sdv_studio.core.deploy.service import start_deployment

        opened = await asyncio.to_thread(open_package, str(package))
        options = DeployOptions(hot_swap=settings.hot_swap, rollback=settings.rollback_enabled,
                                broker=settings.broker, connect_timeout=self.timeout)
        run = start_deployment(opened, [self._ref(d) for d in devices], self.approvals.trust(), options,
                               records=self.records)
        return OrchestratedRun(run)

    async def stop(self, device: Device, app: str) -> None:
        from sdv_studio.core.deploy import app_control

        await app_control.app_action(self._ref(device), self.approvals.trust(), self.timeout, "stop", app)

    async def rollback(self, device: Device, app: str) -> str:
        from sdv_studio.core.deploy import app_control

        done = await app_control.app_action(self._ref(device), self.approvals.trust(), self.timeout, "rollback", app)
        return str(done.get("rolledBackTo") or done.get("version") or "the previous version")

    async def logs(self, device: Device, app: str, lines: int = 200) -> list[str]:
        from sdv_studio.core.deploy import app_control

        return [line async for line in app_control.follow_logs(self._ref(device), self.approvals.trust(), self.timeout,
                                                        app, lines)]

    async def follow_logs(self, device: Device, app: str, lines: int = 200) -> AsyncIterator[str]:
        from sdv_studio.core.deploy import app_control

        async for line in app_control.follow_logs(self._ref(device), self.approvals.trust(), self.timeout, app, lines,
                                           follow=True):
            yield line


def default_engine(approvals: Approvals) -> DeployEngine:
    return CoreDeployer(approvals)
