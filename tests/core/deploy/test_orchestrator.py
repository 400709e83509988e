"""The orchestration around device jobs: isolation, cancellation, records, ordered events."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sdv_studio.core.deploy.events import DeploymentFinished, DeviceProgress
from sdv_studio.core.deploy.orchestrator import (
    DeployError,
    DeploymentRun,
    DeviceState,
    DeviceTask,
    JobOutcome,
    StepReporter,
    new_deployment_id,
)
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.deploy.stages import Stage
from sdv_studio.models.deployment import Deployment, DeviceDeployment


def _deployment(device_ids: list[str]) -> Deployment:
    return Deployment(
        deployment_id=new_deployment_id(),
        package_id="pkg_0123456789abcdef",
        app_name="demo",
        app_version="1.0.0",
        devices=[DeviceDeployment(device_id=d) for d in device_ids],
    )


async def _walk(reporter: StepReporter, stages: list[Stage]) -> None:
    for stage in stages:
        await reporter.stage(stage)
        await asyncio.sleep(0)


async def test_a_failing_device_does_not_disturb_the_others(tmp_path: Path) -> None:
    async def good(r: StepReporter) -> JobOutcome:
        await _walk(r, [Stage.COMPATIBILITY, Stage.TRANSFER, Stage.INSTALL, Stage.START, Stage.HEALTH])
        return JobOutcome(runtime="native")

    async def bad(r: StepReporter) -> JobOutcome:
        await _walk(r, [Stage.COMPATIBILITY, Stage.TRANSFER])
        raise DeployError("disk full", logs=["line 1", "line 2"], rolled_back=True)

    records = DeploymentRecords(tmp_path)
    dep = _deployment(["a", "b", "c"])
    run = DeploymentRun(dep, [DeviceTask("a", "a", good), DeviceTask("b", "b", bad), DeviceTask("c", "c", good)],
                        records).start()
    result = await run.wait()
    assert result.status == "failed"
    assert [(d.device_id, d.status, d.progress) for d in result.devices] == [
        ("a", "success", 100), ("b", "error", 30), ("c", "success", 100)]
    assert result.device("b").message == "Deployment failed: disk full"
    assert result.device("b").logs == ["line 1", "line 2"] and result.device("b").rolled_back
    assert records.load(dep.deployment_id).to_json_dict() == result.to_json_dict()


async def test_events_replay_in_order_to_a_late_subscriber(tmp_path: Path) -> None:
    async def job(r: StepReporter) -> JobOutcome:
        await _walk(r, [Stage.COMPATIBILITY, Stage.TRANSFER, Stage.INSTALL, Stage.KUKSA, Stage.START, Stage.HEALTH])
        return JobOutcome()

    run = DeploymentRun(_deployment(["x"]), [DeviceTask("x", "x", job)], DeploymentRecords(tmp_path)).start()
    await run.wait()
    events = [e async for e in run.hub.follow()]  # subscribed after the end: sees everything
    progress = [e.progress for e in events if isinstance(e, DeviceProgress)]
    assert progress == [10, 30, 60, 80, 90, 95, 100]
    assert isinstance(events[-1], DeploymentFinished) and events[-1].status == "completed"


async def test_cancel_one_device_leaves_the_other_running_to_success(tmp_path: Path) -> None:
    gate = asyncio.Event()

    async def slow(r: StepReporter) -> JobOutcome:
        await r.stage(Stage.TRANSFER)
        await gate.wait()
        return JobOutcome()

    run = DeploymentRun(_deployment(["slow", "ok"]),
                        [DeviceTask("slow", "slow", slow), DeviceTask("ok", "ok", slow)],
                        DeploymentRecords(tmp_path)).start()
    await asyncio.sleep(0.05)
    run.cancel("slow")
    await asyncio.sleep(0)
    gate.set()
    result = await run.wait()
    assert result.device("slow").status == "cancelled"
    assert result.device("ok").status == "success"
    assert result.status == "failed"


async def test_a_cancelled_device_records_what_it_runs_afterwards_as_the_device_says(tmp_path: Path) -> None:
    started = asyncio.Event()

    async def hangs(r: StepReporter) -> JobOutcome:
        await r.stage(Stage.TRANSFER)
        started.set()
        await asyncio.Event().wait()
        return JobOutcome()

    async def runs_v1() -> DeviceState:
        return DeviceState("1.0.0", "the device runs demo 1.0.0 (running)")

    async def unreachable() -> DeviceState:
        raise DeployError("198.18.0.9: the device stopped answering")

    tasks = [DeviceTask("asked", "asked", hangs, after_cancel=runs_v1),
             DeviceTask("lost", "lost", hangs, after_cancel=unreachable),
             DeviceTask("queued", "asked", hangs, after_cancel=runs_v1)]  # waits for the same device's lock
    run = DeploymentRun(_deployment(["asked", "lost", "queued"]), tasks, DeploymentRecords(tmp_path)).start()
    await started.wait()
    await asyncio.sleep(0.05)
    run.cancel()
    result = await run.wait()
    assert [(d.device_id, d.status, d.message, d.version) for d in result.devices] == [
        ("asked", "cancelled", "Cancelled; the device runs demo 1.0.0 (running)", "1.0.0"),
        ("lost", "cancelled", "Cancelled; what the device runs now could not be checked", None),
        ("queued", "cancelled", "Cancelled; it had not started: nothing was done on the device", None)]
    assert result.status == "cancelled"


async def test_one_device_never_runs_two_deployments_at_once(tmp_path: Path) -> None:
    active = 0
    peak = 0

    async def job(r: StepReporter) -> JobOutcome:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.02)
        active -= 1
        return JobOutcome()

    records = DeploymentRecords(tmp_path)
    runs = [DeploymentRun(_deployment(["dev"]), [DeviceTask("dev", "sdv@198.18.0.11:22", job)], records).start()
            for _ in range(3)]
    await asyncio.gather(*(r.wait() for r in runs))
    assert peak == 1
    assert len(records.all()) == 3


def test_records_reject_ids_that_are_not_deployment_ids(tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        DeploymentRecords(tmp_path).load("../../etc/passwd")


async def test_progress_is_saved_in_batches_the_install_and_the_end_at_once(tmp_path: Path) -> None:
    class CountingRecords(DeploymentRecords):
        def __init__(self, folder: Path) -> None:
            super().__init__(folder)
            self.saved: list[tuple[str, list[int]]] = []

        def write(self, deployment_id: str, data: bytes) -> None:
            deployment = Deployment.model_validate_json(data)
            self.saved.append((deployment.status, [d.progress for d in deployment.devices]))
            super().write(deployment_id, data)

    install, release = asyncio.Event(), asyncio.Event()

    async def job(r: StepReporter) -> JobOutcome:
        await _walk(r, [Stage.COMPATIBILITY, Stage.TRANSFER])
        await install.wait()
        await _walk(r, [Stage.INSTALL])
        await release.wait()
        return JobOutcome(runtime="native")

    records = CountingRecords(tmp_path)
    dep = _deployment(["a", "b"])
    run = DeploymentRun(dep, [DeviceTask("a", "a", job), DeviceTask("b", "b", job)], records).start()
    await asyncio.sleep(DeploymentRun.SAVE_EVERY * 2)  # four stage events so far: one save for them all
    assert records.saved == [("in-progress", [0, 0]), ("in-progress", [30, 30])]
    install.set()
    await asyncio.sleep(0.05)  # from its install on a device changes: each is saved at once, and
    # installs that come together share one write
    assert records.saved[2:] == [("in-progress", [60, 60])]
    assert records.load(dep.deployment_id).device("a").progress == 60  # a restart now would see this
    release.set()
    result = await run.wait()  # the end is written before wait() returns, not a moment later
    assert records.saved[-1] == ("completed", [100, 100]) and len(records.saved) == 4
    assert records.load(dep.deployment_id).to_json_dict() == result.to_json_dict()
