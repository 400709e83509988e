"""Run one deployment: every device in parallel (bounded), each isolated from the others; or, with a
``WavePlan``, wave after wave, each wave's devices in parallel.

A device's work is a ``DeviceJob``: an async function that reports its stages through a
``StepReporter`` and returns a ``JobOutcome``. The orchestrator owns everything around it:
the per-device lock, cancellation, the record on disk, and the event stream.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sdv_studio.core.defaults import DEPLOY_CONCURRENCY
from sdv_studio.core.deploy.concurrency import AdaptiveLimit, AdaptivePolicy, DeviceSlots
from sdv_studio.core.deploy.event_hub import EventHub
from sdv_studio.core.deploy.events import (
    DeploymentEvent,
    DeploymentFinished,
    DeviceLog,
    DeviceProgress,
    WaveChanged,
)
from sdv_studio.core.deploy.record_writer import RecordWriter
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.deploy.stages import Stage
from sdv_studio.core.deploy.waves import WavePlan
from sdv_studio.core.errors import OperationFailed
from sdv_studio.models.deployment import (
    Deployment,
    DeploymentWave,
    DeviceDeployment,
    DeviceSecurity,
    WaveStatus,
    utc_now,
)

log = logging.getLogger(__name__)

# Two deployments to one device never interleave, whichever face (GUI, CLI, API) started them.
_device_locks: dict[str, asyncio.Lock] = {}


def _lock_for(device_key: str) -> asyncio.Lock:
    return _device_locks.setdefault(device_key, asyncio.Lock())


class DeployError(OperationFailed):
    """An expected failure on one device; the message is what the user reads."""

    summary = "the device failed"

    def __init__(self, message: str, *, logs: list[str] | None = None, rolled_back: bool = False) -> None:
        super().__init__(message)
        self.logs = logs or []
        self.rolled_back = rolled_back


@dataclass
class JobOutcome:
    message: str = Stage.DONE.message
    runtime: str | None = None
    previous_version: str | None = None
    security: DeviceSecurity | None = None  # what the device enforced of the package's security and limits
    staged: bool = False  # installed, to be started by the device when the deployment's schedule holds


class StepReporter:
    """Handed to a device job: moves its row forward and feeds the live log."""

    def __init__(self, run: DeploymentRun, device_id: str) -> None:
        self._run = run
        self.device_id = device_id

    @property
    def deployment_id(self) -> str:
        return self._run.deployment_id

    async def stage(self, stage: Stage, message: str | None = None) -> None:
        await self._run._update(self.device_id, stage, "deploying", message or stage.message)

    async def log(self, line: str) -> None:
        await self._run.hub.publish(DeviceLog(self._run.deployment.deployment_id, self.device_id, line))


DeviceJob = Callable[[StepReporter], Awaitable[JobOutcome]]


@dataclass(frozen=True)
class DeviceState:
    """What a device runs of the app, as ``status`` reports it."""

    version: str | None  # the version that runs; None when none does
    summary: str  # e.g. "the device runs light 1.0.0 (running)"


@dataclass(frozen=True)
class DeviceTask:
    device_id: str
    lock_key: str  # the device's address, so two names for one device share a lock
    job: DeviceJob
    # Asks the device, after a cancel, what it runs once the work under way there has ended.
    after_cancel: Callable[[], Awaitable[DeviceState]] | None = None
    # Switches the device back to the version it ran before (when its wave stops the rollout), and
    # says what it then runs.
    roll_back: Callable[[], Awaitable[DeviceState]] | None = None
    # The same for a device that staged the new version (a scheduled update): cancels the staged
    # release, which would otherwise start later on its own, and says what the device runs.
    unstage: Callable[[], Awaitable[DeviceState]] | None = None


def new_deployment_id() -> str:
    return f"deploy_{secrets.token_hex(8)}"


class DeploymentRun:
    """A deployment in flight: its record, its events, and handles to cancel it.

    The record is written when the deployment starts, when a device reaches its install (after which
    the device changes) and when it ends; progress in between at most every SAVE_EVERY seconds (a
    restart mid-deployment loses at most that much of it):
    re-encoding the whole record on every stage of every device cost more of the event loop than
    anything else the engine does for a device, bar SSH itself. The writing itself is done by a
    thread (record_writer.py)."""

    SAVE_EVERY = 0.25

    def __init__(
        self,
        deployment: Deployment,
        tasks: list[DeviceTask],
        records: DeploymentRecords,
        concurrency: int | None = DEPLOY_CONCURRENCY,
        plan: WavePlan | None = None,
        policy: AdaptivePolicy | None = None,
    ) -> None:
        """``concurrency``: devices worked on at once; None adapts, by ``policy`` (default: for this
        workstation's cores), as core/deploy/concurrency.py describes."""
        self.deployment = deployment
        self.hub: EventHub[DeploymentEvent] = EventHub()
        self._tasks = {t.device_id: t for t in tasks}
        self._plan = plan
        self._waves = plan.split(list(self._tasks)) if plan else [list(self._tasks)]
        if plan is not None:
            deployment.waves = [DeploymentWave(index=i, devices=w) for i, w in enumerate(self._waves, 1)]
        self._stopped_because: str | None = None  # set when a wave stops the rollout
        self._records = records
        self._writer = RecordWriter(records, deployment)
        if concurrency is None:
            policy = policy or AdaptivePolicy.for_cores()
            self.slots = DeviceSlots(policy.start)
            self.adaptive: AdaptiveLimit | None = AdaptiveLimit(self.slots, policy)
        else:
            self.slots = DeviceSlots(concurrency)
            self.adaptive = None
        self._running: dict[str, asyncio.Task[None]] = {}
        self._main: asyncio.Task[Deployment] | None = None
        self._pending_save: asyncio.TimerHandle | None = None

    @property
    def deployment_id(self) -> str:
        return self.deployment.deployment_id

    def start(self) -> DeploymentRun:
        self.deployment.status = "in-progress"
        self._records.claim(self.deployment_id)
        self._records.save(self.deployment)
        self._main = asyncio.create_task(self._run_all(), name=self.deployment_id)
        return self

    async def wait(self) -> Deployment:
        assert self._main is not None, "start() first"
        return await asyncio.shield(self._main)

    def cancel(self, device_id: str | None = None) -> None:
        """Cancel one device, or all of them; devices already finished keep their result."""
        for dev_id, task in self._running.items():
            if device_id in (None, dev_id) and not task.done():
                task.cancel()

    async def _run_all(self) -> Deployment:
        if self.adaptive is not None:
            self.adaptive.start()
        try:
            return await self._run_waves()
        finally:
            if self.adaptive is not None:
                await self.adaptive.stop()

    async def _run_waves(self) -> Deployment:
        # Every device's task exists from the start, waiting for its wave: a cancel reaches it there too.
        gates = [asyncio.Event() for _ in self._waves]
        for gate, wave in zip(gates, self._waves, strict=True):
            for dev_id in wave:
                self._running[dev_id] = asyncio.create_task(self._run_device(self._tasks[dev_id], gate),
                                                            name=f"{self.deployment_id}:{dev_id}")
        for index, (gate, wave) in enumerate(zip(gates, self._waves, strict=True), 1):
            if index > 1 and self._stopped_because is None and self._plan and self._plan.pause_between > 0:
                # Cut short when every device still waiting was cancelled meanwhile.
                await asyncio.wait([self._running[d] for w in self._waves[index - 1:] for d in w],
                                   timeout=self._plan.pause_between)
            skipped = self._stopped_because is not None
            await self._wave_changed(index, "skipped" if skipped else "in-progress")
            gate.set()
            await asyncio.gather(*(self._running[d] for d in wave), return_exceptions=True)
            if not skipped:
                await self._end_wave(index, wave)
        self.deployment.settle()
        await self._save_now()
        self._records.release(self.deployment_id)
        await self.hub.publish(DeploymentFinished(self.deployment_id, self.deployment.status))
        await self.hub.close()
        return self.deployment

    async def _run_device(self, task: DeviceTask, gate: asyncio.Event) -> None:
        row = self.deployment.device(task.device_id)
        reporter = StepReporter(self, task.device_id)
        try:
            await gate.wait()
            if self._stopped_because is not None:
                await self._finish(row, None, "skipped",
                                   f"Skipped: {self._stopped_because}; nothing was done on the device")
                return
            async with self.slots, _lock_for(task.lock_key):
                row.start_time = utc_now()
                outcome = await task.job(reporter)
            row.runtime = outcome.runtime  # type: ignore[assignment]
            row.previous_version = outcome.previous_version
            row.security = outcome.security
            row.staged = outcome.staged
            await self._finish(row, Stage.DONE, "success", outcome.message)
        except asyncio.CancelledError:
            await self._finish(row, None, "cancelled", f"Cancelled; {await self._state_after_cancel(task, row)}")
        except DeployError as exc:
            row.logs = exc.logs[-50:]
            row.rolled_back = exc.rolled_back
            row.error = str(exc)
            await self._finish(row, None, "error", f"Deployment failed: {exc}")
        except Exception as exc:  # a bug or an unforeseen failure stays on this device
            log.exception("deployment %s: device %s", self.deployment_id, task.device_id)
            row.error = f"{type(exc).__name__}: {exc}"
            await self._finish(row, None, "error", f"Deployment failed: {row.error}")

    async def _end_wave(self, index: int, wave: list[str]) -> None:
        """Count the wave's failures; over the plan's limit, stop the rollout (and roll the wave back)."""
        if self._plan is None:
            return
        rows = [self.deployment.device(d) for d in wave]
        failed = sum(row.status == "error" for row in rows)
        if not self._plan.max_failed.exceeded(failed, len(rows)):
            status: WaveStatus = "cancelled" if all(r.status == "cancelled" for r in rows) else "completed"
            await self._wave_changed(index, status, failed)
            return
        # Worded for every face: the GUI has no --max-failed option to name.
        self._stopped_because = (f"wave {index} failed ({failed} of {len(rows)} devices, more than the "
                                 f"{self._plan.max_failed} allowed)")
        await self._wave_changed(index, "failed", failed)
        if self._plan.rollback_wave:
            await asyncio.gather(*(self._roll_back(index, row) for row in rows if row.status == "success"))

    async def _roll_back(self, index: int, row: DeviceDeployment) -> None:
        task = self._tasks[row.device_id]
        undo = task.unstage if row.staged else task.roll_back
        if undo is None:
            return
        try:
            async with _lock_for(task.lock_key):
                state = await undo()
        except Exception as exc:  # the device keeps the new version (or its staged request), and its row says why
            if not isinstance(exc, DeployError):
                log.exception("deployment %s: rolling back device %s", self.deployment_id, row.device_id)
            what = "cancelling its staged release" if row.staged else "rolling back"
            await self._update(row.device_id, None, row.status, f"{row.message}; {what} with wave {index} "
                                                                f"failed: {exc}")
            return
        row.version = state.version
        if row.staged:  # it never left the version it ran: nothing to roll back, nothing left to start
            row.staged = False
            row.error = f"staged release cancelled because wave {index} failed"
            await self._update(row.device_id, None, "error",
                               f"Staged release cancelled with wave {index}: {state.summary}")
            return
        row.rolled_back = True
        row.error = f"rolled back because wave {index} failed"
        await self._update(row.device_id, None, "error", f"Rolled back with wave {index}: {state.summary}")

    async def _wave_changed(self, index: int, status: WaveStatus, failed: int = 0) -> None:
        if self.deployment.waves is None:
            return
        wave = self.deployment.waves[index - 1]
        wave.status, wave.failed = status, failed
        await self._save_now()
        await self.hub.publish(WaveChanged(self.deployment_id, index, wave.devices, status, failed))

    async def _state_after_cancel(self, task: DeviceTask, row: DeviceDeployment) -> str:
        """What the device runs now, in its own words; the row's version is set to the one it runs."""
        if row.start_time is None:
            return "it had not started: nothing was done on the device"
        if task.after_cancel is None:
            return "what the device runs now was not checked"
        try:
            state = await task.after_cancel()
        except (asyncio.CancelledError, Exception) as exc:  # cancelled again, or the device cannot be asked
            log.info("deployment %s: device %s: state after the cancel unknown: %r",
                     self.deployment_id, task.device_id, exc)
            return "what the device runs now could not be checked"
        row.version = state.version
        return state.summary

    async def _finish(self, row: DeviceDeployment, stage: Stage | None, status: str, message: str) -> None:
        row.end_time = utc_now()
        await self._update(row.device_id, stage, status, message)

    async def _update(self, device_id: str, stage: Stage | None, status: str, message: str) -> None:
        row = self.deployment.device(device_id)
        if stage is not None:
            row.stage = stage.key
            row.progress = stage.progress
        row.status = status  # type: ignore[assignment]
        row.message = message
        self._records.changed(self.deployment)
        if stage is Stage.INSTALL:  # from here on the device changes: a record cut short must say so
            await self._save_now()
        elif self._pending_save is None:
            self._pending_save = asyncio.get_running_loop().call_later(self.SAVE_EVERY, self._save_later)
        await self.hub.publish(
            DeviceProgress(self.deployment_id, device_id, row.stage, row.progress, row.status, message)
        )

    async def _save_now(self) -> None:
        if self._pending_save is not None:
            self._pending_save.cancel()
            self._pending_save = None
        await self._writer.save()

    def _save_later(self) -> None:
        self._pending_save = None
        self._writer.save()
