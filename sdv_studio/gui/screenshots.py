"""Render every wizard page with realistic data to PNG: ``python -m sdv_studio.gui.screenshots DIR``.

The app is the playground's default, packaged for real (a warm wheel cache makes this quick; point
SDV_STUDIO_WHEEL_CACHE at one); devices, brokers and deployments come from the scripted bench in
sdv_studio.gui.demo. Runs offscreen unless QT_QPA_PLATFORM says otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from sdv_studio.gui.qt import QtCore, QtGui, QtWidgets

SIZE = QtCore.QSize(1280, 800)
DARK = ("1-configure", "5-deploy-failed")  # the dark palette on a form and on the busiest page


async def _until(predicate: Callable[[], bool], timeout: float = 300.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the page did not get there in time")
        await asyncio.sleep(0.05)


async def _grab(widget: QtWidgets.QWidget, path: Path) -> None:
    # Let layouts and repaints settle through the event loop; processEvents() here would re-enter asyncio.
    await asyncio.sleep(0.15)
    widget.grab().save(str(path))
    print(path)


async def _grab_over(window: QtWidgets.QWidget, sheet: QtWidgets.QWidget, path: Path) -> None:
    """The window with ``sheet`` drawn over its middle, dimmed behind, as a window-modal sheet looks."""
    await asyncio.sleep(0.15)
    picture = window.grab()
    painter = QtGui.QPainter(picture)
    painter.fillRect(picture.rect(), QtGui.QColor(0, 0, 0, 70))
    front = sheet.grab()
    painter.drawPixmap((picture.width() - front.width()) // 2, (picture.height() - front.height()) // 3, front)
    painter.end()
    picture.save(str(path))
    print(path)


async def _select_bench(win: QtWidgets.QWidget) -> None:
    """On the Devices page: scan the demo bench and tick four of its devices besides This computer."""
    from sdv_studio.gui.pages.devices import DevicesPage
    from sdv_studio.gui.window import MainWindow

    assert isinstance(win, MainWindow)
    devices = win.page_of(DevicesPage)
    devices.subnet.setText("192.168.7.0/24")
    devices.user.setText("sdv")
    devices.scan_btn.click()
    await _until(lambda: not devices.busy())
    for device_id in ("orin-bench-01", "orin-car-02", "nuc-gateway", "rpi5-hmi"):
        devices._checked.add(device_id)
        devices.upsert(devices.devices[device_id])
    devices.table.setFocus()  # as after ticking the rows, not with the subnet's text selected


async def _render_waves(out: Path, work: Path) -> None:
    """A rollout in waves 1,50%,100% where a device of the second wave fails: the third is skipped."""
    from sdv_studio.gui.demo import ScriptedDeployer, demo_engines
    from sdv_studio.gui.pages.deploy import DeployPage
    from sdv_studio.gui.pages.kuksa import KuksaPage
    from sdv_studio.gui.pages.package import PackagePage
    from sdv_studio.gui.pages.rollout import CUSTOM
    from sdv_studio.gui.settings import Settings
    from sdv_studio.gui.window import MainWindow

    engines = demo_engines(work / "waves")
    assert isinstance(engines.deployer, ScriptedDeployer)
    engines.deployer.step = 0.25
    engines.deployer.plan = {"orin-car-02": ["fail"]}
    win = MainWindow(engines, Settings(work / "settings-waves.ini"))
    win.resize(SIZE)
    win.show()
    win.next_btn.click()
    await _until(lambda: win.ctx.state.app_package is not None and not win.page_of(PackagePage).busy())
    win.next_btn.click()
    await _select_bench(win)
    win.next_btn.click()
    kuksa = win.page_of(KuksaPage)
    await _until(lambda: not kuksa.busy())
    kuksa.rollout.preset.setCurrentText(CUSTOM)
    kuksa.rollout.custom.setText("1,50%,100%")
    kuksa.rollout.pause.setText("2")
    kuksa.rollout.custom.setFocus()  # where the waves were typed
    await _grab(win, out / "4-kuksa-waves.png")
    win.next_btn.click()
    deploy = win.page_of(DeployPage)
    results = win.ctx.state.deployment_results
    await _until(lambda: any(r.status == "success" for r in results.values())
                 and any(r.status == "deploying" for r in results.values()))
    await _grab(win, out / "5-deploy-waves-running.png")
    await _until(deploy.is_complete)
    await _grab(win, out / "5-deploy-waves.png")
    win.close()
    await _until(lambda: not win.tasks.busy, 5)


async def _render_staged(out: Path, work: Path) -> None:
    """A scheduled update: staged on every device until the vehicle is idle; Complete shows each device's
    last look at Vehicle.Speed, one of them after Cancel staged."""
    from sdv_studio.gui.demo import ScriptedDeployer, demo_engines
    from sdv_studio.gui.pages.complete import CompletePage
    from sdv_studio.gui.pages.deploy import DeployPage
    from sdv_studio.gui.pages.kuksa import KuksaPage
    from sdv_studio.gui.pages.package import PackagePage
    from sdv_studio.gui.pages.schedule_form import IDLE
    from sdv_studio.gui.settings import Settings
    from sdv_studio.gui.window import MainWindow

    engines = demo_engines(work / "staged")
    assert isinstance(engines.deployer, ScriptedDeployer)
    engines.deployer.step = 0.1
    win = MainWindow(engines, Settings(work / "settings-staged.ini"))
    win.resize(SIZE)
    win.show()
    win.next_btn.click()
    await _until(lambda: win.ctx.state.app_package is not None and not win.page_of(PackagePage).busy())
    win.next_btn.click()
    await _select_bench(win)
    win.next_btn.click()
    kuksa = win.page_of(KuksaPage)
    await _until(lambda: not kuksa.busy())
    kuksa.schedule.start.setCurrentText(IDLE)  # its default condition, Vehicle.Speed == 0
    kuksa.schedule.idle.setFocus()
    await _grab(win, out / "4-kuksa-staged.png")
    win.next_btn.click()
    deploy = win.page_of(DeployPage)
    await _until(deploy.is_complete)
    await _grab(win, out / "5-deploy-staged.png")
    win.next_btn.click()
    complete = win.page_of(CompletePage)
    results = win.ctx.state.deployment_results
    await _until(lambda: all(r.on_device is not None for r in results.values()), 10)
    complete.table.selectRow(3)
    complete.staged.cancel_btn.click()
    cancelled = results["nuc-gateway"]
    await _until(lambda: cancelled.on_device is not None and cancelled.on_device.staged is None
                 and not complete.staged.isVisible(), 10)
    complete.table.selectRow(1)
    await _grab(win, out / "6-complete-staged.png")
    win.close()
    await _until(lambda: not win.tasks.busy, 5)


async def _render(out: Path, dark: bool, work: Path) -> None:
    from sdv_studio.gui import theme
    from sdv_studio.gui.demo import ScriptedDeployer, ScriptedMonitor, demo_engines, demo_handoff
    from sdv_studio.gui.handoff_dialog import HandoffDialog
    from sdv_studio.gui.pages.complete import CompletePage
    from sdv_studio.gui.pages.configure import ConfigurePage
    from sdv_studio.gui.pages.deploy import DeployPage
    from sdv_studio.gui.pages.devices import DevicesPage
    from sdv_studio.gui.pages.kuksa import KuksaPage
    from sdv_studio.gui.pages.package import PackagePage
    from sdv_studio.gui.settings import Settings
    from sdv_studio.gui.trust_sheet import TrustSheet
    from sdv_studio.gui.window import MainWindow

    app = QtWidgets.QApplication.instance()
    assert isinstance(app, QtWidgets.QApplication)
    theme.apply(app, dark=dark)
    suffix = "-dark" if dark else ""
    engines = demo_engines(work / ("dark" if dark else "light"))
    assert isinstance(engines.deployer, ScriptedDeployer)
    engines.deployer.step = 0.25
    engines.deployer.plan = {"rpi5-hmi": ["fail", "ok"]}
    win = MainWindow(engines, Settings(work / f"settings{suffix}.ini"))
    win.resize(SIZE)
    win.show()

    def nxt() -> None:
        win.next_btn.click()

    async def shot(name: str, widget: QtWidgets.QWidget = win) -> None:
        if not dark or name in DARK:
            await _grab(widget, out / f"{name}{suffix}.png")

    await asyncio.sleep(0.2)
    await shot("1-configure")
    if not dark:
        question = HandoffDialog(demo_handoff(), win)
        question.open()
        await _grab_over(win, question, out / "0-handoff.png")
        question.reject()
    configure = win.page_of(ConfigurePage)
    configure.name.setText("Low Beam")
    configure.memory.setText("64MB")
    code = configure.editor.toPlainText()
    configure.editor.setPlainText(code.replace("    async def on_start(self):", "    async def on_start(self)"))
    configure.check()
    await shot("1-configure-errors")
    configure.editor.setPlainText(code)
    configure.name.setText("low-beam-blinker")
    configure.memory.setText("512MB")
    configure.check()

    nxt()
    await _until(lambda: win.ctx.state.app_package is not None and not win.page_of(PackagePage).busy())
    await shot("2-package")

    nxt()
    devices = win.page_of(DevicesPage)
    await _select_bench(win)
    await shot("3-devices")
    if not dark:
        trusting = devices.trust_devices()
        await _until(lambda: any(isinstance(w, TrustSheet) and w.isVisible() for w in app.topLevelWidgets()), 10)
        sheet = next(w for w in app.topLevelWidgets() if isinstance(w, TrustSheet) and w.isVisible())
        sheet.set_checked(sheet.devices[-1].id, False)  # one whose fingerprint did not match the device's
        await _grab_over(win, sheet, out / "3-devices-trust.png")
        sheet.reject()
        await _until(trusting.done, 5)

    nxt()
    kuksa = win.page_of(KuksaPage)
    await _until(lambda: not kuksa.busy())
    await shot("4-kuksa")

    nxt()
    deploy = win.page_of(DeployPage)
    results = win.ctx.state.deployment_results
    await _until(lambda: sum(r.status == "success" for r in results.values()) >= 1
                 and any(r.status == "deploying" for r in results.values()))
    await shot("5-deploy-running")
    await _until(deploy.is_complete)
    await shot("5-deploy-failed")

    nxt()  # the failed device stays failed: Complete shows it back on the version it rolled back to
    complete = win.page_of(CompletePage)
    await _until(lambda: all(r.on_device is not None for r in results.values()), 10)
    complete.table.selectRow(2)
    complete.stop_btn.click()  # a row as the device reports it after Stop
    stopped = results["orin-car-02"]
    await _until(lambda: stopped.on_device is not None and stopped.on_device.status == "stopped"
                 and complete.start_btn.isEnabled(), 10)
    await shot("6-complete")
    if not dark:
        complete.table.selectRow(1)  # one that runs: its log follows new lines
        complete.open_logs()
        log = complete._logs[-1]
        log.resize(760, 420)
        await _until(lambda: log.text.blockCount() > 5, 10)
        await _grab(log, out / "6-complete-log.png")
        log.close()
        # The Monitor view on the scripted bench, its second device's link down since second 5.
        engines.monitor = ScriptedMonitor(drop=(5.0, 60.0))
        monitor = complete.open_monitor()
        monitor.resize(SIZE)
        monitor.window_box.setCurrentIndex(monitor.window_box.findData(10))
        await asyncio.sleep(9)
        await _grab(monitor, out / "6-complete-monitor.png")
        monitor.close()
    win.close()
    await _until(lambda: not win.tasks.busy, 5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sdv_studio.gui.screenshots", description=__doc__)
    parser.add_argument("out", type=Path, help="folder for the PNG files")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    from sdv_studio.gui.app import create_app, event_loop

    app = create_app(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)  # the light window closes before the dark one opens
    with tempfile.TemporaryDirectory(prefix="sdv-shots-") as tmp, event_loop(app) as loop:
        os.environ.setdefault("SDV_STUDIO_HOME", tmp)  # the demo never touches the user's own data

        async def both() -> None:
            await _render(args.out, False, Path(tmp))
            await _render_waves(args.out, Path(tmp))
            await _render_staged(args.out, Path(tmp))
            await _render(args.out, True, Path(tmp))

        loop.run_until_complete(both())
    return 0


if __name__ == "__main__":
    sys.exit(main())
