"""Complete against rig devices: a light app deployed twice over SSH, then its logs, roll back, stop,
start and uninstall, each row checked against what the device reports afterwards."""

from __future__ import annotations

import pytest

from sdv_studio.gui.dialogs import ConfirmDialog
from sdv_studio.gui.state import Step
from tests.gui.helpers import (
    complete_row,
    configure_plain_app,
    go_to,
    reported,
    scan_rig,
    trust_on_one_sheet,
    visible_dialog,
)
from tests.rig.rig import Rig

pytestmark = [pytest.mark.rig, pytest.mark.slow]

TARGETS = ("d4", "d5")
APP = "rig-complete"


def _select_trusting(devices, qtbot, ips: set[str]) -> None:  # type: ignore[no-untyped-def]
    """Ticks exactly the devices at ``ips``, trusting their new host keys on the trust sheet first."""
    trust_on_one_sheet(qtbot, devices, ips)
    qtbot.waitUntil(lambda: {d.ip for d in devices.rows() if d.compatible and d.status == "online"} >= ips,
                    timeout=120_000)
    devices._checked = {d.id for d in devices.rows() if d.ip in ips}
    devices._update_summary()


def _deploy(win, qtbot) -> None:  # type: ignore[no-untyped-def]
    go_to(win, qtbot, Step.KUKSA)
    qtbot.waitUntil(lambda: not win.page(Step.KUKSA).busy(), timeout=60_000)
    go_to(win, qtbot, Step.DEPLOY)
    deploy = win.page(Step.DEPLOY)
    qtbot.waitUntil(deploy.is_complete, timeout=600_000)
    failed = {r.device.name: r.message for r in win.ctx.state.deployment_results.values() if r.status != "success"}
    assert not failed, f"{failed}\n{deploy.log.toPlainText()[-4000:]}"
    go_to(win, qtbot, Step.COMPLETE)


def _act(qtbot, complete, device, button, says: str, within: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    """Clicks ``button`` for ``device``'s row and waits for the row to say ``says`` (the device's answer)."""
    complete_row(complete, device.id)
    button.click()
    qtbot.waitUntil(lambda: complete_row(complete, device.id)["On the device"] == says, timeout=int(within * 1000))
    assert complete.banner.property("kind") == "ok", complete.banner.text()


@pytest.mark.usefixtures("own_home")
def test_complete_actions_on_rig_devices(rig: Rig, qtbot, qt_loop, settings) -> None:  # type: ignore[no-untyped-def]
    from sdv_studio.gui.adapters import default_engines
    from sdv_studio.gui.executor import DaemonExecutor
    from sdv_studio.gui.window import MainWindow

    ips = {rig[name].ip for name in TARGETS}
    with rig.in_workstation():
        executor = DaemonExecutor(workers=8)
        qt_loop.set_default_executor(executor)
        engines = default_engines()
        win = MainWindow(engines, settings)
        win.show()
        try:
            configure_plain_app(win, APP)
            go_to(win, qtbot, Step.DEVICES)
            devices = scan_rig(win, qtbot, rig)
            _select_trusting(devices, qtbot, ips)
            _deploy(win, qtbot)  # 1.0.0

            win._rail_clicked(0)  # back to Configure for a second version, so there is one to roll back to
            assert win.ctx.state.current_step is Step.CONFIGURE
            win.page(Step.CONFIGURE).version.setText("1.0.1")
            _deploy(win, qtbot)  # 1.0.1 on both
            complete = win.page(Step.COMPLETE)
            d4, d5 = (next(d for d in win.ctx.state.selected_devices if d.ip == rig[n].ip) for n in TARGETS)

            qtbot.waitUntil(lambda: all(complete_row(complete, d.id)["On the device"] == "Running"
                                        for d in (d4, d5)), timeout=60_000)
            assert {complete_row(complete, d.id)["Version"] for d in (d4, d5)} == {"1.0.1"}

            complete_row(complete, d4.id)
            complete.open_logs()
            qtbot.waitUntil(lambda: bool(complete._logs), timeout=60_000)
            log_window = complete._logs[-1]
            assert log_window.windowTitle() == f"{complete._app()} on {d4.name} — log"
            qtbot.waitUntil(lambda: "heartbeat" in log_window.text.toPlainText(), timeout=60_000)
            log_window.close()

            complete_row(complete, d4.id)
            complete.rollback_btn.click()
            qtbot.waitUntil(lambda: complete_row(complete, d4.id)["Version"] == "1.0.0", timeout=120_000)
            assert d4.name in complete.banner.text() and "1.0.0" in complete.banner.text()
            assert [(a.version, a.status) for a in reported(qtbot, engines, d4, APP)] == [("1.0.0", "running")]

            # Stop: the row says so within 2 s of the click, and so does the device, asked apart from the GUI.
            _act(qtbot, complete, d5, complete.stop_btn, "Stopped", within=2.0)
            assert [a.status for a in reported(qtbot, engines, d5, APP)] == ["stopped"]
            _act(qtbot, complete, d5, complete.start_btn, "Running")
            assert [(a.version, a.status) for a in reported(qtbot, engines, d5, APP)] == [("1.0.1", "running")]

            complete_row(complete, d5.id)
            complete.uninstall_selected()
            visible_dialog(qtbot, ConfirmDialog).accept()
            qtbot.waitUntil(lambda: complete_row(complete, d5.id)["On the device"] == "Not installed", timeout=60_000)
            assert reported(qtbot, engines, d5, APP) == []
            assert complete.stat_ok.value.text() == "1 / 2"  # d4 alone runs it now
        finally:
            win.close()
            qtbot.waitUntil(lambda: not win.tasks.busy, timeout=10_000)
            qt_loop.set_default_executor(qt_loop.sdv_executor)
            executor.shutdown(wait=False)
