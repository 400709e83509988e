"""Kuksa: choices made after the package was built reach the deployment engine through the package."""

from __future__ import annotations

from sdv_studio.core.deploy.package_file import PackageFile
from sdv_studio.gui.state import Step
from tests.gui.helpers import configure_plain_app, go_to


def test_vss_and_fallback_changed_after_the_build_reach_the_engine(window, qtbot, engines) -> None:  # type: ignore[no-untyped-def]
    configure_plain_app(window)
    go_to(window, qtbot, Step.KUKSA)  # "This computer" is the target
    built = window.ctx.state.app_package
    assert built.manifest["kuksaConfig"]["vssVersion"] == "4.0"
    assert built.manifest["kuksaConfig"]["fallbackBroker"] is True
    kuksa = window.page(Step.KUKSA)
    assert kuksa.fallback.isEnabled()
    kuksa.vss.setCurrentText("6.0")
    kuksa.fallback.setChecked(False)

    go_to(window, qtbot, Step.DEPLOY)
    deploy = window.page(Step.DEPLOY)
    qtbot.waitUntil(deploy.is_complete, timeout=60_000)
    assert window.ctx.state.deployment_results["local"].status == "success"
    # What the engine was given is what it wires the devices from (core.deploy reads kuksaConfig).
    given = PackageFile(engines.deployer.packages[-1]).manifest["kuksaConfig"]
    assert given["vssVersion"] == "6.0" and given["fallbackBroker"] is False
    assert window.ctx.state.app_package.stored.package_id != built.stored.package_id
    assert "packaging again for the Kuksa step's choices: VSS 6.0, fallback databroker off" in deploy.log.toPlainText()

    # Back on Configure the same choices show, so going forward again keeps them.
    while window.ctx.state.current_step is not Step.CONFIGURE:
        qtbot.waitUntil(window.back_btn.isEnabled, timeout=5000)
        window.back_btn.click()
    configure = window.page(Step.CONFIGURE)
    assert configure.vss.currentText() == "6.0" and not configure.fallback.isChecked()


def test_unchanged_choices_deploy_the_built_package(window, qtbot, engines) -> None:  # type: ignore[no-untyped-def]
    configure_plain_app(window)
    go_to(window, qtbot, Step.DEPLOY)
    deploy = window.page(Step.DEPLOY)
    qtbot.waitUntil(deploy.is_complete, timeout=60_000)
    assert engines.deployer.packages == [window.ctx.state.app_package.path]
    assert "packaging again" not in deploy.log.toPlainText()
