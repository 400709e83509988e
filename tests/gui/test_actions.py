"""Smaller actions: dropping a file on the editor, testing a broker, logs and roll back on Complete."""

from __future__ import annotations

from pathlib import Path

from sdv_studio.gui.log_window import LogWindow
from sdv_studio.gui.qt import QtCore, QtWidgets
from sdv_studio.gui.state import Step
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


def test_broker_test_connection_and_custom_address(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    configure_plain_app(window)
    go_to(window, qtbot, Step.KUKSA)
    kuksa = window.page(Step.KUKSA)
    qtbot.waitUntil(lambda: not kuksa.busy(), timeout=5000)
    kuksa.custom.setText("10.0.0.5:55555")
    kuksa.test_btn.click()
    qtbot.waitUntil(lambda: "Connected" in kuksa.banner.text(), timeout=3000)
    assert "10.0.0.5:55555" in kuksa.banner.text()
    go_to(window, qtbot, Step.DEPLOY)
    assert window.ctx.state.broker_address() == "10.0.0.5:55555"


def test_complete_logs_and_rollback(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    configure_plain_app(window)
    go_to(window, qtbot, Step.DEPLOY)
    qtbot.waitUntil(window.page(Step.DEPLOY).is_complete, timeout=10_000)
    go_to(window, qtbot, Step.COMPLETE)
    complete = window.page(Step.COMPLETE)
    complete.logs_btn.click()
    qtbot.waitUntil(lambda: any(isinstance(w, LogWindow) and w.isVisible()
                                for w in QtWidgets.QApplication.topLevelWidgets()), timeout=3000)
    log = next(w for w in QtWidgets.QApplication.topLevelWidgets() if isinstance(w, LogWindow) and w.isVisible())
    qtbot.waitUntil(lambda: "Light value" in log.text.toPlainText(), timeout=3000)
    log.close()
    complete.rollback_btn.click()
    qtbot.waitUntil(lambda: "back on" in complete.banner.text(), timeout=3000)
    assert "0.9.0" in complete.banner.text()
