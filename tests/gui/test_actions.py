"""Smaller actions: dropping a file on the editor; Kuksa's Test connection against a real databroker on
this computer (a device's loopback broker, through SSH: test_rig_devices.py). Complete's actions run on
This computer in test_local_engines.py and on rig devices in test_rig_complete.py."""

from __future__ import annotations

from pathlib import Path

from sdv_studio import __version__
from sdv_studio.broker.service_base import SERVER_NAME
from sdv_studio.gui.qt import QtCore
from sdv_studio.gui.state import Step
from tests.broker.helpers import broker_process
from tests.gui.helpers import configure_plain_app, go_to


def test_dropping_a_file_on_the_editor_opens_it(window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = window.page(Step.CONFIGURE)
    app = tmp_path / "door_welcome.py"
    app.write_text("print('welcome')\n")
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(app))])
    page.editor.insertFromMimeData(mime)
    assert page.editor.toPlainText() == "print('welcome')\n"
    assert page.name.text() == "door-welcome"


def test_test_connection_asks_the_databroker_at_the_address(window, qtbot, engines) -> None:  # type: ignore[no-untyped-def]
    from sdv_studio.gui.adapters.brokers import CoreBrokers
    from sdv_studio.gui.adapters.discovery import Approvals

    engines.brokers = CoreBrokers(Approvals())  # the real detection, on this computer's loopback
    configure_plain_app(window)
    go_to(window, qtbot, Step.KUKSA)
    kuksa = window.page(Step.KUKSA)
    qtbot.waitUntil(lambda: not kuksa.busy(), timeout=30_000)
    with broker_process() as broker:
        address = f"127.0.0.1:{broker['port']}"
        kuksa.custom.setText(address)
        testing = kuksa.test_connection()
        qtbot.waitUntil(testing.done, timeout=30_000)
        assert kuksa.banner.property("kind") == "ok", kuksa.banner.text()
        assert kuksa.banner.text().startswith(f"Connected to {SERVER_NAME} {__version__} at {address} in ")
        assert "kuksa.val.v2" in kuksa.banner.text()
    testing = kuksa.test_connection()  # the broker has stopped: nothing there any more
    qtbot.waitUntil(testing.done, timeout=30_000)
    assert (kuksa.banner.property("kind"), kuksa.banner.text()) == ("error", f"Nothing answers at {address}.")
    go_to(window, qtbot, Step.DEPLOY)
    assert window.ctx.state.broker_address() == address
