"""The wizard end to end on scripted engines (real packager and orchestrator), plus its guards."""

from __future__ import annotations

import json
import time
from pathlib import Path

from sdv_studio.gui.qt import Qt
from sdv_studio.gui.settings import WINDOW_GEOMETRY
from sdv_studio.gui.state import Step
from tests.gui.helpers import configure_plain_app, go_to


def _tick(page, device_id: str, on: bool = True) -> None:  # type: ignore[no-untyped-def]
    for row in range(page.table.rowCount()):
        item = page.table.item(row, 0)
        if item.data(Qt.ItemDataRole.UserRole) == device_id:
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            return
    raise AssertionError(f"no row for {device_id}")


def test_whole_wizard_to_complete(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    configure_plain_app(window)
    go_to(window, qtbot, Step.PACKAGE)
    package = window.page(Step.PACKAGE)
    qtbot.waitUntil(lambda: window.ctx.state.app_package is not None, timeout=60_000)
    assert package.stat_id.value.text().startswith("pkg_")
    assert package.checksum.text().startswith("Checksum  sha256:")
    assert package.files.topLevelItemCount() > 2
    package.save_to(tmp_path / "copy.tar.gz")
    qtbot.waitUntil(lambda: (tmp_path / "copy.tar.gz").exists(), timeout=5000)

    go_to(window, qtbot, Step.DEVICES)
    devices = window.page(Step.DEVICES)
    assert "local" in devices.devices  # "This computer" is always offered
    devices.subnet.setText("10.99.0.0/24")
    devices.scan_btn.click()
    qtbot.waitUntil(lambda: not devices.busy() and len(devices.devices) == 4, timeout=5000)
    ecu = next(r for r in range(devices.table.rowCount()) if devices.table.item(r, 0).text() == "Prototype ECU")
    assert not devices.table.item(ecu, 0).flags() & Qt.ItemFlag.ItemIsUserCheckable  # greyed out
    assert devices.table.item(ecu, 8).text() == "python3 has no venv module"
    _tick(devices, "jetson-01")
    _tick(devices, "linux-02")
    _tick(devices, "ecu-03")  # ignored: not checkable
    assert {d.id for d in devices.selected()} == {"local", "jetson-01", "linux-02"}

    go_to(window, qtbot, Step.KUKSA)
    kuksa = window.page(Step.KUKSA)
    qtbot.waitUntil(lambda: not kuksa.busy(), timeout=5000)
    assert [b.kind for b in kuksa.brokers] == ["databroker", "mqtt"]  # the scripted bench: one on 127.0.0.1
    assert window.ctx.state.detected_broker is not None
    assert window.ctx.state.broker_address() is None  # each device finds its own
    # On this computer's loopback only: its own apps use it, other devices cannot reach it.
    assert window.ctx.state.detected_broker.local_only and not kuksa.use_btn.isEnabled()
    assert kuksa.table.item(0, 0).text() == f"{devices.devices['local'].name} · 127.0.0.1"
    kuksa.custom.setText("not an address")
    assert not window.next_btn.isEnabled()
    kuksa.custom.setText("")

    go_to(window, qtbot, Step.DEPLOY)
    deploy = window.page(Step.DEPLOY)
    qtbot.waitUntil(lambda: deploy.is_complete(), timeout=10_000)
    results = window.ctx.state.deployment_results
    assert {r.status for r in results.values()} == {"success"}
    assert all(deploy.progress_bar(i).value() == 100 for i in results)
    assert "healthy after 3.0 s" in deploy.log.toPlainText()

    go_to(window, qtbot, Step.COMPLETE)
    complete = window.page(Step.COMPLETE)
    assert complete.stat_ok.value.text() == "3 / 3"
    assert complete.table.rowCount() == 3
    complete.write_report(tmp_path / "report.json")
    complete.write_report(tmp_path / "report.html")
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["status"] == "completed" and len(data["devices"]) == 3
    assert "Jetson Orin (bench)" in (tmp_path / "report.html").read_text()
    assert not window.next_btn.isVisible()
    # Monitor watches the app on every device deployed to; closing it stops watching.
    complete.monitor_btn.click()
    [monitor] = complete.monitors
    assert [d.id for d in monitor.devices] == list(results) and monitor.app == window.ctx.state.app_package.stored.name
    qtbot.waitUntil(lambda: len(monitor.model.paths) > 0, timeout=10_000)
    monitor.close()
    qtbot.waitUntil(lambda: not complete.monitors and not window.tasks.busy, timeout=10_000)

    complete.over_btn.click()
    assert window.ctx.state.current_step is Step.CONFIGURE
    assert window.ctx.state.app_package is None


def test_back_keeps_choices_and_rail_never_jumps_ahead(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    configure_plain_app(window, "rail-test")
    assert not window.steps.item(3).flags() & Qt.ItemFlag.ItemIsEnabled
    go_to(window, qtbot, Step.PACKAGE)
    qtbot.waitUntil(lambda: window.next_btn.isEnabled(), timeout=60_000)
    qtbot.keyClick(window, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert window.ctx.state.current_step is Step.CONFIGURE
    assert window.page(Step.CONFIGURE).name.text() == "rail-test"
    window.steps.setCurrentRow(1)  # visited: allowed
    assert window.ctx.state.current_step is Step.PACKAGE
    window.steps.setCurrentRow(3)  # never visited: refused
    assert window.ctx.state.current_step is Step.PACKAGE


def test_settings_saved_once_on_close_and_restored(qtbot, qt_loop, engines, settings) -> None:  # type: ignore[no-untyped-def]
    from sdv_studio.gui.window import MainWindow

    first = MainWindow(engines, settings)
    first.show()
    first.page(Step.DEVICES).subnet.setText("10.99.0.0/24")
    first.page(Step.DEVICES).user.setText("sdv")
    first.resize(1300, 820)
    first.close()
    # Scan defaults live in SDV Studio's own settings (the engine's), not in the window's.
    assert engines.discovery.load_defaults().subnet == "10.99.0.0/24"
    assert "10.99.0.0" not in settings.path.read_text()
    second = MainWindow(engines, settings)
    qtbot.addWidget(second)  # idle: safe for qtbot to close
    assert second.page(Step.DEVICES).subnet.text() == "10.99.0.0/24"
    assert second.page(Step.DEVICES).user.text() == "sdv"
    assert settings.get(WINDOW_GEOMETRY)  # offscreen screens clamp the size itself


def test_closing_mid_work_cancels_everything_fast(qtbot, qt_loop, engines, settings) -> None:  # type: ignore[no-untyped-def]
    from sdv_studio.gui.window import MainWindow

    engines.deployer.plan = {"local": ["hang"]}
    win = MainWindow(engines, settings)
    win.show()
    configure_plain_app(win)
    go_to(win, qtbot, Step.DEPLOY)
    deploy = win.page(Step.DEPLOY)
    qtbot.waitUntil(lambda: win.ctx.state.deployment_results["local"].stage == "install", timeout=10_000)
    assert win.tasks.busy
    started = time.perf_counter()
    win.close()
    qtbot.waitUntil(lambda: not win.isVisible(), timeout=3000)
    assert time.perf_counter() - started < 1.0
    assert not win.tasks.busy
    assert win.ctx.state.deployment_results["local"].status == "cancelled"
    assert not deploy.busy()
