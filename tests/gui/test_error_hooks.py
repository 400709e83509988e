"""What nobody caught, in a Qt slot, an event loop callback or a thread, is logged with its traceback and
shown; the app's start installs the hooks (a real start, in a process of its own)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdv_studio.core.inventory import InventoryUnreadable
from sdv_studio.gui import error_hooks
from sdv_studio.gui.qt import QtCore

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def hooks(qt_loop, monkeypatch: pytest.MonkeyPatch) -> Iterator[error_hooks.ErrorHooks]:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # put back after the test
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    installed = error_hooks.install(qt_loop)
    yield installed
    qt_loop.set_exception_handler(None)
    installed.notice.box.close()


def _raise_bug() -> None:
    raise KeyError("raised in a slot")


def test_a_bug_in_a_qt_slot_is_logged_and_named_with_the_log_file(hooks: error_hooks.ErrorHooks, qtbot,  # type: ignore[no-untyped-def]
                                                                  log_file: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    QtCore.QTimer.singleShot(0, _raise_bug)
    qtbot.waitUntil(hooks.notice.box.isVisible, timeout=5000)
    assert hooks.notice.box.text() == f"Unexpected error (KeyError: 'raised in a slot'); the details are in {log_file}"
    logged = log_file.read_text()
    assert "uncaught exception" in logged and "in _raise_bug" in logged and "KeyError: 'raised in a slot'" in logged
    caplog.clear()  # this test's own error


def test_an_expected_failure_in_a_loop_callback_shows_its_lines(hooks: error_hooks.ErrorHooks, qt_loop, qtbot,  # type: ignore[no-untyped-def]
                                                                log_file: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    def refuse() -> None:
        raise InventoryUnreadable("devices.json: cannot be read (Permission denied)")

    qt_loop.call_soon(refuse)
    qtbot.waitUntil(hooks.notice.box.isVisible, timeout=5000)
    assert hooks.notice.box.text() == "devices.json: cannot be read (Permission denied)"
    assert "Traceback" in log_file.read_text() and "in refuse" in log_file.read_text()
    caplog.clear()


def test_a_bug_that_ends_a_thread_is_logged(hooks: error_hooks.ErrorHooks, log_file: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    worker = threading.Thread(target=_raise_bug, name="sdv-worker")
    worker.start()
    worker.join()
    logged = log_file.read_text()
    assert "uncaught exception in sdv-worker" in logged and "KeyError: 'raised in a slot'" in logged
    assert not hooks.notice.box.isVisible()  # a window is shown from the GUI thread only
    caplog.clear()


APP_START = """
import sys
from sdv_studio.gui import app as gui_app
from sdv_studio.gui.qt import QtCore, QtWidgets

def bug():
    raise KeyError("raised in a slot")

waited = []

def report_and_close():
    # Polled, not timed: on a loaded machine the notice may come after any fixed delay.
    boxes = [w for w in QtWidgets.QApplication.topLevelWidgets()
             if isinstance(w, QtWidgets.QMessageBox) and w.isVisible()]
    waited.append(1)
    if not boxes and len(waited) < 300:
        QtCore.QTimer.singleShot(100, report_and_close)
        return
    print("hook:", getattr(sys.excepthook, "__qualname__", sys.excepthook))
    print("notice:", boxes[0].text() if boxes else "none", flush=True)
    QtWidgets.QApplication.closeAllWindows()

gui_app.create_app()
QtCore.QTimer.singleShot(200, bug)
QtCore.QTimer.singleShot(300, report_and_close)
sys.exit(gui_app.run_app())
"""


def test_the_app_start_logs_to_a_file_and_installs_the_hooks(tmp_path: Path) -> None:
    env = dict(os.environ, SDV_STUDIO_HOME=str(tmp_path / "home"), XDG_CONFIG_HOME=str(tmp_path / "xdg"),
               QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-c", APP_START], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    log = tmp_path / "home" / "logs" / "sdv-studio.log"
    assert f"notice: Unexpected error (KeyError: 'raised in a slot'); the details are in {log}" in done.stdout
    assert "hook: ErrorHooks.on_exception" in done.stdout
    logged = log.read_text()
    assert "uncaught exception" in logged and "in bug" in logged and "KeyError: 'raised in a slot'" in logged
