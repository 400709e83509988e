"""Waves from the wizard on the rig: "Canary: 1, then the rest" set on the Kuksa step, a first device
that fails its health gate stops the rollout; the Deploy page shows wave 1 stopped and the other five
skipped, and those five really were not touched (their v1 still running, nothing uploaded). With the
cause removed, Retry deploys the six in waves again and all of them run v2."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sdv_studio.core.deploy import start_deployment
from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.core.deploy.records import DeploymentRecords
from sdv_studio.core.ssh.known_hosts import KnownHosts
from sdv_studio.core.ssh.trust import HostKeyTrust
from sdv_studio.gui.pages.rollout import CANARY
from sdv_studio.gui.state import Step
from tests.core.deploy.conftest import FAST, agent_status, build, footprint, ref
from tests.gui.helpers import go_to, scan_rig, trust_on_one_sheet
from tests.rig.devices import LOGIN_USER
from tests.rig.rig import Device, Rig

pytestmark = [pytest.mark.rig, pytest.mark.slow]

APP = "rig-waves"
SOURCE = Path(__file__).resolve().parents[1] / "data" / "apps" / "fails_with_marker.py"
MARKER = f"/home/{LOGIN_USER}/sdv-test-fail-marker"  # the app exits at once on a device that has it


@pytest.mark.usefixtures("own_home")
def test_a_canary_that_fails_its_health_gate_leaves_the_other_five_untouched(  # type: ignore[no-untyped-def]
        rig: Rig, qtbot, qt_loop, settings, tmp_path: Path) -> None:
    from sdv_studio.gui.adapters import default_engines
    from sdv_studio.gui.executor import DaemonExecutor
    from sdv_studio.gui.window import MainWindow

    working = {d.ip: d for d in rig.working()}
    assert len(working) == 6
    for device in working.values():
        device.stop_sdv_apps()
        device.run(f"rm -f {MARKER}", user=LOGIN_USER)
    v1 = build(tmp_path, SOURCE.read_text(), APP, "1.0.0")

    with rig.in_workstation():
        # Worker threads started here live on the rig's LAN too.
        executor = DaemonExecutor(workers=8)
        qt_loop.set_default_executor(executor)
        win = MainWindow(default_engines(), settings)
        try:
            _deploy_by_the_engine(qtbot, rig, list(working.values()), v1, tmp_path)
            win.show()
            configure = win.page(Step.CONFIGURE)
            configure.editor.setPlainText(SOURCE.read_text())
            configure.name.setText(APP)
            configure.version.setText("2.0.0")
            assert configure.check()
            go_to(win, qtbot, Step.DEVICES)
            devices = scan_rig(win, qtbot, rig)
            trust_on_one_sheet(qtbot, devices, set(working))
            qtbot.waitUntil(lambda: {d.ip for d in devices.selected()} >= set(working), timeout=120_000)
            devices._checked.discard("local")
            devices._update_summary()

            go_to(win, qtbot, Step.KUKSA)
            kuksa = win.page(Step.KUKSA)
            qtbot.waitUntil(lambda: not kuksa.busy(), timeout=60_000)
            kuksa.rollout.preset.setCurrentText(CANARY)
            chosen = win.ctx.state.selected_devices
            assert {d.ip for d in chosen} == set(working)
            first, rest = working[chosen[0].ip], [working[d.ip] for d in chosen[1:]]
            before = {d.name: footprint(d, APP) for d in rest}
            assert {(f["version"], f["status"]) for f in before.values()} == {("1.0.0", "running")}, before
            first.run(f"touch {MARKER}", user=LOGIN_USER)

            go_to(win, qtbot, Step.DEPLOY)
            deploy_page = win.page(Step.DEPLOY)
            qtbot.waitUntil(deploy_page.is_complete, timeout=600_000)
            results = win.ctx.state.deployment_results
            log = deploy_page.log.toPlainText()[-4000:]
            assert results[chosen[0].id].status == "error", f"{results[chosen[0].id].message}\n{log}"
            assert [results[d.id].status for d in chosen[1:]] == ["skipped"] * 5, log
            run = results[chosen[0].id].deployment_id
            stopped, skipped = deploy_page.wave_header(run, 1), deploy_page.wave_header(run, 2)
            assert (stopped.chip.text(), stopped.detail.text()) == ("Stopped: threshold exceeded",
                                                                    "1 device · 1 failed, 0 allowed")
            assert (skipped.chip.text(), skipped.detail.text()) == ("Skipped", "5 devices")
            assert "5 skipped: a wave stopped the rollout" in deploy_page.banner.text()
            # Not touched: the same v1 process, no new release, the uploads folder as it was.
            assert {d.name: footprint(d, APP) for d in rest} == before
            complete = win.page(Step.COMPLETE)  # what Complete would show: failed and skipped told apart
            complete.initialize_page()
            assert complete.stat_failed.value.text() == "1 · 5 skipped"
            assert "1 device did not take the new version, 5 skipped by a stopped wave" in complete.banner.text()

            first.run(f"rm -f {MARKER}", user=LOGIN_USER)
            deploy_page.retry_btn.click()  # the failed device and the five skipped, in waves again
            qtbot.waitUntil(deploy_page.is_complete, timeout=600_000)
            log = deploy_page.log.toPlainText()[-4000:]
            assert {d.id: results[d.id].status for d in chosen} == {d.id: "success" for d in chosen}, log
            again = results[chosen[0].id].deployment_id
            assert [deploy_page.wave_header(again, i).chip.text() for i in (1, 2)] == ["Passed", "Passed"]
            for device in working.values():
                [app] = agent_status(device, APP)["apps"]
                assert (app["version"], app["status"]) == ("2.0.0", "running"), (device.name, app)
        finally:
            win.close()
            qtbot.waitUntil(lambda: not win.tasks.busy, timeout=10_000)
            qt_loop.set_default_executor(qt_loop.sdv_executor)
            executor.shutdown(wait=False)
            for device in working.values():
                device.run(f"rm -f {MARKER}", user=LOGIN_USER)
                device.stop_sdv_apps()


def _deploy_by_the_engine(qtbot, rig: Rig, devices: list[Device], package: PackageFile,  # type: ignore[no-untyped-def]
                          tmp_path: Path) -> None:
    """v1 on every device by the engine alone, on the GUI's event loop: what skipped devices must still run."""
    trust = HostKeyTrust(KnownHosts(tmp_path / "known_hosts"), accept_new=True)
    run = start_deployment(package, [ref(rig, d) for d in devices], trust, FAST,
                           records=DeploymentRecords(tmp_path / "records"))
    ended = asyncio.ensure_future(run.wait())
    qtbot.waitUntil(ended.done, timeout=600_000)
    assert ended.result().status == "completed", [(d.device_id, d.message) for d in ended.result().devices]
