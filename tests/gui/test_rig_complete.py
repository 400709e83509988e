"""Complete against rig devices: open the logs, stop and roll back a light app deployed twice over SSH."""

from __future__ import annotations

import asyncio

import pytest

from sdv_studio.gui.state import Step
from tests.gui.helpers import configure_plain_app, go_to, scan_rig, trust_on_one_sheet
from tests.rig.rig import Rig

pytestmark = [pytest.mark.rig, pytest.mark.slow]

TARGETS = ("d4", "d5")


def _select_trusting(devices, qtbot, ips: set[str]) -> None:  # type: ignore[no-untyped-def]
    """Ticks exactly the devices at ``ips``, trusting their new host keys on the trust sheet first."""
    trust_on_one_sheet(qtbot, devices, ips)
    qtbot.waitUntil(lambda: {d.ip for d in devices.rows() if d.compatible and d.status == "online"} >= ips,
                    timeout=120_000)
    devices._checked = {d.id for d in devices.rows() if d.ip in ips}
    devices._update_summary()


def _select_row(complete, name: str) -> None:  # type: ignore[no-untyped-def]
    for row in range(complete.table.rowCount()):
        if complete.table.item(row, 0).text() == name:
            complete.table.selectRow(row)
            return
    raise AssertionError(f"no row for {name}")


def _deploy(win, qtbot) -> None:  # type: ignore[no-untyped-def]
    go_to(win, qtbot, Step.KUKSA)
    qtbot.waitUntil(lambda: not win.page(Step.KUKSA).busy(), timeout=60_000)
    go_to(win, qtbot, Step.DEPLOY)
    deploy = win.page(Step.DEPLOY)
    qtbot.waitUntil(deploy.is_complete, timeout=600_000)
    failed = {r.device.name: r.message for r in win.ctx.state.deployment_results.values() if r.status != "success"}
    assert not failed, f"{failed}\n{deploy.log.toPlainText()[-4000:]}"
    go_to(win, qtbot, Step.COMPLETE)


def _wait_banner(complete, qtbot, *words: str) -> str:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: complete.banner.property("kind") in ("ok", "error"), timeout=60_000)
    text = complete.banner.text()
    assert complete.banner.property("kind") == "ok" and all(w in text for w in words), text
    return text


def test_complete_actions_on_rig_devices(rig: Rig, qtbot, qt_loop, settings) -> None:  # type: ignore[no-untyped-def]
    from sdv_studio.core.deploy.app_control import device_status
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
            configure_plain_app(win, "rig-complete")
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

            _select_row(complete, d4.name)
            complete.open_logs()
            qtbot.waitUntil(lambda: bool(complete._logs), timeout=60_000)
            log_window = complete._logs[-1]
            assert log_window.windowTitle() == f"{complete._app()} on {d4.name} — log"
            qtbot.waitUntil(lambda: "heartbeat" in log_window.text.toPlainText(), timeout=60_000)
            log_window.close()

            complete.rollback_btn.click()
            _wait_banner(complete, qtbot, d4.name, "1.0.0")

            _select_row(complete, d5.name)
            complete.stop_btn.click()
            _wait_banner(complete, qtbot, "Stopped", d5.name)

            # What the devices say now, asked over SSH apart from the GUI.
            deployer = engines.deployer
            refs = [deployer._ref(d) for d in (d4, d5)]
            states = [asyncio.ensure_future(device_status(ref, deployer.approvals.trust(), 30, "rig-complete"))
                      for ref in refs]
            qtbot.waitUntil(lambda: all(f.done() for f in states), timeout=60_000)
            on_d4, on_d5 = (f.result().apps for f in states)
            assert [(a.version, a.status) for a in on_d4] == [("1.0.0", "running")], on_d4
            assert [a.status for a in on_d5] == ["stopped"], on_d5
        finally:
            win.close()
            qtbot.waitUntil(lambda: not win.tasks.busy, timeout=10_000)
            qt_loop.set_default_executor(qt_loop.sdv_executor)
            executor.shutdown(wait=False)
