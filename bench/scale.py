"""Scaling curve: a dependency-free app deployed to 1, 6, 12, 24 and 48 fresh rig devices.

The rig's devices here are lightweight (tests/rig/rig.py scale_specs: sshd alone, this machine's
root shared read-only). Each deployment is the first one ever on its devices (agent, supervisor,
venv), with a broker given so no fallback broker is installed: what is measured is the
orchestration and each device's own install. For each size it prints the wall time, the engine's
CPU (this process: event loop and SSH threads) per device, each device's CPU (a cpuacct cgroup
around its sshd, bench/deploy.py DeviceCpu) and the most devices worked on at once, beside the
issue's targets:

- engine CPU per device flat within 1.5x from 6 to 48 devices;
- wall time for 48 devices <= 1.3x the devices' total CPU spread over this machine's cores (the
  physical floor: the rig's devices share those cores). The engine's CPU and whatever else ran on
  the machine meanwhile (its "others" column) share them too, so the floor with both is shown beside.

Run as root (PyPI is reached only before the rig exists, to build the package):
    .venv/bin/python bench/scale.py [--sizes 1,6,12,24,48] [--repeat 1] [--concurrency N] [--profile F]
--concurrency N fixes the limit (default: the adaptive one); --profile F writes cProfile stats of
the engine's event-loop thread during the largest deployment to F. Exit status 0 when the targets are
met, 1 when one is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench.deploy as engine_bench  # noqa: E402
from sdv_studio.core.deploy import DeployOptions, start_deployment  # noqa: E402
from sdv_studio.core.deploy.orchestrator import DeploymentRun  # noqa: E402
from sdv_studio.core.deploy.records import DeploymentRecords  # noqa: E402
from sdv_studio.core.ssh.known_hosts import KnownHosts  # noqa: E402
from sdv_studio.core.ssh.trust import HostKeyTrust  # noqa: E402
from tests.rig.rig import SCALE_MAX, Rig, scale_specs  # noqa: E402

SIZES = (1, 6, 12, 24, 48)
FLAT_WITHIN = 1.5
WALL_OVER_FLOOR = 1.3


@dataclass
class Point:
    devices: int
    wall: float
    engine_cpu: float
    device_cpu: float  # all the devices together
    machine_cpu: float  # every process on this machine during the run
    peak: int  # the most devices worked on at once
    limits: list[int]  # the adaptive limit after each sample (empty when fixed)
    stall: float  # the event loop's longest stall (s): how late a 5 ms heartbeat woke up
    busy_stall: float  # the same, counting only the loop thread's own CPU time in it

    @property
    def engine_per_device(self) -> float:
        return self.engine_cpu / self.devices

    @property
    def device_per_device(self) -> float:
        return self.device_cpu / self.devices

    @property
    def others(self) -> float:
        """CPU seconds of everything else this machine ran meanwhile (other users, the kernel's
        share of the rig's LAN)."""
        return max(0.0, self.machine_cpu - self.engine_cpu - self.device_cpu)

    def cores_left(self, cores: int) -> float:
        """The cores the others left to this deployment, on average over its wall time."""
        return max(0.1, cores - self.others / self.wall)


# Each run bench/deploy.py started, with its loop's stalls: (seconds late, the loop thread's CPU seconds meanwhile).
RUNS: list[tuple[DeploymentRun, list[tuple[float, float]]]] = []
HEARTBEAT = 0.005


def _capture_runs() -> None:
    """Keep each DeploymentRun bench/deploy.py starts (for its peak and adaptive limits), and time its
    event loop with a heartbeat for as long as it runs."""
    def capturing(*args: Any, **kwargs: Any) -> DeploymentRun:
        run = start_deployment(*args, **kwargs)  # called on the deployment's running loop
        stalls: list[tuple[float, float]] = []
        RUNS.append((run, stalls))
        beat = asyncio.ensure_future(_heartbeat(stalls))
        asyncio.ensure_future(run.wait()).add_done_callback(lambda _: beat.cancel())
        return run
    engine_bench.start_deployment = capturing


async def _heartbeat(stalls: list[tuple[float, float]]) -> None:
    loop = asyncio.get_running_loop()
    while True:
        before, cpu = loop.time(), time.thread_time()
        await asyncio.sleep(HEARTBEAT)
        late = loop.time() - before - HEARTBEAT
        stalls.append((late, min(late, time.thread_time() - cpu)))


def measure(rig: Rig, size: int, package: Any, trust: HostKeyTrust, records: DeploymentRecords,
            concurrency: int | None, profile: cProfile.Profile | None) -> Point:
    devices = list(rig.devices.values())[:size]
    engine_bench.make_fresh(devices)
    options = DeployOptions(broker=engine_bench.GIVEN_BROKER, grace_seconds=1.0)
    if profile:
        profile.enable()
    try:
        run = engine_bench.deploy(rig, devices, package, trust, records, options, f"{size} devices", concurrency)
    finally:
        if profile:
            profile.disable()
    live, stalls = RUNS[-1]
    limits = live.adaptive.history if live.adaptive else []
    return Point(size, run.wall, run.own_cpu, run.devices_cpu, run.cpu, live.slots.peak, list(limits),
                 max((late for late, _ in stalls), default=0.0), max((busy for _, busy in stalls), default=0.0))


def table(points: Sequence[Point], cores: int) -> tuple[list[str], bool]:
    lines = [f"{'devices':>7} {'wall s':>7} {'at once':>7} {'stall ms':>12} {'engine CPU/dev':>14} "
             f"{'device CPU/dev':>14} {'floor s':>8} {'wall/floor':>10} {'cores left':>10} {'wall/floor left':>15}"]
    for p in points:
        floor, left = p.device_cpu / cores, p.cores_left(cores)
        stall = f"{p.stall * 1000:.0f} ({p.busy_stall * 1000:.0f})"
        lines.append(f"{p.devices:7d} {p.wall:7.2f} {p.peak:7d} {stall:>12} {p.engine_per_device:14.3f} "
                     f"{p.device_per_device:14.3f} {floor:8.2f} {p.wall / floor:10.2f} {left:10.2f} "
                     f"{p.wall / (p.device_cpu / left):15.2f}")
    lines.append(f"  floor: the devices' CPU over this machine's {cores} cores; cores left: {cores} less what "
                 "everything else on the machine used meanwhile (others' CPU / wall); CPU figures in seconds;")
    lines.append("  stall: the event loop's longest (in brackets: the loop thread's own CPU in it, the rest is waiting "
                 "for a core or the GIL)")
    ok = True
    scaled = [p for p in points if p.devices >= 6]
    if len(scaled) >= 2:
        per = [p.engine_per_device for p in scaled]
        spread = max(per) / min(per)
        flat = spread <= FLAT_WITHIN
        ok &= flat
        lines.append(f"target: engine CPU per device flat from {scaled[0].devices} to {scaled[-1].devices}: "
                     f"max/min {spread:.2f}x (<= {FLAT_WITHIN}x) {'meets' if flat else 'MISSES'}")
    big = points[-1]
    ratio = big.wall / (big.device_cpu / cores)
    fits = ratio <= WALL_OVER_FLOOR
    ok &= fits
    left = big.cores_left(cores)
    lines.append(f"target: wall for {big.devices} <= {WALL_OVER_FLOOR}x the devices' CPU over {cores} cores: "
                 f"{big.wall:.2f} s / {big.device_cpu / cores:.2f} s = {ratio:.2f}x {'meets' if fits else 'MISSES'}; "
                 f"over the {left:.2f} cores others left: {big.wall / (big.device_cpu / left):.2f}x; the engine's own "
                 f"CPU on them too: {big.wall / ((big.device_cpu + big.engine_cpu) / left):.2f}x")
    return lines, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="device counts, e.g. 1,6,12,24,48")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size (the median run is shown)")
    parser.add_argument("--concurrency", type=int, default=None, help="a fixed limit (default: adaptive)")
    parser.add_argument("--profile", type=Path, help="cProfile stats of the largest deployment's event loop")
    args = parser.parse_args()
    sizes = sorted({int(s) for s in args.sizes.split(",")})
    if os.geteuid() != 0:
        print("run as root: the rig is made of network namespaces", file=sys.stderr)
        return 2
    if not sizes or sizes[0] < 1 or sizes[-1] > SCALE_MAX:
        print(f"--sizes: device counts from 1 to {SCALE_MAX}", file=sys.stderr)
        return 2
    engine_bench._instrument()
    _capture_runs()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="sdv-bench-scale-") as tmp:
        work = Path(tmp)
        package = engine_bench.build(work, engine_bench.APPS / "light_counter.py", "light")
        started = time.perf_counter()
        rig = Rig.build(scale_specs(sizes[-1]))
        cpu = None
        try:
            print(f"rig of {sizes[-1]} lightweight devices up in {time.perf_counter() - started:.1f} s ({rig.tag})",
                  flush=True)
            cpu = engine_bench.CPU = engine_bench.DeviceCpu(list(rig.devices.values()))
            trust = HostKeyTrust(KnownHosts(work / "known_hosts"), accept_new=True)
            records = DeploymentRecords(work / "records")
            measure(rig, 1, package, trust, records, args.concurrency, None)  # warm-up: imports, key loading
            points = []
            for size in sizes:
                profile = cProfile.Profile() if args.profile and size == sizes[-1] else None
                runs = [measure(rig, size, package, trust, records, args.concurrency, profile)
                        for _ in range(args.repeat)]
                point = sorted(runs, key=lambda p: p.wall)[len(runs) // 2]
                points.append(point)
                print(f"[{size} devices] wall {point.wall:.2f} s, engine CPU {point.engine_cpu:.2f} s, devices "
                      f"{point.device_cpu:.2f} s, others {point.others:.2f} s, at once {point.peak}"
                      + (f", limits {point.limits}" if point.limits else ""), flush=True)
                if profile:
                    profile.dump_stats(args.profile)
        finally:
            rig.teardown()
            if cpu:
                cpu.close()
    lines, ok = table(points, cores)
    print(f"\n== scaling: light app, fresh devices, broker given, median of {args.repeat} run(s), "
          f"concurrency {args.concurrency or 'adaptive'}, load average now "
          f"{os.getloadavg()[0]:.2f} ==")
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
