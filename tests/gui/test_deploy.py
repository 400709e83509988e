"""Deploy: a failed device stays on its row, retry deploys only it; cancel one device or all."""

from __future__ import annotations

from pathlib import Path

from sdv_studio.gui.state import Step
from tests.gui.helpers import configure_plain_app, go_to

APPS = Path(__file__).resolve().parents[1] / "data" / "apps"


def _deploy_to_bench(window, qtbot, ids: list[str], configured: bool = False):  # type: ignore[no-untyped-def]
    if not configured:
        configure_plain_app(window)
    go_to(window, qtbot, Step.DEVICES)
    devices = window.page(Step.DEVICES)
    devices.scan_btn.click()
    qtbot.waitUntil(lambda: not devices.busy() and devices.devices["local"].compatible, timeout=3000)
    devices._checked = set(ids)
    go_to(window, qtbot, Step.DEPLOY)
    return window.page(Step.DEPLOY)


def test_failed_device_then_retry(window, qtbot, engines) -> None:  # type: ignore[no-untyped-def]
    engines.deployer.plan = {"linux-02": ["fail", "ok"]}
    page = _deploy_to_bench(window, qtbot, ["local", "jetson-01", "linux-02"])
    qtbot.waitUntil(page.is_complete, timeout=10_000)
    results = window.ctx.state.deployment_results
    assert results["linux-02"].status == "error"
    assert "health check failed" in results["linux-02"].message
    assert results["jetson-01"].status == "success" and results["local"].status == "success"
    assert page.progress_bar("linux-02").property("state") == "error"
    assert page.retry_btn.isEnabled()
    assert "2 succeeded, 1 did not" in page.banner.text()
    page.retry_btn.click()
    assert results["linux-02"].status == "pending"
    qtbot.waitUntil(page.is_complete, timeout=10_000)
    assert results["linux-02"].status == "success"
    assert engines.deployer.attempts == {"local": 1, "jetson-01": 1, "linux-02": 2}
    assert not page.retry_btn.isEnabled()
    assert "All 3 devices" in page.banner.text()


def test_redeploy_failed_from_complete(window, qtbot, engines) -> None:  # type: ignore[no-untyped-def]
    engines.deployer.plan = {"jetson-01": ["fail", "ok"]}
    page = _deploy_to_bench(window, qtbot, ["jetson-01", "linux-02"])
    qtbot.waitUntil(page.is_complete, timeout=10_000)
    go_to(window, qtbot, Step.COMPLETE)
    complete = window.page(Step.COMPLETE)
    assert complete.stat_failed.value.text() == "1"
    complete.redeploy_btn.click()
    assert window.ctx.state.current_step is Step.DEPLOY
    qtbot.waitUntil(page.is_complete, timeout=10_000)
    assert window.ctx.state.deployment_results["jetson-01"].status == "success"


def test_cancel_one_device_leaves_the_others(window, qtbot, engines) -> None:  # type: ignore[no-untyped-def]
    engines.deployer.plan = {"linux-02": ["hang"]}
    page = _deploy_to_bench(window, qtbot, ["jetson-01", "linux-02"])
    results = window.ctx.state.deployment_results
    qtbot.waitUntil(lambda: results["linux-02"].stage == "install", timeout=5000)
    page.cancel_button("linux-02").click()
    qtbot.waitUntil(page.is_complete, timeout=5000)
    assert results["linux-02"].status == "cancelled"
    assert results["jetson-01"].status == "success"
    assert page.retry_btn.isEnabled()


def test_cancel_all(window, qtbot, engines) -> None:  # type: ignore[no-untyped-def]
    engines.deployer.plan = {"jetson-01": ["hang"], "linux-02": ["hang"]}
    page = _deploy_to_bench(window, qtbot, ["jetson-01", "linux-02"])
    results = window.ctx.state.deployment_results
    qtbot.waitUntil(lambda: all(r.stage == "install" for r in results.values()), timeout=5000)
    assert not window.back_btn.isEnabled()  # no leaving mid-deploy
    page.cancel_all_btn.click()
    qtbot.waitUntil(page.is_complete, timeout=5000)
    assert {r.status for r in results.values()} == {"cancelled"}


def test_build_cancel(window, qtbot, engines) -> None:  # type: ignore[no-untyped-def]
    configure_plain_app(window)
    go_to(window, qtbot, Step.PACKAGE)
    page = window.page(Step.PACKAGE)
    assert page.busy()
    page.cancel_btn.click()
    qtbot.waitUntil(lambda: not page.busy() and not page.cancel_btn.isEnabled(), timeout=3000)
    if window.ctx.state.app_package is None:  # the build may finish first on a fast machine
        assert page.stage.text() == "Build cancelled"
        assert not window.next_btn.isEnabled()
        page.rebuild_btn.click()
    qtbot.waitUntil(lambda: window.ctx.state.app_package is not None, timeout=60_000)


def test_deploy_adds_the_wheels_a_chosen_device_lacks(window, qtbot, engines) -> None:  # type: ignore[no-untyped-def]
    """Packaged for Python 3.11 only; the Jetson (3.10, arm64) gets its set added before sending."""
    configure = window.page(Step.CONFIGURE)
    configure.editor.setPlainText((APPS / "kuksa_app.py").read_text())
    configure.name.setText("speed-watch")
    configure.python.setCurrentText("3.11")
    assert configure.check()
    page = _deploy_to_bench(window, qtbot, ["jetson-01", "linux-02"], configured=True)
    qtbot.waitUntil(page.is_complete, timeout=60_000)
    sets = window.ctx.state.app_package.manifest["wheelSets"]
    assert {"3.10-aarch64", "3.11-aarch64", "3.11-x86_64"} <= set(sets) and "wheels" in sets["3.10-aarch64"]
    assert "3.10-x86_64" not in sets  # only what a chosen device needs
    assert "adding wheels for Python 3.10 on aarch64 to the package" in page.log.toPlainText()


def _table_order(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The Deploy table top to bottom: a wave's header as its title, a device as its id."""
    from sdv_studio.gui.pages.wave_groups import WaveHeader
    from sdv_studio.gui.qt import Qt

    order = []
    for row in range(page.table.rowCount()):
        header = page.table.cellWidget(row, 0)
        order.append(header.title.text() if isinstance(header, WaveHeader)
                     else page.table.item(row, 0).data(Qt.ItemDataRole.UserRole))
    return order


def test_waves_group_the_rows_and_a_stopped_wave_skips_the_rest(window, qtbot, engines) -> None:  # type: ignore[no-untyped-def]
    """Through the real orchestrator: its wave events set each group's state; retry regroups."""
    from sdv_studio.gui.pages.rollout import CANARY

    configure_plain_app(window)
    go_to(window, qtbot, Step.DEVICES)
    devices = window.page(Step.DEVICES)
    devices.scan_btn.click()
    qtbot.waitUntil(lambda: not devices.busy() and devices.devices["local"].compatible, timeout=3000)
    devices._checked = {"local", "jetson-01", "linux-02"}
    go_to(window, qtbot, Step.KUKSA)
    first, *rest = window.ctx.state.selected_devices
    engines.deployer.plan = {first.id: ["fail", "ok"]}
    window.page(Step.KUKSA).rollout.preset.setCurrentText(CANARY)
    go_to(window, qtbot, Step.DEPLOY)
    page = window.page(Step.DEPLOY)
    assert page.headline.text().endswith("→ 3 devices in 2 waves")
    qtbot.waitUntil(page.is_complete, timeout=10_000)

    results = window.ctx.state.deployment_results
    assert results[first.id].status == "error"
    for device in rest:
        skipped = results[device.id]
        assert skipped.status == "skipped" and skipped.started is None and skipped.progress == 0
        assert skipped.message == ("Skipped: wave 1 failed (1 of 1 devices, more than the 0 allowed); nothing was "
                                   "done on the device")
        assert not page.cancel_button(device.id).isEnabled()
    assert _table_order(page) == ["Wave 1 of 2", first.id, "Wave 2 of 2", *(d.id for d in rest)]
    run = results[first.id].deployment_id
    stopped, skipped_wave = page.wave_header(run, 1), page.wave_header(run, 2)
    assert (stopped.chip.text(), stopped.chip.property("kind")) == ("Stopped: threshold exceeded", "error")
    assert stopped.detail.text() == "1 device · 1 failed, 0 allowed"
    assert (skipped_wave.chip.text(), skipped_wave.detail.text()) == ("Skipped", "2 devices")
    assert page.banner.text() == ("0 succeeded, 1 did not, 2 skipped: a wave stopped the rollout. Retry them, or "
                                  "finish and review.")
    log = page.log.toPlainText()
    assert "Wave 1 of 2 stopped the rollout: 1 of 1 failed" in log
    assert f"Wave 2 of 2 skipped: {', '.join(d.name for d in rest)}" in log

    page.retry_btn.click()  # the failed device and the skipped ones, in waves again
    qtbot.waitUntil(page.is_complete, timeout=10_000)
    assert {r.status for r in results.values()} == {"success"}
    assert _table_order(page) == ["Retry 1 · wave 1 of 2", first.id, "Retry 1 · wave 2 of 2", *(d.id for d in rest)]
    again = results[first.id].deployment_id
    assert [page.wave_header(again, i).chip.text() for i in (1, 2)] == ["Passed", "Passed"]
    assert page.banner.text() == "All 3 devices are running the app."
