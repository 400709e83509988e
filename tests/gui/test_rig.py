"""The whole wizard against the rig: the playground's default app to Complete on d1..d6, all succeeding.

Packaging happens once outside the rig's LAN first (it has no route to a package index), so the
wizard's own build inside is served from the wheel cache; everything else runs on the rig's LAN.
"""

from __future__ import annotations

import pytest

from sdv_studio.gui.state import Step
from tests.gui.helpers import go_to, scan_rig, trust_on_one_sheet
from tests.rig.rig import Rig

pytestmark = [pytest.mark.rig, pytest.mark.slow]


def _prepare_outside_the_rig() -> None:
    from sdv_studio.core.device_wheels.broker_bundle import broker_bundle
    from sdv_studio.core.packaging import BuildOptions, build_package
    from sdv_studio.core.packaging.sources import source_from_code
    from sdv_studio.gui import samples

    broker_bundle("3.11", "x86_64")  # the fallback databroker's wheels for the devices
    build_package(source_from_code(samples.PLAYGROUND_DEFAULT, samples.DEFAULT_NAME),
                  BuildOptions(name=samples.DEFAULT_NAME, description=samples.DEFAULT_DESCRIPTION, vss="4.0"))


@pytest.mark.usefixtures("own_home")
def test_playground_app_to_six_rig_devices(rig: Rig, qtbot, qt_loop, settings) -> None:  # type: ignore[no-untyped-def]
    from sdv_studio.gui.adapters import default_engines
    from sdv_studio.gui.executor import DaemonExecutor
    from sdv_studio.gui.window import MainWindow

    _prepare_outside_the_rig()
    working = {d.ip: d for d in rig.working()}
    assert len(working) == 6
    with rig.in_workstation():
        # Worker threads started here live on the rig's LAN too.
        executor = DaemonExecutor(workers=8)
        qt_loop.set_default_executor(executor)
        win = MainWindow(default_engines(), settings)
        win.show()
        try:
            configure = win.page(Step.CONFIGURE)
            assert "Vehicle.Body.Lights.Beam.Low.IsOn" in configure.editor.toPlainText()
            go_to(win, qtbot, Step.PACKAGE)
            qtbot.waitUntil(lambda: win.ctx.state.app_package is not None, timeout=300_000)
            assert win.ctx.state.app_package.flavour == "velocitas"

            go_to(win, qtbot, Step.DEVICES)
            devices = scan_rig(win, qtbot, rig)
            found = {d.ip: d for d in devices.devices.values()}
            assert set(working) <= set(found), devices.stage.text()
            # New host keys are not trusted by a scan: reviewed on one sheet, as a user clicks Trust….
            assert {d.ip for d in devices.rows() if d.untrusted} >= set(working)
            trust_on_one_sheet(qtbot, devices, set(working))
            qtbot.waitUntil(lambda: {d.ip for d in devices.selected()} >= set(working), timeout=120_000)
            devices._checked.discard("local")
            devices._update_summary()
            assert {d.ip for d in devices.selected()} == set(working)
            assert next(d for d in devices.selected() if d.ip == rig["d1"].ip).type == "jetson-orin"

            go_to(win, qtbot, Step.KUKSA)
            kuksa = win.page(Step.KUKSA)
            qtbot.waitUntil(lambda: not kuksa.busy(), timeout=60_000)

            go_to(win, qtbot, Step.DEPLOY)
            deploy = win.page(Step.DEPLOY)
            qtbot.waitUntil(deploy.is_complete, timeout=900_000)
            results = win.ctx.state.deployment_results
            failed = {r.device.name: r.message for r in results.values() if r.status != "success"}
            assert not failed, f"{failed}\n{deploy.log.toPlainText()[-4000:]}"

            go_to(win, qtbot, Step.COMPLETE)
            complete = win.page(Step.COMPLETE)
            assert complete.stat_ok.value.text() == "6 / 6"
            assert complete.stat_failed.value.text() == "0"
        finally:
            win.close()
            qtbot.waitUntil(lambda: not win.tasks.busy, timeout=10_000)
            qt_loop.set_default_executor(qt_loop.sdv_executor)
            executor.shutdown(wait=False)


