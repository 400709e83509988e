"""The wizard on the real engines with no hardware: package, find, wire and deploy to This computer,
then manage the app from Complete, each step checked against what this computer really runs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sdv_studio.gui.dialogs import ConfirmDialog
from sdv_studio.gui.state import Step
from tests.gui.helpers import complete_row, configure_plain_app, go_to, reported, visible_dialog

APP = "local-heartbeat"


def _deploy(win, qtbot) -> None:  # type: ignore[no-untyped-def]
    go_to(win, qtbot, Step.KUKSA)
    qtbot.waitUntil(lambda: not win.page(Step.KUKSA).busy(), timeout=30_000)
    go_to(win, qtbot, Step.DEPLOY)
    deploy = win.page(Step.DEPLOY)
    qtbot.waitUntil(deploy.is_complete, timeout=240_000)
    result = win.ctx.state.deployment_results["local"]
    assert result.status == "success", f"{result.message}\n{deploy.log.toPlainText()}"
    go_to(win, qtbot, Step.COMPLETE)


def _act(qtbot, complete, button, says: str, within: float) -> float:  # type: ignore[no-untyped-def]
    """Clicks ``button`` for This computer's row; seconds until the row says ``says`` (from the device)."""
    complete_row(complete, "local")
    clicked = time.monotonic()
    button.click()
    qtbot.waitUntil(lambda: complete_row(complete, "local")["On the device"] == says, timeout=int(within * 1000))
    assert complete.banner.property("kind") == "ok", complete.banner.text()
    return time.monotonic() - clicked


@pytest.mark.slow
def test_this_computer_end_to_end(qtbot, qt_loop, settings, local_target_home: Path,  # type: ignore[no-untyped-def]
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from sdv_studio.core import scan_defaults
    from sdv_studio.gui.adapters import default_engines
    from sdv_studio.gui.window import MainWindow

    # Outside the rig nothing may sweep this machine's real networks: no scan on entering Devices.
    monkeypatch.setenv("SDV_STUDIO_HOME", str(local_target_home / "sdv-studio-home"))
    scan_defaults.save(scan_defaults.ScanDefaults(scan_on_entry=False))

    engines = default_engines()
    win = MainWindow(engines, settings)
    win.show()
    try:
        configure_plain_app(win, APP)
        go_to(win, qtbot, Step.DEVICES)
        devices = win.page(Step.DEVICES)
        # Probed like any device before it is offered as Ready.
        qtbot.waitUntil(lambda: devices.devices["local"].reason != "Probing…", timeout=30_000)
        assert [d.id for d in devices.selected()] == ["local"], devices.devices["local"]
        assert "probe" in devices.devices["local"].sources
        local = devices.devices["local"]

        # The update mode is chosen before Deploy starts it, and the deployment runs as chosen.
        go_to(win, qtbot, Step.KUKSA)
        kuksa = win.page(Step.KUKSA)
        assert kuksa.hot_swap.isChecked()  # the package's own default (deployment.hotSwap)
        kuksa.hot_swap.setChecked(False)
        _deploy(win, qtbot)
        assert win.page(Step.DEPLOY).update_mode.text() == "Stop, then start · roll back on failure"
        assert win.ctx.state.deployment_results["local"].details["Update"] == "standard"
        complete = win.page(Step.COMPLETE)
        qtbot.waitUntil(lambda: complete_row(complete, "local")["On the device"] == "Running", timeout=30_000)
        assert complete_row(complete, "local")["Version"] == "1.0.0"

        # A second version, so there is one to roll back to.
        win._rail_clicked(0)
        win.page(Step.CONFIGURE).version.setText("1.0.1")
        _deploy(win, qtbot)
        qtbot.waitUntil(lambda: complete_row(complete, "local")["Version"] == "1.0.1", timeout=30_000)

        took = _act(qtbot, complete, complete.stop_btn, "Stopped", within=2.0)
        assert [a.status for a in reported(qtbot, engines, local, APP)] == ["stopped"], f"{took:.1f} s"
        assert complete.start_btn.isEnabled() and not complete.stop_btn.isEnabled()

        _act(qtbot, complete, complete.start_btn, "Running", within=30.0)
        assert [a.status for a in reported(qtbot, engines, local, APP)] == ["running"]

        complete_row(complete, "local")
        complete.rollback_btn.click()
        qtbot.waitUntil(lambda: complete_row(complete, "local")["Version"] == "1.0.0", timeout=60_000)
        assert "back on" in complete.banner.text() and "1.0.0" in complete.banner.text()
        assert [(a.version, a.status) for a in reported(qtbot, engines, local, APP)] == [("1.0.0", "running")]

        complete_row(complete, "local")
        complete.uninstall_selected()
        visible_dialog(qtbot, ConfirmDialog).accept()
        qtbot.waitUntil(lambda: complete_row(complete, "local")["On the device"] == "Not installed", timeout=60_000)
        assert reported(qtbot, engines, local, APP) == []
        assert not (complete.start_btn.isEnabled() or complete.stop_btn.isEnabled() or complete.logs_btn.isEnabled())
    finally:
        win.close()
        qtbot.waitUntil(lambda: not win.tasks.busy, timeout=5000)
