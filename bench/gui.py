"""Desktop wizard responsiveness: launch-to-window time and the longest event-loop stall.

    .venv/bin/python bench/gui.py [--launch-runs 5] [--no-rig] [--fleet 48]

Launch-to-window (target <= 1.5 s): a fresh interpreter, from process start until the main window
has been shown and painted once (offscreen platform). Stall (target <= 50 ms): a 5 ms heartbeat on
the qasync loop records how late it wakes up while the wizard packages the playground app, finds
the rig's six fresh devices and deploys a light app to them (the rig needs root; without it, only
the packaging figure is measured). Finding them is timed as a new user meets it: from entering
Devices (which scans this computer's subnet with the remembered user and key) to six trusted,
probed rows, their unknown host keys accepted on one trust sheet; the time the sheet waits for a
person's click is left out. While the rig runs, the window is pinned to CPU 0 and the devices to
the others: on real hardware devices are other computers, not six databrokers starting on the
window's own cores.

Fleet (target <= 50 ms, no root needed): the Devices and Deploy pages with ``--fleet`` devices (48 by
default): the demo's scripted engines (tests/gui/fakes.py: real packaging and orchestrator, device
jobs that walk the six stages, each device at its own pace) list them in one scan and deploy to them
all, and the longest stall is taken while the rows fill in and while every device reports progress.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

WHY = False

_CHILD = """
import time
from sdv_studio.gui.app import create_app
from sdv_studio.gui.qt import QtCore, qasync
import asyncio
app = create_app()
loop = qasync.QEventLoop(app)
asyncio.set_event_loop(loop)
from sdv_studio.gui.adapters import default_engines
from sdv_studio.gui.window import MainWindow
from pathlib import Path
from sdv_studio.gui.settings import Settings
window = MainWindow(default_engines(), Settings(Path(__import__("sys").argv[1])))
window.show()
window.grab()  # one full paint of the window
print("shown", flush=True)
"""


def launch_to_window(runs: int) -> list[float]:
    """Seconds from starting the interpreter to the window's first paint (read as it prints)."""
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SDV_STUDIO_HOME": tmp}
        for i in range(runs):
            start = time.perf_counter()
            with subprocess.Popen([sys.executable, "-c", _CHILD, f"{tmp}/s{i}.ini"], env=env, cwd=ROOT,
                                  stdout=subprocess.PIPE, text=True) as child:
                assert child.stdout is not None
                line = child.stdout.readline()
                times.append(time.perf_counter() - start)
                assert line.strip() == "shown", line
                child.wait()
    return times


class Heartbeat:
    """How late a 5 ms timer fires on the loop: the longest lateness is the longest stall.

    With ``why``, two diagnostics run alongside: every asyncio callback on the loop is timed (the
    slowest are listed with what they ran), and a watchdog thread samples the loop thread's stack
    every 5 ms during each stall over 25 ms, so the report says what the loop was doing, including
    work outside asyncio callbacks (Qt painting, layouts, slots called by Qt timers).
    """

    PERIOD = 0.005
    STALL = 0.025

    def __init__(self, why: bool = False) -> None:
        self.worst = 0.0
        # The longest stall counting only the loop thread's own CPU time in it: what the window's code
        # cost, apart from the time other processes on a loaded machine held the cores.
        self.worst_busy = 0.0
        self.why = why
        self.stalls: list[tuple[float, list[str]]] = []  # (seconds, innermost frames sampled during it)
        self.callbacks: list[tuple[float, str]] = []  # (seconds, what ran) for callbacks over 10 ms
        self._task: asyncio.Task[None] | None = None
        self._started = self._started_cpu = 0.0
        self._last = time.monotonic()
        self._watching = False
        self._unpatch: Callable[[], None] | None = None

    async def _beat(self) -> None:
        loop = asyncio.get_running_loop()
        last = self._started  # from start(): a click right after it, before this task first runs, counts
        last_cpu = self._started_cpu
        while True:
            await asyncio.sleep(self.PERIOD)
            now, cpu = loop.time(), time.thread_time()
            late = now - last - self.PERIOD
            self.worst = max(self.worst, late)
            self.worst_busy = max(self.worst_busy, min(late, cpu - last_cpu))
            last, last_cpu = now, cpu
            self._last = time.monotonic()

    def _watch(self, loop_thread: int) -> None:
        samples: list[str] = []
        peak = 0.0
        while self._watching:
            time.sleep(0.005)
            late = time.monotonic() - self._last - self.PERIOD
            if late > self.STALL:
                peak = max(peak, late)
                frame = sys._current_frames().get(loop_thread)
                samples.append("".join(traceback.format_stack(frame)[-6:]) if frame else "(in Qt, no Python frame)")
            elif samples and late < self.PERIOD:
                self.stalls.append((peak, samples))
                samples, peak = [], 0.0

    def _time_callbacks(self) -> Callable[[], None]:
        original = asyncio.events.Handle._run
        record = self.callbacks

        def timed(handle: asyncio.events.Handle) -> None:
            t0 = time.perf_counter()
            original(handle)
            took = time.perf_counter() - t0
            if took > 0.01:
                record.append((took, _what(handle)))

        asyncio.events.Handle._run = timed  # type: ignore[method-assign]
        return lambda: setattr(asyncio.events.Handle, "_run", original)

    def start(self) -> None:
        self.worst = 0.0
        self.worst_busy = 0.0
        self._started = asyncio.get_running_loop().time()
        self._started_cpu = time.thread_time()
        self._last = time.monotonic()
        self._task = asyncio.ensure_future(self._beat())
        if self.why:
            self._watching = True
            self._unpatch = self._time_callbacks()
            threading.Thread(target=self._watch, args=(threading.get_ident(),), daemon=True).start()

    async def stop(self) -> float:
        assert self._task is not None
        self._watching = False
        if self._unpatch is not None:
            self._unpatch()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        if self.why:
            self._report()
        return self.worst * 1000

    def _report(self) -> None:
        out = sys.stderr
        print(f"=== {len(self.callbacks)} asyncio callbacks over 10 ms; the slowest:", file=out)
        for took, what in sorted(self.callbacks, reverse=True)[:8]:
            print(f"  {took * 1000:6.1f} ms  {what}", file=out)
        print(f"=== {len(self.stalls)} stalls over {self.STALL * 1000:.0f} ms; the longest, sampled every 5 ms:",
              file=out)
        for late, samples in sorted(self.stalls, key=lambda s: s[0], reverse=True)[:3]:
            print(f"--- {late * 1000:.0f} ms, {len(samples)} samples:", file=out)
            for sample in samples:
                print(sample, file=out)
        self.callbacks.clear()
        self.stalls.clear()


def _what(handle: asyncio.events.Handle) -> str:
    """A callback by the coroutine it resumed (a task's wakeup says nothing by itself)."""
    task = getattr(getattr(handle, "_callback", None), "__self__", None)
    if isinstance(task, asyncio.Task):
        coro = task.get_coro()
        frame = getattr(coro, "cr_frame", None)
        where = f" at {frame.f_code.co_filename.rsplit('/', 2)[-1]}:{frame.f_lineno}" if frame else ""
        return f"task {task.get_name()} {getattr(coro, '__qualname__', coro)}{where}"
    return repr(handle)[:300]


async def until(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("timed out")
        await asyncio.sleep(0.05)


def separate_cores(rig: Any) -> set[int]:  # a tests.rig Rig, imported where the rig is built
    """The window on CPU 0, every process of the rig's devices (and all they will start) on the
    others: real devices are other computers. Without it the figure measures six simulated devices
    starting databrokers on the window's own cores, not the window."""
    before = os.sched_getaffinity(0)
    cpus = sorted(before)
    if len(cpus) < 2:
        return before
    for dev in rig.devices.values():
        pids = subprocess.run(["ip", "netns", "pids", dev.netns], capture_output=True, text=True).stdout.split()
        for pid in pids:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(int(pid), cpus[1:])
    os.sched_setaffinity(0, cpus[:1])
    print(f"the window on CPU {cpus[0]}, the rig's devices on CPU {','.join(map(str, cpus[1:]))}", file=sys.stderr)
    return before


async def measure(use_rig: bool, fleet: int, fleet_only: bool) -> dict[str, float]:
    from sdv_studio.gui.adapters import default_engines
    from sdv_studio.gui.settings import Settings
    from sdv_studio.gui.window import MainWindow

    results: dict[str, float] = {}
    if fleet_only:
        return await measure_fleet(fleet)
    beat = Heartbeat(WHY)
    settings = Settings(Path(os.environ["SDV_STUDIO_HOME"]) / "s.ini")
    win = MainWindow(default_engines(), settings)
    win.show()
    await asyncio.sleep(0.3)
    beat.start()
    t0 = time.perf_counter()
    win.next_btn.click()  # Configure → Package: builds the playground's default app
    await until(lambda: win.ctx.state.app_package is not None, 600)
    results["package_s"] = time.perf_counter() - t0
    results["package_stall_ms"] = await beat.stop()
    win.close()
    await until(lambda: not win.tasks.busy, 10)
    if fleet:
        results.update(await measure_fleet(fleet))
    if use_rig:
        results.update(await measure_rig())
    return results


async def measure_rig() -> dict[str, float]:
    from sdv_studio.core import scan_defaults
    from sdv_studio.core.device_wheels.broker_bundle import broker_bundle
    from sdv_studio.core.device_wheels.zeroconf_wheels import zeroconf_wheels
    from sdv_studio.gui.adapters import default_engines
    from sdv_studio.gui.executor import DaemonExecutor
    from sdv_studio.gui.settings import Settings
    from sdv_studio.gui.state import Step
    from sdv_studio.gui.window import MainWindow
    from tests.gui.fakes import PLAIN_APP
    from tests.rig.devices import DeviceSpec
    from tests.rig.rig import Rig

    specs = [DeviceSpec("d1", "198.18.0.11", jetson=True), DeviceSpec("d2", "198.18.0.12", engine=True),
             DeviceSpec("d3", "198.18.0.13", engine=True), DeviceSpec("d4", "198.18.0.14"),
             DeviceSpec("d5", "198.18.0.15"), DeviceSpec("d6", "198.18.0.16")]
    await asyncio.to_thread(broker_bundle, "3.11", "x86_64")  # before the rig's LAN, which has no index
    await asyncio.to_thread(zeroconf_wheels, "3.11", "x86_64")
    rig = await asyncio.to_thread(Rig.build, specs)
    all_cpus = separate_cores(rig)
    results: dict[str, float] = {}
    try:
        # Remembered from an earlier session: the login user and key; the subnet is left to the Devices
        # step (this computer's own, the rig's LAN here). No host key is known yet.
        scan_defaults.save(scan_defaults.ScanDefaults(user=rig.user, identity=str(rig.key_path)))
        beat = Heartbeat(WHY)
        loop = asyncio.get_running_loop()
        with rig.in_workstation():
            executor = DaemonExecutor()
            loop.set_default_executor(executor)
            settings = Settings(Path(os.environ["SDV_STUDIO_HOME"]) / "rig.ini")
            win = MainWindow(default_engines(), settings)
            win.show()
            configure = win.page(Step.CONFIGURE)
            configure.editor.setPlainText(PLAIN_APP)
            configure.name.setText("bench-light")
            win.next_btn.click()
            await until(lambda: win.ctx.state.app_package is not None, 300)
            ips = {d.ip for d in rig.devices.values()}
            devices = win.page(Step.DEVICES)
            beat.start()
            results.update(await enter_devices_and_trust(win, devices, ips))
            results["find_stall_ms"] = await beat.stop()
            devices._checked = {d.id for d in devices.devices.values() if d.ip in ips}
            win.next_btn.click()
            kuksa = win.page(Step.KUKSA)
            await until(lambda: not kuksa.busy(), 120)
            beat.start()
            t0 = time.perf_counter()
            win.next_btn.click()
            deploy = win.page(Step.DEPLOY)
            await until(deploy.is_complete, 900)
            results["deploy_s"] = time.perf_counter() - t0
            results["deploy_stall_ms"] = await beat.stop()
            states = [r.status for r in win.ctx.state.deployment_results.values()]
            results["deployed_ok"] = states.count("success")
            win.close()
            await until(lambda: not win.tasks.busy, 10)
            loop.set_default_executor(None)
            executor.shutdown(wait=False)
    finally:
        await asyncio.to_thread(rig.teardown)
        os.sched_setaffinity(0, all_cpus)
    return results


async def measure_fleet(count: int) -> dict[str, float]:
    """The longest stalls while the Devices page lists ``count`` devices and the Deploy page shows them
    all deploying, on the scripted engines."""
    from sdv_studio.gui.demo import demo_engines
    from sdv_studio.gui.qt import Qt
    from sdv_studio.gui.settings import Settings
    from sdv_studio.gui.state import Step
    from sdv_studio.gui.window import MainWindow
    from tests.gui.fakes import PLAIN_APP, fleet

    home = Path(os.environ["SDV_STUDIO_HOME"])
    engines = demo_engines(home / "fleet", fleet(count))
    win = MainWindow(engines, Settings(home / "fleet.ini"))
    win.show()
    configure: Any = win.page(Step.CONFIGURE)
    configure.editor.setPlainText(PLAIN_APP)
    configure.name.setText("fleet-light")
    win.next_btn.click()
    await until(lambda: win.ctx.state.app_package is not None, 300)
    await until(win.next_btn.isEnabled, 60)
    win.next_btn.click()
    devices: Any = win.page(Step.DEVICES)
    await until(lambda: not devices.busy(), 30)  # the saved devices (none): the page is ready
    beat = Heartbeat(WHY)
    results: dict[str, float] = {}
    beat.start()
    devices.scan_btn.click()
    await until(lambda: not devices.busy() and len(devices.rows()) >= count, 120)
    results["fleet_scan_stall_ms"] = await beat.stop()
    results["fleet_scan_busy_ms"] = beat.worst_busy * 1000
    for row in range(devices.table.rowCount()):  # every row ticked, as a person's clicks would
        first = devices.table.item(row, 0)
        if first.flags() & Qt.ItemFlag.ItemIsUserCheckable:
            first.setCheckState(Qt.CheckState.Checked)
    results["fleet_selected"] = len(devices.selected())
    win.next_btn.click()
    kuksa = win.page(Step.KUKSA)
    await until(lambda: not kuksa.busy() and win.next_btn.isEnabled(), 120)
    beat.start()
    started = time.perf_counter()
    win.next_btn.click()
    deploy: Any = win.page(Step.DEPLOY)
    await until(deploy.is_complete, 300)
    results["fleet_deploy_s"] = time.perf_counter() - started
    results["fleet_deploy_stall_ms"] = await beat.stop()
    results["fleet_deploy_busy_ms"] = beat.worst_busy * 1000
    results["fleet_deployed_ok"] = [r.status for r in win.ctx.state.deployment_results.values()].count("success")
    win.close()
    await until(lambda: not win.tasks.busy, 10)
    return results


async def enter_devices_and_trust(win: Any, devices: Any, ips: set[str]) -> dict[str, float]:
    """Next into Devices, then six trusted, probed rows, in seconds, less the time the trust sheet
    waits for a person (here accepted as soon as it shows, every device ticked)."""
    from sdv_studio.gui.qt import QtWidgets
    from sdv_studio.gui.trust_sheet import TrustSheet

    def ready() -> int:
        return sum(1 for d in devices.rows() if d.ip in ips and d.compatible and d.status == "online")

    await until(win.next_btn.isEnabled, 60)
    t0 = time.perf_counter()
    win.next_btn.click()  # entering Devices: a scan of this computer's subnet starts
    await until(lambda: not devices.busy() and sum(1 for d in devices.rows() if d.ip in ips) == len(ips), 300)
    trusting = devices.trust_devices()

    def sheet() -> TrustSheet | None:
        shown = [w for w in QtWidgets.QApplication.topLevelWidgets() if isinstance(w, TrustSheet) and w.isVisible()]
        return shown[0] if shown else None

    await until(lambda: sheet() is not None, 30)
    before_click = time.perf_counter() - t0
    offered = sheet()
    assert offered is not None and {d.ip for d in offered.chosen()} >= ips, "the sheet misses some devices"
    clicked = time.perf_counter()
    offered.accept()
    await until(lambda: trusting.done() and ready() == len(ips), 300)
    rows = devices.rows()
    return {"find_s": before_click + time.perf_counter() - clicked, "devices_ready": ready(),
            "duplicate_rows": len(rows) - len({d.identity_key() for d in rows})}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--launch-runs", type=int, default=5)
    parser.add_argument("--no-rig", action="store_true", help="skip scanning and deploying on the rig")
    parser.add_argument("--why", action="store_true",
                        help="time every asyncio callback and sample the loop thread's stack during stalls")
    parser.add_argument("--launch-only", action="store_true", help="only measure launch-to-window")
    parser.add_argument("--fleet", type=int, default=48, metavar="N",
                        help="devices of the scripted fleet on the Devices and Deploy pages (0: none)")
    parser.add_argument("--fleet-only", action="store_true", help="only measure the scripted fleet")
    args = parser.parse_args()
    global WHY
    WHY = args.why

    if not args.fleet_only:
        launches = launch_to_window(args.launch_runs)
        print(f"launch-to-window: median {statistics.median(launches):.2f} s, max {max(launches):.2f} s "
              f"over {len(launches)} runs (target <= 1.5 s)")

    if args.launch_only:
        return 0
    use_rig = not args.no_rig and not args.fleet_only and os.geteuid() == 0
    if not use_rig:
        print("scan/deploy stall: skipped (the rig needs root; or --no-rig given)")
    with tempfile.TemporaryDirectory() as home:
        os.environ["SDV_STUDIO_HOME"] = home
        from sdv_studio.gui.app import create_app, load_engines
        from sdv_studio.gui.executor import DaemonExecutor
        from sdv_studio.gui.qt import qasync

        app = create_app(sys.argv[:1])
        app.setQuitOnLastWindowClosed(False)  # one window after another on the same loop
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        executor = DaemonExecutor()
        loop.set_default_executor(executor)
        # As run_app does: the engines' libraries load in the background, not on the loop.
        threading.Thread(target=load_engines, daemon=True).start()
        with loop:
            results = loop.run_until_complete(measure(use_rig, args.fleet, args.fleet_only))
        executor.shutdown(wait=False)
    if "package_s" in results:
        print(f"packaging the playground app: {results['package_s']:.1f} s, longest stall "
              f"{results['package_stall_ms']:.0f} ms (target <= 50 ms)")
    if "fleet_deploy_s" in results:
        print(f"{args.fleet} scripted devices: listing them on Devices, longest stall "
              f"{results['fleet_scan_stall_ms']:.0f} ms (the window's own CPU in it: "
              f"{results['fleet_scan_busy_ms']:.0f} ms); deploying to {results['fleet_selected']:.0f} (with this "
              f"computer): {results['fleet_deploy_s']:.1f} s, {results['fleet_deployed_ok']:.0f} succeeded, longest "
              f"stall {results['fleet_deploy_stall_ms']:.0f} ms (own CPU: {results['fleet_deploy_busy_ms']:.0f} ms) "
              "(target <= 50 ms)")
    if "find_s" in results:
        print(f"entering Devices to 6 trusted, probed rows (scan on entry, one trust sheet; the click not "
              f"counted): {results['find_s']:.1f} s, {results['devices_ready']:.0f} ready, "
              f"{results['duplicate_rows']:.0f} duplicate rows, longest stall {results['find_stall_ms']:.0f} ms "
              f"(target <= 50 ms)")
        print(f"deploying a light app to 6 devices: {results['deploy_s']:.1f} s, {results['deployed_ok']:.0f} "
              f"succeeded, longest stall {results['deploy_stall_ms']:.0f} ms (target <= 50 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
