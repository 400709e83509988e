"""How many devices one deployment works on at once: a number the user gives, or a limit that adapts.

A device's deployment mostly waits (its SSH handshake, its install, the health gate's grace period);
what all devices share is the workstation's engine: one event loop, and the CPU its SSH connections
cost. A fixed limit is wrong both ways: too low and 48 waiting devices queue behind the grace periods
of 8; too high and a CPU-bound engine stalls every device's progress (and the desktop app's window,
which shares the loop). So, unless given, the limit adapts to what the engine is observed to do, as
TCP's congestion window adapts to the network (docs/architecture.md, "Deploying to many devices"):

- it starts at ``START_PER_CORE`` devices per core of this workstation;
- every ``SAMPLE_EVERY`` seconds it samples the engine: its process CPU seconds per second (one
  core is what its event loop can use) and the loop's lag (how late a timer fires, which rises when
  the engine or the machine is too busy to serve the devices it has, whatever makes it so);
- while devices wait for a slot and the engine is mostly idle (the devices in flight are in
  wait-bound stages), the limit grows by half (quickly: 8 reaches 48 in five samples); when the
  engine is CPU-bound or the loop lags, it shrinks by a third (devices already working finish; new
  ones wait); in between it holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

SAMPLE_EVERY = 0.5  # seconds between samples: a few per device's deployment, which takes seconds
START_PER_CORE = 4  # the limit's start (8 on a 2-core workstation, the fixed default it replaces)
FLOOR_PER_CORE = 1
# The most devices at once, however idle the engine: each holds an SSH connection with a transport
# thread and up to four executor threads.
CEILING = 128


@dataclass(frozen=True)
class Sample:
    """The engine over one sampling interval."""

    cpu: float  # CPU seconds the engine's process used per second of wall time (1.0: one core busy)
    lag: float  # seconds the interval's timer fired late
    waiting: int  # devices waiting for a slot at the end of it


@dataclass(frozen=True)
class AdaptivePolicy:
    """When the limit grows, holds or shrinks (see the module's docstring)."""

    start: int
    floor: int
    ceiling: int = CEILING
    idle_cpu: float = 0.5  # below this share of one core, the devices in flight mostly wait
    busy_cpu: float = 0.85  # above it, the event loop is the bottleneck
    max_lag: float = 0.05  # grow only while timers fire this punctually (a window's frame is ~16 ms)
    overload_lag: float = 0.25  # shrink when they fire this late
    every: float = SAMPLE_EVERY

    @classmethod
    def for_cores(cls, cores: int | None = None) -> AdaptivePolicy:
        n = max(1, cores or os.cpu_count() or 1)
        return cls(start=min(CEILING, START_PER_CORE * n), floor=max(2, FLOOR_PER_CORE * n))

    def next_limit(self, limit: int, sample: Sample) -> int:
        if sample.cpu > self.busy_cpu or sample.lag > self.overload_lag:
            return max(self.floor, math.floor(limit * 2 / 3))
        if sample.waiting and sample.cpu < self.idle_cpu and sample.lag < self.max_lag:
            return min(self.ceiling, limit + max(1, limit // 2))
        return limit


class DeviceSlots:
    """A semaphore whose size can change while devices wait for it (first come, first served); a
    smaller size lets no one new in until enough of those working have left. Leaving never waits, so
    a device cancelled twice still gives its slot back."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.in_use = 0
        self.peak = 0  # the most devices worked on at once
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def resize(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._wake()

    async def __aenter__(self) -> None:
        if self.in_use < self.limit and not self._waiters:
            self._take()
            return
        woken = asyncio.get_running_loop().create_future()
        self._waiters.append(woken)
        try:
            await woken  # _wake took the slot for this device before waking it
        except asyncio.CancelledError:
            if woken.done() and not woken.cancelled():  # woken, then cancelled before it ran
                self._release()
            raise
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(woken)

    async def __aexit__(self, kind: type[BaseException] | None, value: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._release()

    def _take(self) -> None:
        self.in_use += 1
        self.peak = max(self.peak, self.in_use)

    def _release(self) -> None:
        self.in_use -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_use < self.limit:
            woken = self._waiters.popleft()
            if not woken.done():
                woken.set_result(None)
                self._take()


class AdaptiveLimit:
    """Resizes ``slots`` by ``policy`` from samples of this process, until ``stop``."""

    def __init__(self, slots: DeviceSlots, policy: AdaptivePolicy,
                 cpu_clock: Callable[[], float] = time.process_time) -> None:
        self.slots = slots
        self.policy = policy
        self._cpu_clock = cpu_clock
        self._task: asyncio.Task[None] | None = None
        self.history: list[int] = []  # the limit after each sample (bench/scale.py prints it)

    def start(self) -> None:
        self._task = asyncio.create_task(self._sample_forever(), name="deploy-concurrency")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _sample_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            wall0, cpu0 = loop.time(), self._cpu_clock()
            await asyncio.sleep(self.policy.every)
            wall = loop.time() - wall0
            sample = Sample(cpu=(self._cpu_clock() - cpu0) / wall, lag=max(0.0, wall - self.policy.every),
                            waiting=self.slots.waiting)
            limit = self.policy.next_limit(self.slots.limit, sample)
            self.history.append(limit)
            if limit != self.slots.limit:
                self.slots.resize(limit)
