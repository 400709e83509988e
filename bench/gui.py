"""Desktop wizard responsiveness: launch-to-window time and the longest event-loop stall.

    .venv/bin/python bench/gui.py [--launch-runs 5] [--no-rig]

Launch-to-window (target <= 1.5 s): a fresh interpreter, from process start until the main window
has been shown and painted once (offscreen platform). Stall (target <= 50 ms): a 5 ms heartbeat on
the qasync loop records how late it wakes up while the wizard packages the playground app, scans
the rig's LAN and deploys a light app to its six devices (the rig needs root; without it, only the
packaging figure is measured). Rig host keys are pre-trusted so no dialog waits on a person.
"""

from __future__ import annotations

import argparse
import asyncio
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
window = MainWindow(default_engines(), QtCore.QSettings(__import__("sys").argv[1], QtCore.QSettings.Format.IniFormat))
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

    With ``why``, a watchdog thread samples the loop thread's stack during each stall over 100 ms,
    so the report can say what was running.
    """

    PERIOD = 0.005

    def __init__(self, why: bool = False) -> None:
        self.worst = 0.0
        self.why = why
        self.stalls: list[tuple[float, str]] = []  # (seconds, stack sampled during it)
        self._task: asyncio.Task[None] | None = None
        self._last = time.monotonic()
        self._watching = False

    async def _beat(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(self.PERIOD)
            now = loop.time()
            self.worst = max(self.worst, now - last - self.PERIOD)
            last = now
            self._last = time.monotonic()

    def _watch(self, loop_thread: int) -> None:
        sampled, peak = None, 0.0
        while self._watching:
            time.sleep(0.02)
            late = time.monotonic() - self._last
            if late > 0.1:
                peak = max(peak, late)
                if sampled is None:
                    frame = sys._current_frames().get(loop_thread)
                    sampled = "".join(traceback.format_stack(frame)[-8:]) if frame else "?"
            elif late < 0.05 and sampled is not None:
                self.stalls.append((peak, sampled))
                sampled, peak = None, 0.0

    def start(self) -> None:
        self.worst = 0.0
        self._last = time.monotonic()
        self._task = asyncio.ensure_future(self._beat())
        if self.why:
            self._watching = True
            threading.Thread(target=self._watch, args=(threading.get_ident(),), daemon=True).start()

    async def stop(self) -> float:
        assert self._task is not None
        self._watching = False
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        for late, stack in sorted(self.stalls, reverse=True)[:3]:
            print(f"--- a {late * 1000:.0f} ms stall; early in it the loop thread was in:\n{stack}", file=sys.stderr)
        self.stalls.clear()
        return self.worst * 1000


async def until(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("timed out")
        await asyncio.sleep(0.05)


async def measure(use_rig: bool) -> dict[str, float]:
    from sdv_studio.gui.adapters import default_engines
    from sdv_studio.gui.qt import QtCore
    from sdv_studio.gui.window import MainWindow

    results: dict[str, float] = {}
    beat = Heartbeat(WHY)
    settings = QtCore.QSettings(os.path.join(os.environ["SDV_STUDIO_HOME"], "s.ini"),
                                QtCore.QSettings.Format.IniFormat)
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
    if use_rig:
        results.update(await measure_rig())
    return results


LIGHT_APP = '''\
import time


def main():
    while True:
        print("tick", flush=True)
        time.sleep(5)


if __name__ == "__main__":
    main()
'''


async def measure_rig() -> dict[str, float]:
    from sdv_studio.core.deploy.broker_bundle import broker_bundle
    from sdv_studio.core.ssh.known_hosts import default_path
    from sdv_studio.gui.adapters import default_engines
    from sdv_studio.gui.executor import DaemonExecutor
    from sdv_studio.gui.qt import QtCore
    from sdv_studio.gui.state import Step
    from sdv_studio.gui.window import MainWindow
    from tests.rig.devices import DeviceSpec
    from tests.rig.rig import Rig

    specs = [DeviceSpec("d1", "198.18.0.11", jetson=True), DeviceSpec("d2", "198.18.0.12", engine=True),
             DeviceSpec("d3", "198.18.0.13", engine=True), DeviceSpec("d4", "198.18.0.14"),
             DeviceSpec("d5", "198.18.0.15"), DeviceSpec("d6", "198.18.0.16")]
    await asyncio.to_thread(broker_bundle, "3.11", "x86_64")  # before the rig's LAN, which has no index
    rig = await asyncio.to_thread(Rig.build, specs)
    results: dict[str, float] = {}
    try:
        lines = []
        for dev in rig.devices.values():
            key_type, key = dev.host_key_fingerprint_file().read_text().split()[:2]
            lines.append(f"{dev.ip} {key_type} {key}")
        default_path().write_text("\n".join(lines) + "\n")
        beat = Heartbeat(WHY)
        loop = asyncio.get_running_loop()
        with rig.in_workstation():
            executor = DaemonExecutor()
            loop.set_default_executor(executor)
            settings = QtCore.QSettings(os.path.join(os.environ["SDV_STUDIO_HOME"], "rig.ini"),
                                        QtCore.QSettings.Format.IniFormat)
            win = MainWindow(default_engines(), settings)
            win.show()
            configure = win.page(Step.CONFIGURE)
            configure.editor.setPlainText(LIGHT_APP)
            configure.name.setText("bench-light")
            win.next_btn.click()
            await until(lambda: win.ctx.state.app_package is not None, 300)
            win.next_btn.click()
            devices = win.page(Step.DEVICES)
            devices.subnet.setText(rig.sweep_cidr)
            devices.user.setText(rig.user)
            devices.identity.setText(str(rig.key_path))
            beat.start()
            t0 = time.perf_counter()
            devices.scan_btn.click()
            await until(lambda: not devices.busy(), 300)
            results["scan_s"] = time.perf_counter() - t0
            results["scan_stall_ms"] = await beat.stop()
            ips = {d.ip for d in rig.devices.values()}
            devices._checked = {d.id for d in devices.devices.values() if d.ip in ips}
            results["devices_ready"] = len(devices.selected())
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
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--launch-runs", type=int, default=5)
    parser.add_argument("--no-rig", action="store_true", help="skip scanning and deploying on the rig")
    parser.add_argument("--why", action="store_true", help="print the loop thread's stack during long stalls")
    parser.add_argument("--launch-only", action="store_true", help="only measure launch-to-window")
    args = parser.parse_args()
    global WHY
    WHY = args.why

    launches = launch_to_window(args.launch_runs)
    print(f"launch-to-window: median {statistics.median(launches):.2f} s, max {max(launches):.2f} s "
          f"over {len(launches)} runs (target <= 1.5 s)")

    if args.launch_only:
        return 0
    use_rig = not args.no_rig and os.geteuid() == 0
    if not use_rig:
        print("scan/deploy stall: skipped (the rig needs root; or --no-rig given)")
    with tempfile.TemporaryDirectory() as home:
        os.environ["SDV_STUDIO_HOME"] = home
        from sdv_studio.gui.adapters import preload
        from sdv_studio.gui.app import create_app
        from sdv_studio.gui.executor import DaemonExecutor
        from sdv_studio.gui.qt import qasync

        app = create_app(sys.argv[:1])
        app.setQuitOnLastWindowClosed(False)  # one window after another on the same loop
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        executor = DaemonExecutor()
        loop.set_default_executor(executor)
        # As run_app does: the engines' libraries load in the background, not on the loop.
        threading.Thread(target=preload, daemon=True).start()
        with loop:
            results = loop.run_until_complete(measure(use_rig))
        executor.shutdown(wait=False)
    print(f"packaging the playground app: {results['package_s']:.1f} s, longest stall "
          f"{results['package_stall_ms']:.0f} ms (target <= 50 ms)")
    if "scan_s" in results:
        print(f"scanning the rig LAN (6 devices): {results['scan_s']:.1f} s, {results['devices_ready']:.0f} ready, "
              f"longest stall {results['scan_stall_ms']:.0f} ms (target <= 50 ms)")
        print(f"deploying a light app to 6 devices: {results['deploy_s']:.1f} s, {results['deployed_ok']:.0f} "
              f"succeeded, longest stall {results['deploy_stall_ms']:.0f} ms (target <= 50 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
