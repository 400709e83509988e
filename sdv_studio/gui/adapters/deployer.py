"""Binding to the deployment engine (sdv_studio.core.deploy): one run per Deploy click or retry.

A run streams the engine's own events (DeviceProgress, DeviceLog, WaveChanged, DeploymentFinished),
says how the engine split its devices into waves, and can cancel one device or all of them; app
management (start, stop, roll back, uninstall, logs, cancelling a staged release) goes per device, and
``status`` asks the device what it really runs, and what it holds staged.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sdv_studio.core.defaults import DEVICE_TIMEOUT
from sdv_studio.core.deploy.events import DeploymentEvent, DeploymentFinished, DeviceLog, DeviceProgress, WaveChanged
from sdv_studio.gui.adapters.discovery import Approvals, Device

# SSH, Docker and the agent client load on first use, not with the window.
if TYPE_CHECKING:
    from sdv_studio.core.deploy.orchestrator import DeploymentRun
    from sdv_studio.core.deploy.records import DeploymentRecords
    from sdv_studio.core.deploy.schedule import Schedule
    from sdv_studio.core.deploy.service import DeviceRef
    from sdv_studio.core.deploy.waves import WavePlan
    from sdv_studio.models.deployment import AppState, Deployment, DeploymentWave, StagedCheck

__all__ = ["AppOnDevice", "DeploymentEvent", "DeploymentFinished", "DeviceLog", "DeviceProgress", "WaveChanged"]

# A device's record fields that tell how far it got, not what it ended with (``outcome_details``).
PROGRESS_FIELDS = {"device_id", "status", "progress", "message", "stage", "start_time", "end_time", "error", "logs"}


@dataclass(frozen=True)
class DeploySettings:
    """How to deploy; what the app is wired to otherwise comes from the package's kuksaConfig."""

    broker: str | None = None  # HOST:PORT the app is wired to; None lets each device use its own
    hot_swap: bool | None = None  # None: as the package's deployment.hotSwap says
    rollback_enabled: bool = True
    waves: WavePlan | None = None  # None: every device at once
    schedule: Schedule | None = None  # None: start at once; else staged, the device starts it (deploy --when/--at)


@dataclass(frozen=True)
class StagedOnDevice:
    """A release the device holds staged (installed, not started): its agent starts it when ``condition`` holds."""

    version: str
    condition: str  # "Vehicle.Speed == 0", or a window "02:00-04:00" in the device's local time
    last_check: str = ""  # the device's last look: "Vehicle.Speed 50.0 at 13:05:01", or why it could not look
    holds: bool | None = None  # what that look found; None before the device looked


@dataclass(frozen=True)
class AppOnDevice:
    """The app as the device reports it (its agent, or its container engine), not as the GUI last left it."""

    status: str  # the agent's word (running, stopped, staged, …); ABSENT or UNREACHABLE when it has none
    version: str = ""
    detail: str = ""  # how it runs (runtime, pid, since when), or why the device could not be asked
    staged: StagedOnDevice | None = None  # a release waiting there for its condition
    last_staged: str = ""  # how the device's last start of a staged release ended ("2.0.0 started at …")

    ABSENT = "absent"
    UNREACHABLE = "unreachable"
    STAGED = "staged"  # only a staged release: nothing of the app runs until the device starts it


def app_on_device(apps: list[AppState], error: str | None, app: str) -> AppOnDevice:
    """``app`` among everything a device runs (a running copy first: a runtime switch can leave two),
    with the release it holds staged, if any."""
    if error is not None:
        return AppOnDevice(AppOnDevice.UNREACHABLE, detail=error)
    staged = next((_staged(a) for a in apps if a.name == app and a.status == "staged"), None)
    mine = sorted((a for a in apps if a.name == app and a.status != "staged"), key=lambda a: a.status != "running")
    if not mine:
        if staged is not None:
            return AppOnDevice(AppOnDevice.STAGED, detail="nothing runs until the device starts it", staged=staged)
        return AppOnDevice(AppOnDevice.ABSENT, detail=f"{app} is not installed there")
    state = mine[0]
    how = [state.runtime, f"pid {state.pid}" if state.pid else "",
           f"container {state.container_id[:12]}" if state.container_id else "",
           f"since {state.started_at}" if state.started_at else "",
           f"{state.restarts} restart{'s' if state.restarts != 1 else ''}" if state.restarts else ""]
    return AppOnDevice(state.status, state.version or "", " · ".join(h for h in how if h), staged,
                       _last_staged(state.last_staged))


def _staged(state: AppState) -> StagedOnDevice:
    check = state.last_check
    return StagedOnDevice(state.version or "", state.condition or "", _check_text(check),
                          None if check is None or check.error else check.holds)


def _check_text(check: StagedCheck | None) -> str:
    """The device's last look at a staged release's condition: the values it read and when."""
    if check is None:
        return ""
    if check.error:
        return f"cannot check: {check.error}"
    values = ", ".join(("local time" if path == "localTime" else path) + f" {value}"
                       for path, value in (check.values or {}).items())
    return f"{values} at {_clock(check.at)}" if check.at else values


def _last_staged(last: dict[str, object] | None) -> str:
    """How the device's last switch to a staged release ended, in a line."""
    if not last:
        return ""
    version, when = last.get("version") or last.get("release") or "", _clock(last.get("at"))
    if last.get("outcome") == "started":
        return f"{version} started by the device at {when}"
    back = "; the version before runs" if last.get("rolledBack") else ""
    return f"{version} failed to start at {when}: {last.get('reason') or 'no reason given'}{back}"


def _clock(stamp: object) -> str:
    """An agent's UTC timestamp as this computer's time of day (the text as given when it is not one)."""
    if not stamp:
        return "an unknown time"
    try:
        return datetime.fromisoformat(str(stamp)).astimezone().strftime("%H:%M:%S")
    except ValueError:
        return str(stamp)


def cancelled_text(app: str, cancelled: object) -> str:
    """What the agent's ``unstage`` answer says was cancelled, as ``deploy --cancel-staged`` words it."""
    said = cancelled if isinstance(cancelled, dict) else {}
    return f"cancelled {app} {said.get('version')} (staged to start {said.get('condition')}); what runs is unchanged"


def outcome_details(deployment: Deployment, device_id: str) -> dict[str, str]:
    """What a device's record says it ended with, beyond its progress: the update mode, runtime,
    versions, and whatever else the engine records per device (what it enforced, say), label → text."""
    row = deployment.device(device_id)
    details = {"Update": deployment.deployment_mode.replace("-", " ")}
    for name, value in row.model_dump(exclude=PROGRESS_FIELDS, exclude_none=True).items():
        if value not in (False, "", [], {}):
            details[name.replace("_", " ").capitalize()] = _text(value)
    return details


def _text(value: object) -> str:
    if value is True:
        return "yes"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return str(value)


class DeployRun(Protocol):
    deployment_id: str

    def events(self) -> AsyncIterator[DeploymentEvent]: ...

    def cancel(self, device_id: str | None = None) -> None: ...

    def waves(self) -> list[DeploymentWave]:
        """The engine's waves for this run, in order (none when every device goes at once)."""
        ...

    def failure_log(self, device_id: str) -> list[str]: ...

    def details(self, device_id: str) -> dict[str, str]:
        """What the device ended with (``outcome_details``), once its row is final."""
        ...

    def staged(self, device_id: str) -> bool:
        """Whether the device's success is a staged release (installed; the device starts it later)."""
        ...


class DeployEngine(Protocol):
    async def start(self, package: Path, devices: list[Device], settings: DeploySettings) -> DeployRun: ...

    async def status(self, device: Device, app: str) -> AppOnDevice: ...

    async def start_app(self, device: Device, app: str) -> None: ...

    async def stop(self, device: Device, app: str) -> None: ...

    async def rollback(self, device: Device, app: str) -> str: ...

    async def uninstall(self, device: Device, app: str) -> None: ...

    async def logs(self, device: Device, app: str, lines: int = 200) -> list[str]: ...

    async def cancel_staged(self, device: Device, app: str) -> str:
        """Cancels the release staged for ``app`` (``deploy --cancel-staged``); what it was, in words."""
        ...

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

    def waves(self) -> list[DeploymentWave]:
        return [wave.model_copy(deep=True) for wave in self._run.deployment.waves or []]

    def failure_log(self, device_id: str) -> list[str]:
        """The tail of the app's own log when it failed on the device."""
        return list(self._run.deployment.device(device_id).logs)

    def details(self, device_id: str) -> dict[str, str]:
        return outcome_details(self._run.deployment, device_id)

    def staged(self, device_id: str) -> bool:
        return self._run.deployment.device(device_id).staged


class CoreDeployer:
    """The deployment engine: ``start_deployment`` for runs, ``core.deploy.apps`` for stop/rollback/logs."""

    def __init__(self, approvals: Approvals, records: DeploymentRecords | None = None,
                 timeout: float = DEVICE_TIMEOUT) -> None:
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
                                broker=settings.broker, connect_timeout=self.timeout, schedule=settings.schedule)
        run = start_deployment(opened, [self._ref(d) for d in devices], self.approvals.trust(), options,
                               records=self.records, plan=settings.waves)
        return OrchestratedRun(run)

    async def status(self, device: Device, app: str) -> AppOnDevice:
        from sdv_studio.core.deploy import app_control

        # Every app, not just ``app``: so an app that is not there is told apart from a device that did not answer.
        answer = await app_control.device_status(self._ref(device), self.approvals.trust(), self.timeout)
        return app_on_device(answer.apps, answer.error, app)

    async def _action(self, device: Device, action: str, app: str) -> dict[str, object]:
        from sdv_studio.core.deploy import app_control

        return await app_control.app_action(self._ref(device), self.approvals.trust(), self.timeout, action, app)

    async def start_app(self, device: Device, app: str) -> None:
        await self._action(device, "start", app)

    async def stop(self, device: Device, app: str) -> None:
        await self._action(device, "stop", app)

    async def rollback(self, device: Device, app: str) -> str:
        done = await self._action(device, "rollback", app)
        return str(done.get("rolledBackTo") or done.get("version") or "the previous version")

    async def uninstall(self, device: Device, app: str) -> None:
        await self._action(device, "uninstall", app)

    async def cancel_staged(self, device: Device, app: str) -> str:
        from sdv_studio.core.deploy import app_control

        answer = await app_control.cancel_staged(self._ref(device), self.approvals.trust(), self.timeout, app)
        return cancelled_text(app, answer.get("cancelled"))

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
