"""Binding to the deployment engine (sdv_studio.core.deploy): one run per Deploy click or retry.

A run streams the engine's own events (DeviceProgress, DeviceLog, DeploymentFinished) and can
cancel one device or all of them; app management (stop, roll back, logs) goes per device.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sdv_studio.core.deploy.events import DeploymentEvent, DeploymentFinished, DeviceLog, DeviceProgress
from sdv_studio.core.deploy.orchestrator import DeploymentRun
from sdv_studio.gui.adapters.discovery import Device, EngineUnavailable

__all__ = ["DeploymentEvent", "DeploymentFinished", "DeviceLog", "DeviceProgress"]


@dataclass(frozen=True)
class DeploySettings:
    broker: str | None = None  # HOST:PORT the app is wired to; None lets each device use its own
    fallback_broker: bool = True  # start the embedded databroker where none is found
    vss_version: str = "4.0"
    hot_swap: bool = True
    rollback_enabled: bool = True


class DeployRun(Protocol):
    deployment_id: str

    def events(self) -> AsyncIterator[DeploymentEvent]: ...

    def cancel(self, device_id: str | None = None) -> None: ...


class DeployEngine(Protocol):
    async def start(self, package: Path, devices: list[Device], settings: DeploySettings) -> DeployRun: ...

    async def stop(self, device: Device, app: str) -> None: ...

    async def rollback(self, device: Device, app: str) -> str: ...

    async def logs(self, device: Device, app: str, lines: int = 200) -> list[str]: ...


class OrchestratedRun:
    """A run of the core orchestrator seen through :class:`DeployRun`."""

    def __init__(self, run: DeploymentRun) -> None:
        self._run = run
        self.deployment_id = run.deployment_id

    def events(self) -> AsyncIterator[DeploymentEvent]:
        return self._run.hub.follow()

    def cancel(self, device_id: str | None = None) -> None:
        self._run.cancel(device_id)


class UnavailableDeployer:
    """Until the deployment engine's device jobs land, every action says so."""

    _WHY = "deploying to devices is not part of this build yet"

    async def start(self, package: Path, devices: list[Device], settings: DeploySettings) -> DeployRun:
        raise EngineUnavailable(self._WHY)

    async def stop(self, device: Device, app: str) -> None:
        raise EngineUnavailable(self._WHY)

    async def rollback(self, device: Device, app: str) -> str:
        raise EngineUnavailable(self._WHY)

    async def logs(self, device: Device, app: str, lines: int = 200) -> list[str]:
        raise EngineUnavailable(self._WHY)


def default_engine() -> DeployEngine:
    return UnavailableDeployer()
