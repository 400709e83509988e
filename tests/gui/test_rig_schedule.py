"""A scheduled update from the wizard on the rig: v1 runs on a device, Vehicle.Speed is 50 on its databroker,
and the Rollout card's "When the vehicle is idle" (Vehicle.Speed == 0) stages v2. The Deploy and Complete
rows say staged, with the condition and the device's last look at it, and the device still runs v1. Once
the speed is 0 there, the device starts v2 by itself, and Complete's refreshed row shows it running."""

from __future__ import annotations

import time

import pytest

from sdv_studio.gui.pages.schedule_form import IDLE
from sdv_studio.gui.state import Step
from tests.core.deploy.test_schedule_rig import set_speed
from tests.gui.helpers import complete_row, configure_plain_app, go_to, reported, scan_rig, trust_on_one_sheet
from tests.rig.rig import Rig

pytestmark = [pytest.mark.rig, pytest.mark.slow]

APP = "rig-staged"


def _deploy(win, qtbot, idle: bool) -> None:  # type: ignore[no-untyped-def]
    """Kuksa (starting now, or when the vehicle is idle), Deploy until every device ended, then Complete."""
    go_to(win, qtbot, Step.KUKSA)
    kuksa = win.page(Step.KUKSA)
    qtbot.waitUntil(lambda: not kuksa.busy(), timeout=60_000)
    if idle:
        kuksa.schedule.start.setCurrentText(IDLE)  # its default condition: Vehicle.Speed == 0
    go_to(win, qtbot, Step.DEPLOY)
    deploy = win.page(Step.DEPLOY)
    qtbot.waitUntil(deploy.is_complete, timeout=600_000)
    failed = {r.device.name: r.message for r in win.ctx.state.deployment_results.values() if r.status != "success"}
    assert not failed, f"{failed}\n{deploy.log.toPlainText()[-4000:]}"


def _refreshed_until(qtbot, complete, device, wanted, within: float) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Refresh, as a user would, until ``device``'s row is ``wanted`` (the device's answer); the row."""
    deadline = time.monotonic() + within
    while True:
        complete.refresh([device])
        qtbot.wait(2000)
        row = complete_row(complete, device.id)
        if wanted(row):
            return row
        assert time.monotonic() < deadline, row


@pytest.mark.usefixtures("own_home")
def test_the_wizard_stages_v2_until_the_vehicle_stops(rig: Rig, qtbot, qt_loop, settings) -> None:  # type: ignore[no-untyped-def]
    from sdv_studio.gui.adapters import default_engines
    from sdv_studio.gui.executor import DaemonExecutor
    from sdv_studio.gui.window import MainWindow

    target = rig["d4"]
    target.stop_sdv_apps()
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
            trust_on_one_sheet(qtbot, devices, {target.ip})
            qtbot.waitUntil(lambda: any(d.ip == target.ip and d.status == "online" for d in devices.rows()),
                            timeout=120_000)
            devices._checked = {d.id for d in devices.rows() if d.ip == target.ip}
            devices._update_summary()
            _deploy(win, qtbot, idle=False)  # 1.0.0, started at once (and the device's databroker with it)
            [device] = win.ctx.state.selected_devices
            [v1] = reported(qtbot, engines, device, APP)
            assert (v1.version, v1.status) == ("1.0.0", "running"), v1
            set_speed(target, 50.0)

            win._rail_clicked(0)
            win.page(Step.CONFIGURE).version.setText("2.0.0")
            _deploy(win, qtbot, idle=True)
            deploy = win.page(Step.DEPLOY)
            result = win.ctx.state.deployment_results[device.id]
            assert result.staged, result.message
            assert deploy.table.item(0, 2).text() == "Staged — starts when Vehicle.Speed == 0"
            assert deploy.banner.text().startswith("1 device staged the app, to start it when Vehicle.Speed == 0")

            go_to(win, qtbot, Step.COMPLETE)
            complete = win.page(Step.COMPLETE)
            row = _refreshed_until(qtbot, complete, device, lambda r: "last check" in r["Deployment"], 60)
            assert (row["On the device"], row["Version"]) == ("Running", "1.0.0"), row
            assert row["Deployment"].startswith("Staged 2.0.0 — starts when Vehicle.Speed == 0 · last check: "
                                                "Vehicle.Speed 50.0 at "), row
            assert complete.staged.isVisibleTo(complete)
            qtbot.wait(3000)  # the device's watcher keeps looking at 50 km/h
            still = reported(qtbot, engines, device, APP)
            assert [(a.version, a.status, a.pid) for a in still] == [("1.0.0", "running", v1.pid),
                                                                     ("2.0.0", "staged", None)], still

            set_speed(target, 0.0)
            row = _refreshed_until(qtbot, complete, device, lambda r: r["Version"] == "2.0.0", 120)
            assert row["On the device"] == "Running", row
            assert row["Deployment"].startswith("2.0.0 started by the device at "), row
            assert not complete.staged.isVisibleTo(complete)
            [v2] = reported(qtbot, engines, device, APP)
            assert (v2.version, v2.status) == ("2.0.0", "running") and v2.pid != v1.pid, v2
        finally:
            win.close()
            qtbot.waitUntil(lambda: not win.tasks.busy, timeout=10_000)
            qt_loop.set_default_executor(qt_loop.sdv_executor)
            executor.shutdown(wait=False)
            target.stop_sdv_apps()
