"""Rolling out in waves: one wave at a time, later waves skipped (never started) once one fails."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from sdv_studio.core.deploy.events import DeploymentFinished, WaveChanged
from sdv_studio.core.deploy.orchestrator import (
    DeployError,
    DeploymentRun,
    DeviceJob,
    DeviceState,
    DeviceTask,
    JobOutcome,
    StepReporter,
    new_deployment_id,
)
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.deploy.waves import WavePlan, parse_max_failed, parse_waves
from sdv_studio.models.deployment import Deployment, DeviceDeployment


def _deployment(device_ids: list[str]) -> Deployment:
    return Deployment(deployment_id=new_deployment_id(), package_id="pkg_0123456789abcdef", app_name="demo",
                      app_version="2.0.0", devices=[DeviceDeployment(device_id=d) for d in device_ids])


class Fleet:
    """Fake devices: which were started, in what order, how many at once, and which were rolled back."""

    def __init__(self, failing: frozenset[str] = frozenset(), staging: frozenset[str] = frozenset()) -> None:
        self.failing = failing
        self.staging = staging  # devices that stage the new version (a scheduled update) instead of starting it
        self.started: list[str] = []
        self.rolled_back: list[str] = []
        self.unstaged: list[str] = []
        self.active = 0
        self.peak = 0

    def tasks(self, device_ids: list[str]) -> list[DeviceTask]:
        return [DeviceTask(d, d, self._job(d), roll_back=self._roll_back(d), unstage=self._unstage(d))
                for d in device_ids]

    def _job(self, device_id: str) -> DeviceJob:
        async def job(r: StepReporter) -> JobOutcome:
            self.started.append(device_id)
            self.active += 1
            self.peak = max(self.peak, self.active)
            await asyncio.sleep(0.01)
            self.active -= 1
            if device_id in self.failing:
                raise DeployError("not healthy within 30s: app exited")
            return JobOutcome(runtime="native", previous_version="1.0.0", staged=device_id in self.staging)
        return job

    def _roll_back(self, device_id: str) -> Callable[[], Awaitable[DeviceState]]:
        async def roll_back() -> DeviceState:
            if device_id == "stuck":
                raise DeployError("stuck has no earlier release to roll back to")
            self.rolled_back.append(device_id)
            return DeviceState("1.0.0", "the device runs demo 1.0.0 (running)")
        return roll_back

    def _unstage(self, device_id: str) -> Callable[[], Awaitable[DeviceState]]:
        async def unstage() -> DeviceState:
            self.unstaged.append(device_id)
            return DeviceState("1.0.0", "the device runs demo 1.0.0 (running)")
        return unstage


async def _run(fleet: Fleet, devices: list[str], plan: WavePlan, tmp_path: Path,
               concurrency: int = 8) -> tuple[Deployment, list[WaveChanged]]:
    run = DeploymentRun(_deployment(devices), fleet.tasks(devices), DeploymentRecords(tmp_path), concurrency,
                        plan).start()
    result = await run.wait()
    events = [e async for e in run.hub.follow()]
    assert isinstance(events[-1], DeploymentFinished)
    return result, [e for e in events if isinstance(e, WaveChanged)]


async def test_a_failed_first_wave_skips_the_others_without_starting_them(tmp_path: Path) -> None:
    fleet = Fleet(failing=frozenset({"d1"}))
    devices = ["d1", "d2", "d3", "d4"]
    result, events = await _run(fleet, devices, WavePlan(parse_waves("1,100%")), tmp_path)
    assert fleet.started == ["d1"]
    assert [(d.device_id, d.status) for d in result.devices] == [
        ("d1", "error"), ("d2", "skipped"), ("d3", "skipped"), ("d4", "skipped")]
    assert result.device("d2").message == ("Skipped: wave 1 failed (1 of 1 devices, more than the 0 allowed); "
                                           "nothing was done on the device")
    assert result.device("d2").start_time is None and result.device("d2").progress == 0
    assert result.status == "failed"
    assert [w.to_json_dict() for w in result.waves or []] == [
        {"index": 1, "devices": ["d1"], "status": "failed", "failed": 1},
        {"index": 2, "devices": ["d2", "d3", "d4"], "status": "skipped", "failed": 0}]
    assert [(e.index, e.status, e.failed) for e in events] == [
        (1, "in-progress", 0), (1, "failed", 1), (2, "skipped", 0)]
    # The record on disk says the same.
    assert DeploymentRecords(tmp_path).load(result.deployment_id).to_json_dict() == result.to_json_dict()


async def test_waves_run_one_after_another_each_in_parallel(tmp_path: Path) -> None:
    fleet = Fleet()
    devices = [f"d{i}" for i in range(1, 9)]
    result, events = await _run(fleet, devices, WavePlan(parse_waves("1,25%,100%")), tmp_path, concurrency=4)
    assert result.status == "completed"
    assert fleet.started[:2] == ["d1", "d2"] and sorted(fleet.started[2:]) == devices[2:]
    assert fleet.peak == 4  # the last wave's 6 devices, bounded by the concurrency
    assert [(w.index, len(w.devices), w.status) for w in result.waves or []] == [
        (1, 1, "completed"), (2, 1, "completed"), (3, 6, "completed")]
    assert [(e.index, e.status) for e in events] == [
        (1, "in-progress"), (1, "completed"), (2, "in-progress"), (2, "completed"),
        (3, "in-progress"), (3, "completed")]


async def test_failures_within_max_failed_let_the_rollout_go_on(tmp_path: Path) -> None:
    fleet = Fleet(failing=frozenset({"d2"}))
    devices = ["d1", "d2", "d3", "d4", "d5", "d6"]
    result, _ = await _run(fleet, devices, WavePlan(parse_waves("2,100%"), parse_max_failed("50%")), tmp_path)
    assert sorted(fleet.started) == devices
    assert [(w.status, w.failed) for w in result.waves or []] == [("completed", 1), ("completed", 0)]
    assert result.status == "failed"  # a device failed, though the rollout went on


async def test_rollback_wave_rolls_the_failed_waves_successful_devices_back(tmp_path: Path) -> None:
    fleet = Fleet(failing=frozenset({"bad"}))
    devices = ["ok", "bad", "stuck", "later"]
    plan = WavePlan(parse_waves("3,100%"), rollback_wave=True)
    result, _ = await _run(fleet, devices, plan, tmp_path)
    assert fleet.rolled_back == ["ok"]
    ok, stuck = result.device("ok"), result.device("stuck")
    assert (ok.status, ok.rolled_back, ok.version) == ("error", True, "1.0.0")
    assert ok.message == "Rolled back with wave 1: the device runs demo 1.0.0 (running)"
    # A device that could not go back keeps the new version, and says why.
    assert (stuck.status, stuck.rolled_back) == ("success", False)
    assert stuck.message.endswith("rolling back with wave 1 failed: stuck has no earlier release to roll back to")
    assert result.device("later").status == "skipped"
    assert [(w.status, w.failed) for w in result.waves or []] == [("failed", 1), ("skipped", 0)]


async def test_rollback_wave_cancels_what_a_scheduled_update_staged_instead_of_rolling_back(tmp_path: Path) -> None:
    # A staged device still runs the version before: a rollback would switch it to the one before
    # that, and leave the staged release to start on its own later.
    fleet = Fleet(failing=frozenset({"bad"}), staging=frozenset({"waiting", "bad"}))
    plan = WavePlan(parse_waves("2,100%"), rollback_wave=True)
    result, _ = await _run(fleet, ["waiting", "bad", "later"], plan, tmp_path)
    assert fleet.unstaged == ["waiting"] and fleet.rolled_back == []
    row = result.device("waiting")
    assert (row.status, row.staged, row.rolled_back, row.version) == ("error", False, False, "1.0.0")
    assert row.message == "Staged release cancelled with wave 1: the device runs demo 1.0.0 (running)"
    assert row.error == "staged release cancelled because wave 1 failed"
    assert result.device("later").status == "skipped"


async def test_a_cancel_during_the_pause_ends_it_and_cancels_the_waiting_waves(tmp_path: Path) -> None:
    fleet = Fleet()
    devices = ["d1", "d2", "d3"]
    plan = WavePlan(parse_waves("1,100%"), pause_between=30.0)
    run = DeploymentRun(_deployment(devices), fleet.tasks(devices), DeploymentRecords(tmp_path), 8, plan).start()
    async for event in run.hub.follow():
        if isinstance(event, WaveChanged) and event.status == "completed":
            break
    began = time.monotonic()
    run.cancel()
    result = await run.wait()
    assert time.monotonic() - began < 5
    assert fleet.started == ["d1"]
    assert [(d.device_id, d.status) for d in result.devices] == [
        ("d1", "success"), ("d2", "cancelled"), ("d3", "cancelled")]
    assert result.device("d2").message == "Cancelled; it had not started: nothing was done on the device"
    assert [w.status for w in result.waves or []] == ["completed", "cancelled"]


async def test_without_waves_there_is_no_wave_in_the_result(tmp_path: Path) -> None:
    fleet = Fleet(failing=frozenset({"d1"}))
    run = DeploymentRun(_deployment(["d1", "d2"]), fleet.tasks(["d1", "d2"]), DeploymentRecords(tmp_path)).start()
    result = await run.wait()
    assert sorted(fleet.started) == ["d1", "d2"]
    assert "waves" not in result.to_json_dict()
    assert not [e async for e in run.hub.follow() if isinstance(e, WaveChanged)]
