"""The adaptive deploy concurrency: the policy's decisions, the resizable slots, and a deployment
whose limit grows while its devices wait (and stays put when told a number)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from sdv_studio.core.deploy.concurrency import CEILING, AdaptiveLimit, AdaptivePolicy, DeviceSlots, Sample
from sdv_studio.core.deploy.orchestrator import DeploymentRun, DeviceTask, JobOutcome, StepReporter
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.models.deployment import Deployment, DeviceDeployment

POLICY = AdaptivePolicy(start=8, floor=2, ceiling=64)
IDLE = Sample(cpu=0.1, lag=0.002, waiting=10)


def test_the_start_and_floor_follow_the_workstations_cores() -> None:
    assert AdaptivePolicy.for_cores(2) == AdaptivePolicy(start=8, floor=2)
    assert AdaptivePolicy.for_cores(16) == AdaptivePolicy(start=64, floor=16)
    assert AdaptivePolicy.for_cores(64).start == CEILING


def test_devices_waiting_on_an_idle_engine_grow_the_limit_by_half_up_to_the_ceiling() -> None:
    limits = [8]
    while len(limits) < 8:
        limits.append(POLICY.next_limit(limits[-1], IDLE))
    assert limits == [8, 12, 18, 27, 40, 60, 64, 64]


@pytest.mark.parametrize("sample", [
    Sample(cpu=0.1, lag=0.002, waiting=0),  # nobody waits: more slots would change nothing
    Sample(cpu=0.7, lag=0.002, waiting=10),  # the engine is neither idle nor saturated
    Sample(cpu=0.1, lag=0.1, waiting=10),  # timers already fire late
])
def test_the_limit_holds_when_growing_would_not_help_or_the_engine_is_getting_busy(sample: Sample) -> None:
    assert POLICY.next_limit(12, sample) == 12


@pytest.mark.parametrize("sample", [
    Sample(cpu=0.95, lag=0.002, waiting=10),  # CPU-bound: the event loop is the bottleneck
    Sample(cpu=0.2, lag=0.5, waiting=0),  # the loop lags, whatever makes it so
])
def test_a_busy_engine_or_a_lagging_loop_shrinks_the_limit_by_a_third_down_to_the_floor(sample: Sample) -> None:
    assert POLICY.next_limit(12, sample) == 8
    assert POLICY.next_limit(2, sample) == 2


async def test_a_resize_lets_waiters_in_at_once_and_a_smaller_size_evicts_no_one() -> None:
    slots = DeviceSlots(1)
    inside: list[int] = []
    leave = asyncio.Event()

    async def device(n: int) -> None:
        async with slots:
            inside.append(n)
            await leave.wait()

    tasks = [asyncio.create_task(device(n)) for n in range(4)]
    await asyncio.sleep(0.01)
    assert (inside, slots.waiting) == ([0], 3)
    slots.resize(3)
    await asyncio.sleep(0.01)
    assert (inside, slots.waiting) == ([0, 1, 2], 1)
    slots.resize(1)
    assert slots.in_use == 3  # those working go on
    leave.set()
    await asyncio.gather(*tasks)
    assert (inside, slots.in_use, slots.peak) == ([0, 1, 2, 3], 0, 3)


async def test_a_device_cancelled_while_waiting_or_just_woken_leaves_no_slot_taken() -> None:
    slots = DeviceSlots(1)
    leave = asyncio.Event()

    async def device() -> None:
        async with slots:
            await leave.wait()

    first, waiting, woken = (asyncio.create_task(device()) for _ in range(3))
    await asyncio.sleep(0.01)
    waiting.cancel()  # while it waits
    await asyncio.sleep(0.01)
    assert (slots.in_use, slots.waiting) == (1, 1)
    first.cancel()  # the slot goes to ``woken``, which is cancelled before it runs
    await asyncio.sleep(0)
    woken.cancel()
    await asyncio.gather(first, waiting, woken, return_exceptions=True)
    assert (slots.in_use, slots.waiting) == (0, 0)


async def test_the_sampler_feeds_the_engines_cpu_share_to_the_policy() -> None:
    slots = DeviceSlots(8)
    busy = AdaptiveLimit(slots, AdaptivePolicy(start=8, floor=2, every=0.01, overload_lag=10.0),
                         cpu_clock=_clock(step=1.0))  # a whole CPU second per sample: CPU-bound
    busy.start()
    while len(busy.history) < 3:
        await asyncio.sleep(0.005)
    await busy.stop()
    assert busy.history[:3] == [5, 3, 2]
    assert slots.limit == busy.history[-1]


def _clock(step: float) -> Callable[[], float]:
    now = [0.0]

    def clock() -> float:
        now[0] += step / 2  # read twice per sample
        return now[0]
    return clock


class _Waiting:
    """Devices whose job waits until released: wait-bound, as a health gate is."""

    def __init__(self) -> None:
        self.active = 0
        self.peak = 0
        self.release = asyncio.Event()

    def task(self, device_id: str) -> DeviceTask:
        async def job(_: StepReporter) -> JobOutcome:
            self.active += 1
            self.peak = max(self.peak, self.active)
            await self.release.wait()
            self.active -= 1
            return JobOutcome(runtime="native")
        return DeviceTask(device_id, device_id, job)


def _run(devices: int, tmp_path: Path, fleet: _Waiting, concurrency: int | None) -> DeploymentRun:
    ids = [f"d{n}" for n in range(devices)]
    deployment = Deployment(deployment_id="deploy_0000000000000000", package_id="pkg_0123456789abcdef",
                            app_name="demo", app_version="1.0.0", devices=[DeviceDeployment(device_id=d) for d in ids])
    # Lag never brakes here: the test machine's load must not decide the outcome.
    policy = AdaptivePolicy(start=4, floor=2, every=0.02, max_lag=10.0, overload_lag=20.0)
    return DeploymentRun(deployment, [fleet.task(d) for d in ids], DeploymentRecords(tmp_path), concurrency,
                         policy=policy).start()


async def test_without_a_number_a_deployment_of_waiting_devices_takes_them_all_on(tmp_path: Path) -> None:
    fleet = _Waiting()
    run = _run(30, tmp_path, fleet, None)
    async with asyncio.timeout(20):
        while fleet.peak < 30:
            await asyncio.sleep(0.01)
    fleet.release.set()
    result = await run.wait()
    assert result.status == "completed"
    assert run.adaptive is not None and run.slots.peak == 30  # from a start of 4


async def test_a_given_number_is_the_limit_however_idle_the_engine(tmp_path: Path) -> None:
    fleet = _Waiting()
    run = _run(30, tmp_path, fleet, 5)
    await asyncio.sleep(0.2)  # ten of the adaptive policy's sampling intervals
    assert (fleet.peak, run.adaptive) == (5, None)
    fleet.release.set()
    assert (await run.wait()).status == "completed"
    assert fleet.peak == 5
