"""The wizard on the real engines with no hardware: package, find, wire and deploy to This computer."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdv_studio.gui.state import Step
from tests.gui.helpers import configure_plain_app, go_to


@pytest.mark.slow
def test_this_computer_end_to_end(qtbot, qt_loop, settings, local_target_home: Path,  # type: ignore[no-untyped-def]
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from sdv_studio.core import scan_defaults
    from sdv_studio.gui.adapters import default_engines
    from sdv_studio.gui.window import MainWindow

    # Outside the rig nothing may sweep this machine's real networks: no scan on entering Devices.
    monkeypatch.setenv("SDV_STUDIO_HOME", str(local_target_home / "sdv-studio-home"))
    scan_defaults.save(scan_defaults.ScanDefaults(scan_on_entry=False))

    win = MainWindow(default_engines(), settings)
    win.show()
    try:
        configure_plain_app(win, "local-heartbeat")
        go_to(win, qtbot, Step.DEVICES)
        devices = win.page(Step.DEVICES)
        # Probed like any device before it is offered as Ready.
        qtbot.waitUntil(lambda: devices.devices["local"].reason != "Probing…", timeout=30_000)
        assert [d.id for d in devices.selected()] == ["local"], devices.devices["local"]
        assert "probe" in devices.devices["local"].sources
        go_to(win, qtbot, Step.KUKSA)
        kuksa = win.page(Step.KUKSA)
        qtbot.waitUntil(lambda: not kuksa.busy(), timeout=30_000)
        go_to(win, qtbot, Step.DEPLOY)
        deploy = win.page(Step.DEPLOY)
        qtbot.waitUntil(deploy.is_complete, timeout=240_000)
        result = win.ctx.state.deployment_results["local"]
        assert result.status == "success", f"{result.message}\n{deploy.log.toPlainText()}"
        go_to(win, qtbot, Step.COMPLETE)
        complete = win.page(Step.COMPLETE)
        complete.stop_btn.click()
        qtbot.waitUntil(lambda: "Stopped" in complete.banner.text() or "failed" in complete.banner.text(),
                        timeout=60_000)
        assert "Stopped" in complete.banner.text(), complete.banner.text()
    finally:
        win.close()
        qtbot.waitUntil(lambda: not win.tasks.busy, timeout=5000)
