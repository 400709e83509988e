"""Monitoring on the rig, the parts without the GUI (issue 16): six devices, each running an app that
sets 10 signals at 10 Hz on SDV Studio's databroker there, watched from the workstation by
core.monitor (what the GUI's Monitor view, `sdv-studio monitor` and the API's signals WebSocket use).

It measures:

1. set on the device -> received by the core stream: each update's databroker timestamp against the
   time it reached the workstation (the rig's devices share this machine's clock), p50 / p95 / max,
   and updates received against updates set (target: p95 <= 200 ms, issue 16's budget for set ->
   drawn in the GUI, of which the stream is the first part);
2. the agent's sampling: CPU of each device's supervisor (it samples the device, each app and the
   apps' meters once a second) over a quiet minute, nobody watching (target <= 1 % of a core); then
   the same while the monitor polls it every second, and the agent session that answers the monitor;
3. the app's own CPU (10 sets of 10 signals a second through kuksa-client, the meter counting them),
   as the agent reports it: context for the rest;
4. the GUI's Monitor view (offscreen, on qasync as in the app) plotting all 60 traces (then none,
   to tell the plots' CPU from the stream's and the cards'): set on the
   device -> drawn (each update's databroker timestamp against the end of the redraw that put it in
   the plots; Qt paints it as soon as the loop turns), target p95 <= 200 ms; the longest stall of the
   GUI's event loop (a 10 ms sleep that wakes late), target <= 50 ms; and the GUI process's CPU
   (its SSH threads included), target <= 30 % of one core.

Devices share this machine's cores with each other and with anything else running, so CPU figures
are CPU seconds spent (from /proc), not shares of a quiet machine.

Run as root (PyPI is reached only before the rig exists, to build the package):
    .venv/bin/python bench/monitor.py [--seconds 30] [--quiet 60] [--gui-seconds 30]
Exit status 0 when every target is met, 1 when one is missed (the table says which).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sdv_studio.core.deploy import DeployOptions, DeviceRef, start_deployment  # noqa: E402
from sdv_studio.core.deploy.package_file import PackageFile  # noqa: E402
from sdv_studio.core.deploy.records import DeploymentRecords  # noqa: E402
from sdv_studio.core.device_wheels.broker_bundle import broker_bundle  # noqa: E402
from sdv_studio.core.monitor import (  # noqa: E402
    MetricsSample,
    MonitorEvent,
    SignalUpdate,
    Subscribed,
    Watch,
    monitor,
)
from sdv_studio.core.packaging.builder import BuildOptions, build_package  # noqa: E402
from sdv_studio.core.ssh.known_hosts import KnownHosts  # noqa: E402
from sdv_studio.core.ssh.target import SshTarget  # noqa: E402
from sdv_studio.core.ssh.trust import HostKeyTrust  # noqa: E402
from tests.rig.devices import LOGIN_UID, LOGIN_USER, DeviceSpec  # noqa: E402
from tests.rig.rig import Device, Rig  # noqa: E402

SPECS = [DeviceSpec(f"d{i}", f"198.18.0.{10 + i}") for i in range(1, 7)]
APP = "pulse"
SIGNALS = ["Vehicle.Speed", "Vehicle.Acceleration.Longitudinal", "Vehicle.Acceleration.Lateral",
           "Vehicle.Acceleration.Vertical", "Vehicle.AngularVelocity.Roll", "Vehicle.AngularVelocity.Pitch",
           "Vehicle.AngularVelocity.Yaw", "Vehicle.Exterior.AirTemperature", "Vehicle.CurrentLocation.Altitude",
           "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current"]
RATE = 10  # sets of every signal per second
PULSE = f"""\
import os, time
from kuksa_client.grpc import Datapoint, VSSClient

SIGNALS = {SIGNALS!r}
host, _, port = os.getenv("KUKSA_ENDPOINT", "127.0.0.1:55555").rpartition(":")
with VSSClient(host, int(port)) as client:
    n, due = 0, time.monotonic()
    while True:
        n += 1
        client.set_current_values({{path: Datapoint(float(n % 100)) for path in SIGNALS}})
        due += {1 / RATE}
        time.sleep(max(0.0, due - time.monotonic()))
"""
LATENCY_TARGET_MS = 200.0
SAMPLING_TARGET = 1.0  # % of one core
STALL_TARGET_MS = 50.0
GUI_CPU_TARGET = 30.0  # % of one core
STALL_PROBE = 0.01  # seconds the event-loop probe sleeps
UNPLOTTED_SECONDS = 15.0
IDLE_SECONDS = 10.0  # the probe alone first: how late this loaded machine wakes a process anyway
TICKS = os.sysconf("SC_CLK_TCK")


# -- CPU of processes on a device (the rig's devices share this machine's pid namespace) -------------
def _cpu_seconds(pid: int) -> float | None:
    """None once the process has ended."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def _processes(device: Device, wanted: Callable[[str], bool]) -> list[int]:
    """The login user's processes in ``device``'s network namespace whose command line matches."""
    netns = os.readlink(f"/proc/{device.pid}/ns/net")
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != LOGIN_UID or os.readlink(entry / "ns" / "net") != netns:
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if wanted(command):
            found.append(int(entry.name))
    return found


def _supervisor(device: Device) -> int:
    [pid] = _processes(device, lambda c: "entrypoint.py supervise" in c)
    return pid


def _scheduled() -> tuple[float, float]:
    """This thread's ms on a CPU and ms runnable but waiting for one, from the kernel's scheduler
    statistics: a stall spent waiting is the machine's, one spent running is the GUI's own work."""
    ran, waited, _slices = Path("/proc/thread-self/schedstat").read_text().split()
    return int(ran) / 1e6, int(waited) / 1e6


def _python_speed() -> tuple[float, float]:
    """ms a fixed pure-Python loop takes, fastest and slowest of three: how fast this machine runs
    the GUI's kind of work just now (the same code took from 32 to 123 ms within one session here)."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        sum(i * i for i in range(1_000_000))
        times.append(1000 * (time.perf_counter() - started))
    return min(times), max(times)


def _machine_ticks() -> tuple[int, int, int]:
    """This machine's CPU time so far, in clock ticks over all cores: (all, busy, stolen by the
    hypervisor) from /proc/stat."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return sum(fields), user + nice + system + irq + softirq, steal


def _cpu_percent(pids: dict[str, list[int]], seconds: float) -> dict[str, float]:
    """% of one core each device's ``pids`` used together over ``seconds`` (waited here). A process
    that ends meanwhile (an agent session the monitor opened for one call) is left out: what it
    spent cannot be read any more."""
    before = {pid: _cpu_seconds(pid) for group in pids.values() for pid in group}
    time.sleep(seconds)
    after = {pid: _cpu_seconds(pid) for pid in before}
    return {name: 100 * sum(a - b for p in group if (b := before[p]) is not None and (a := after[p]) is not None)
            / seconds for name, group in pids.items()}


# -- the bench ------------------------------------------------------------------------------------------
def _deploy(rig: Rig, package: PackageFile, trust: HostKeyTrust, work: Path) -> None:
    refs = [DeviceRef(d.name, SshTarget(d.ip, user=rig.user, key_file=rig.key_path, use_keyring=False))
            for d in rig.working()]

    async def go() -> None:
        run = start_deployment(package, refs, trust, DeployOptions(grace_seconds=2.0),
                               records=DeploymentRecords(work / "records"))
        result = await run.wait()
        failed = [(d.device_id, d.message) for d in result.devices if d.status != "success"]
        if failed:
            raise SystemExit(f"deployment failed: {failed}")

    with rig.in_workstation():
        asyncio.run(go())


class Stream:
    """What the monitor received during a run."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)  # ms per device
        self.subscribed: dict[str, Subscribed] = {}
        self.app_cpu: dict[str, list[float]] = defaultdict(list)
        self.session_cpu: dict[str, float] = {}


def _watch(rig: Rig, trust: HostKeyTrust, seconds: float) -> tuple[Stream, dict[str, float]]:
    """Monitor every device for ``seconds`` (after a few to settle); meanwhile the supervisors' CPU."""
    stream = Stream()
    devices = rig.working()
    refs = [DeviceRef(d.name, SshTarget(d.ip, user=rig.user, key_file=rig.key_path, use_keyring=False))
            for d in devices]
    settle = 5.0
    supervisors: dict[str, float] = {}

    async def go() -> None:
        events = monitor(refs, trust, Watch(app=APP))
        started = time.monotonic()
        measuring = asyncio.ensure_future(asyncio.sleep(0))
        try:
            async with asyncio.timeout(seconds + settle + 60):
                async for event in events:
                    now = time.monotonic()
                    if isinstance(event, Subscribed):
                        stream.subscribed[event.device_id] = event
                    if now - started < settle:
                        continue
                    if measuring.done() and not supervisors and not stream.session_cpu:
                        measuring = asyncio.ensure_future(asyncio.to_thread(_measure_watched, devices, seconds,
                                                                            supervisors, stream))
                    if isinstance(event, SignalUpdate) and event.timestamp is not None:
                        stream.latencies[event.device_id].append(1000 * (event.received - event.timestamp))
                    elif isinstance(event, MetricsSample) and (app := event.metrics.app(APP)) and app.cpu_usage:
                        stream.app_cpu[event.device_id].append(app.cpu_usage)
                    if now - started >= settle + seconds:
                        break
        finally:
            await events.aclose()
            await measuring

    with rig.in_workstation():
        asyncio.run(go())
    return stream, supervisors


class GuiFigures:
    """What the Monitor view did during a run."""

    def __init__(self) -> None:
        self.latencies: list[float] = []  # ms, set on the device -> drawn
        self.stalls: list[float] = []  # ms the probe woke late
        self.idle_stalls: list[float] = []  # the same, before the view opened: the machine's own
        # Each stall over the target: its ms, and the GUI thread's ms on a CPU and waiting for one meanwhile.
        self.stall_causes: list[tuple[float, float, float]] = []
        self.redraws = 0
        self.updates = 0
        self.cpu = 0.0  # % of one core, the whole process
        self.main_thread_cpu = 0.0
        self.machine_busy = 0.0  # % of all the machine's cores busy meanwhile (devices, GUI, anything)
        self.machine_stolen = 0.0  # % of their time the hypervisor gave to other guests
        self.speed = (0.0, 0.0)  # _python_speed() right after the measurement, the stream still on
        self.traces = 0
        # The same stream with no signal ticked (cards only): what the plots cost, told apart.
        self.unplotted_cpu = 0.0
        self.unplotted_main_thread_cpu = 0.0


class BenchMonitor:
    """The GUI's monitor engine with the bench's own targets and trust (the app's resolves them from
    its devices and known hosts; the stream is the same, core.monitor run off the GUI's loop)."""

    def __init__(self, refs: Sequence[DeviceRef], trust: HostKeyTrust) -> None:
        self.refs, self.trust = refs, trust

    async def watch(self, devices: Sequence[object], app: str | None,
                    signals: tuple[str, ...]) -> AsyncIterator[MonitorEvent]:
        from sdv_studio.gui.adapters.monitor import relayed

        async with contextlib.aclosing(relayed(self.refs, self.trust, Watch(app=app, signals=signals))) as events:
            async for event in events:
                yield event


def _watch_in_gui(rig: Rig, trust: HostKeyTrust, seconds: float) -> GuiFigures:
    """The Monitor view on every device for ``seconds``, every signal ticked, once all stream."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from sdv_studio.gui.adapters.discovery import Device as GuiDevice
    from sdv_studio.gui.app import create_app, event_loop, load_engines
    from sdv_studio.gui.monitor.window import MonitorWindow
    from sdv_studio.gui.qt import Qt
    from sdv_studio.gui.running_tasks import RunningTasks

    devices = rig.working()
    refs = [DeviceRef(d.name, SshTarget(d.ip, user=rig.user, key_file=rig.key_path, use_keyring=False))
            for d in devices]
    figures = GuiFigures()
    app = create_app([sys.argv[0]])
    app.setQuitOnLastWindowClosed(False)
    load_engines()  # as the app does behind its first window, long before a Monitor opens

    async def until(check: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise SystemExit(f"the Monitor view: not within {timeout:g} s: {what}")
            await asyncio.sleep(0.1)

    async def probe(stop: asyncio.Event, stalls: list[float], causes: list[tuple[float, float, float]]) -> None:
        while not stop.is_set():
            started, (ran, waited) = time.monotonic(), _scheduled()
            await asyncio.sleep(STALL_PROBE)
            stall = 1000 * (time.monotonic() - started - STALL_PROBE)
            stalls.append(stall)
            if stall > STALL_TARGET_MS:
                after = _scheduled()
                causes.append((stall, after[0] - ran, after[1] - waited))

    async def go() -> None:
        idle = asyncio.Event()
        asyncio.get_running_loop().call_later(IDLE_SECONDS, idle.set)
        await probe(idle, figures.idle_stalls, [])
        window = MonitorWindow([GuiDevice(id=d.name, name=d.name, ip=d.ip) for d in devices], APP,
                               BenchMonitor(refs, trust))
        # Tall enough for every plot to be in sight: the view draws only those (scrolled-out ones are
        # drawn when they come into view), and the bench measures the whole of the 60 traces.
        window.resize(1400, 2200)
        tasks = RunningTasks()
        window.start(tasks.start)
        window.show()
        try:
            await until(lambda: all(s.heard for s in window.model.devices.values())
                        and window.signal_list.count() >= len(SIGNALS), 90, "every device streaming")
            for i in range(window.signal_list.count()):
                window.signal_list.item(i).setCheckState(Qt.CheckState.Checked)
            await asyncio.sleep(5)  # the first values and the plots' first layout out of the way
            pending: list[float] = []
            take = window.model.take

            def taking(event: MonitorEvent) -> None:
                take(event)
                if isinstance(event, SignalUpdate) and event.timestamp is not None:
                    pending.append(event.timestamp)

            def drawn() -> None:
                now = time.time()
                figures.latencies.extend(1000 * (now - t) for t in pending)
                figures.updates += len(pending)
                figures.redraws += 1
                pending.clear()

            window.model.take = taking  # type: ignore[method-assign]
            window.redrawn.connect(drawn)
            stop = asyncio.Event()
            probing = asyncio.ensure_future(probe(stop, figures.stalls, figures.stall_causes))
            cpu, thread, wall, machine = time.process_time(), time.thread_time(), time.monotonic(), _machine_ticks()
            await asyncio.sleep(seconds)
            elapsed = time.monotonic() - wall
            figures.cpu = 100 * (time.process_time() - cpu) / elapsed
            figures.main_thread_cpu = 100 * (time.thread_time() - thread) / elapsed
            ticks, busy, stolen = (after - before for after, before in zip(_machine_ticks(), machine, strict=True))
            figures.machine_busy, figures.machine_stolen = 100 * busy / max(ticks, 1), 100 * stolen / max(ticks, 1)
            stop.set()
            await probing
            figures.speed = _python_speed()
            seen = window.plots.viewport().visibleRegion().boundingRect()
            figures.traces = len(window.model.devices) * sum(
                plot.item.sceneBoundingRect().toAlignedRect().intersects(seen) for plot in window.plots.plots.values())
            window.redrawn.disconnect(drawn)
            for i in range(window.signal_list.count()):
                window.signal_list.item(i).setCheckState(Qt.CheckState.Unchecked)
            await asyncio.sleep(3)
            cpu, thread, wall = time.process_time(), time.thread_time(), time.monotonic()
            await asyncio.sleep(UNPLOTTED_SECONDS)
            elapsed = time.monotonic() - wall
            figures.unplotted_cpu = 100 * (time.process_time() - cpu) / elapsed
            figures.unplotted_main_thread_cpu = 100 * (time.thread_time() - thread) / elapsed
        finally:
            window.close()
            await tasks.cancel_all()

    with rig.in_workstation(), event_loop(app) as loop:
        loop.run_until_complete(go())
    return figures


def _measure_watched(devices: Sequence[Device], seconds: float, supervisors: dict[str, float],
                     stream: Stream) -> None:
    pids = {d.name: [_supervisor(d)] for d in devices}
    sessions = {d.name: _processes(d, lambda c: "entrypoint.py session" in c) for d in devices}
    both = _cpu_percent({**{f"s:{k}": v for k, v in pids.items()}, **{f"a:{k}": v for k, v in sessions.items()}},
                        seconds)
    supervisors.update({k[2:]: v for k, v in both.items() if k.startswith("s:")})
    stream.session_cpu.update({k[2:]: v for k, v in both.items() if k.startswith("a:")})


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Results:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []  # what, measured, target, verdict

    def row(self, what: str, measured: str, target: str, ok: bool | None) -> None:
        self.rows.append((what, measured, target, "n/a" if ok is None else ("meets" if ok else "MISSES")))

    def print(self) -> None:
        width, aim = (max(len(r[i]) for r in self.rows) + 2 for i in (0, 2))
        print(f"\n{'measure':<{width}}{'measured':>20}  {'target':<{aim}}verdict")
        for what, measured, target, verdict in self.rows:
            print(f"{what:<{width}}{measured:>20}  {target:<{aim}}{verdict}")


def bench(rig: Rig, package: PackageFile, work: Path, args: argparse.Namespace,
          speed: tuple[float, float]) -> Results:
    trust = HostKeyTrust(KnownHosts(work / "known_hosts"), accept_new=True)
    devices = rig.working()
    t0 = time.perf_counter()
    _deploy(rig, package, trust, work)
    print(f"{APP} deployed to {len(devices)} devices in {time.perf_counter() - t0:.1f} s", flush=True)
    res = Results()

    time.sleep(5)
    print(f"\n== the agent's sampling, nobody watching: supervisors' CPU over {args.quiet:g} s ==", flush=True)
    quiet = _cpu_percent({d.name: [_supervisor(d)] for d in devices}, args.quiet)
    for name, percent in sorted(quiet.items()):
        print(f"  {name}: supervisor {percent:.2f} % of a core")
    worst = max(quiet.values())
    res.row("agent sampling at 1 s, nobody watching (max of 6)", f"{worst:.2f} % of a core",
            f"<= {SAMPLING_TARGET:g} % of a core", worst <= SAMPLING_TARGET)

    print(f"\n== {len(devices)} devices x {len(SIGNALS)} signals at {RATE} Hz, watched for {args.seconds:g} s ==",
          flush=True)
    stream, watched = _watch(rig, trust, args.seconds)
    all_ms: list[float] = []
    nan = float("nan")
    expected = len(SIGNALS) * RATE * args.seconds
    for device in devices:
        name = device.name
        ms = stream.latencies.get(name, [])
        all_ms += ms
        sub = stream.subscribed.get(name)
        app_cpu = statistics.mean(stream.app_cpu[name]) if stream.app_cpu.get(name) else nan
        print(f"  {name}: {len(ms)} updates ({len(ms) / expected:.0%} of those set), "
              + (f"p50 {_percentile(ms, 0.5):.1f} ms, p95 {_percentile(ms, 0.95):.1f} ms, max {max(ms):.1f} ms; "
                 if ms else "")
              + f"signals {len(sub.signals) if sub else 0}; app CPU {app_cpu:.1f} %; supervisor "
              f"{watched.get(name, nan):.2f} %, agent session {stream.session_cpu.get(name, nan):.2f} %", flush=True)
    if not all_ms:
        res.row("set on the device -> core stream, p95", "no updates", f"<= {LATENCY_TARGET_MS:g} ms", False)
        return res
    p95 = _percentile(all_ms, 0.95)
    res.row("set on the device -> core stream, p50", f"{_percentile(all_ms, 0.5):.1f} ms", "", None)
    res.row("set on the device -> core stream, p95", f"{p95:.1f} ms",
            f"<= {LATENCY_TARGET_MS:g} ms (set -> drawn in the GUI)", p95 <= LATENCY_TARGET_MS)
    res.row("set on the device -> core stream, max", f"{max(all_ms):.1f} ms", "", None)
    share = len(all_ms) / (expected * len(devices))
    res.row("updates received / updates set", f"{share:.1%}", "every one (the stream drops none)", share >= 0.99)
    res.row("agent sampling at 1 s, watched (max of 6)", f"{max(watched.values()):.2f} % of a core",
            "(the monitor's polls answered too)", None)
    res.row("agent session answering the monitor (max)", f"{max(stream.session_cpu.values()):.2f} % of a core", "",
            None)

    print(f"\n== the GUI's Monitor view: {len(devices)} devices x {len(SIGNALS)} signals at {RATE} Hz, "
          f"{args.gui_seconds:g} s ==", flush=True)
    gui = _watch_in_gui(rig, trust, args.gui_seconds)
    print(f"  {gui.traces} traces plotted and in sight, {gui.redraws / args.gui_seconds:.1f} redraws/s, "
          f"{gui.updates / args.gui_seconds:.0f} updates/s drawn; main thread {gui.main_thread_cpu:.1f} % of a core",
          flush=True)
    if not gui.latencies:
        res.row("set on the device -> drawn in the GUI, p95", "nothing drawn", f"<= {LATENCY_TARGET_MS:g} ms", False)
        return res
    p95 = _percentile(gui.latencies, 0.95)
    res.row("set on the device -> drawn in the GUI, p50", f"{_percentile(gui.latencies, 0.5):.1f} ms", "", None)
    res.row("set on the device -> drawn in the GUI, p95", f"{p95:.1f} ms", f"<= {LATENCY_TARGET_MS:g} ms",
            p95 <= LATENCY_TARGET_MS)
    res.row("set on the device -> drawn in the GUI, max", f"{max(gui.latencies):.1f} ms", "", None)
    stall = max(gui.stalls, default=0.0)
    res.row("longest GUI event-loop stall", f"{stall:.1f} ms", f"<= {STALL_TARGET_MS:g} ms", stall <= STALL_TARGET_MS)
    res.row("GUI event-loop stalls over 50 ms", f"{sum(s > STALL_TARGET_MS for s in gui.stalls)} of {len(gui.stalls)}",
            "", None)
    for stall, ran, waited in sorted(gui.stall_causes, reverse=True)[:3]:
        res.row("  a stall over 50 ms: the GUI thread", f"{stall:.0f} ms: ran {ran:.0f}, waited for a CPU {waited:.0f}",
                "(the rest: waiting for a lock or the GIL)", None)
    res.row("GUI event-loop stall, p99", f"{_percentile(gui.stalls, 0.99):.1f} ms", "", None)
    res.row(f"longest stall, no view open ({IDLE_SECONDS:g} s)", f"{max(gui.idle_stalls, default=0.0):.1f} ms",
            "(this machine's own)", None)
    res.row(f"this machine's {os.cpu_count()} cores busy meanwhile", f"{gui.machine_busy:.0f} %",
            f"(devices and GUI; stolen by the hypervisor {gui.machine_stolen:.1f} %)", None)
    res.row("a fixed Python loop, right after", f"{gui.speed[0]:.0f}-{gui.speed[1]:.0f} ms",
            f"({speed[0]:.0f}-{speed[1]:.0f} ms before the rig was built: this machine's speed)", None)
    res.row("GUI process CPU (SSH threads included)", f"{gui.cpu:.1f} % of a core",
            f"<= {GUI_CPU_TARGET:g} % of a core", gui.cpu <= GUI_CPU_TARGET)
    res.row("  of which the main thread", f"{gui.main_thread_cpu:.1f} % of a core", "", None)
    res.row("GUI process CPU, cards only (nothing plotted)", f"{gui.unplotted_cpu:.1f} % of a core",
            "(the stream, SSH and the cards)", None)
    res.row("  of which the main thread", f"{gui.unplotted_main_thread_cpu:.1f} % of a core", "", None)
    return res


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the six devices are watched")
    parser.add_argument("--quiet", type=float, default=60.0, help="how long the supervisors' CPU is measured")
    parser.add_argument("--gui-seconds", type=float, default=30.0, help="how long the Monitor view is measured")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("run as root: the rig is made of network namespaces", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="sdv-bench-monitor-") as tmp:
        work = Path(tmp)
        source = work / "pulse.py"
        source.write_text(PULSE)
        # Everything that needs PyPI happens before the rig exists (its LAN has no route out).
        result = build_package(source, BuildOptions(name=APP, python_versions=["3.11"], platforms=["x86_64"],
                                                    output_dir=work))
        package = PackageFile(result.path)
        assert result.manifest["signals"] == sorted(SIGNALS), result.manifest["signals"]
        broker_bundle("3.11", "x86_64")
        speed = _python_speed()
        t0 = time.perf_counter()
        rig = Rig.build(SPECS)
        try:
            print(f"rig of {len(SPECS)} devices up in {time.perf_counter() - t0:.1f} s ({rig.tag}); "
                  f"login {LOGIN_USER}", flush=True)
            res = bench(rig, package, work, args, speed)
        finally:
            rig.teardown()
    res.print()
    return 0 if all(r[3] != "MISSES" for r in res.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
