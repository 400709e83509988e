"""GUI test fixtures: one qasync loop on pytest-qt's QApplication, a window on fake engines.

The loop is created "already running" so coroutines and Qt events advance together whenever
the test waits (qtbot.waitUntil / qtbot.wait process Qt events, which run the asyncio callbacks).
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdv_studio.gui.qt import QtCore, QtWidgets, qasync
from sdv_studio.gui.settings import Settings


@pytest.fixture(scope="session")
def _session_qt_loop(qapp: QtWidgets.QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    from sdv_studio.gui import theme
    from sdv_studio.gui.executor import DaemonExecutor

    theme.apply(qapp, dark=False)
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    executor = DaemonExecutor(workers=4)
    loop.set_default_executor(executor)
    loop.sdv_executor = executor  # type: ignore[attr-defined] - for tests that swap it and put it back
    yield loop
    executor.shutdown(wait=False)
    loop.set_default_executor(None)


@pytest.fixture
def qt_loop(_session_qt_loop: asyncio.AbstractEventLoop) -> Iterator[asyncio.AbstractEventLoop]:
    """The qasync loop, marked running in the main thread only while a GUI test uses it: left marked,
    it would make every later test's asyncio (and zeroconf's blocking API) think a loop runs there."""
    asyncio.events._set_running_loop(_session_qt_loop)
    try:
        yield _session_qt_loop
    finally:
        asyncio.events._set_running_loop(None)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(tmp_path / "settings.ini")


@pytest.fixture
def engines(tmp_path: Path):  # type: ignore[no-untyped-def]
    from tests.gui.fakes import fake_engines

    return fake_engines(tmp_path)


@pytest.fixture
def window(qtbot, qt_loop, engines, settings):  # type: ignore[no-untyped-def]
    from sdv_studio.gui.window import MainWindow

    win = MainWindow(engines, settings)
    win.show()
    qtbot.waitExposed(win)
    yield win
    # Closed here rather than by qtbot.addWidget, which would delete it before its tasks unwind.
    win.close()
    qtbot.waitUntil(lambda: not win.tasks.busy and not win.isVisible(), timeout=5000)
    win.deleteLater()


@pytest.fixture(autouse=True)
def _no_unexpected_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """qutebrowser's rule: a test that logs an error it did not expect fails."""
    yield
    errors = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR]
    assert not errors, "unexpected errors logged: " + "; ".join(r.getMessage() for r in errors)


@pytest.fixture(autouse=True)
def _qt_garbage_freed_on_the_gui_thread(qapp: QtWidgets.QApplication) -> Iterator[None]:
    """Cycles that hold Qt objects are freed here, on the GUI thread, after each test. Left to the
    cyclic collector they go whenever some thread allocates next (a deploy or probe thread of the
    next test), and PySide deleting a widget off its thread can crash the process."""
    yield
    gc.collect()
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)


@pytest.fixture
def log_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The desktop app's log file, in a home of the test's own; taken off the root logger after."""
    from sdv_studio import paths
    from sdv_studio.logging_setup import log_to_file

    monkeypatch.setenv("SDV_STUDIO_HOME", str(tmp_path / "home"))
    path = paths.log_file()
    log_to_file(path)
    yield path
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "baseFilename", None) == str(path)]:
        root.removeHandler(handler)
        handler.close()


@pytest.fixture
def own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of the test's own for a wizard run against the rig: no host key trusted yet (another
    test's trust sheet must not decide what this one's shows, nor what gets selected), with the test
    session's databroker signing key (the devices' databrokers keep running, tokens stay valid)."""
    from sdv_studio.core.deploy.security.tokens import key_path, workstation_key

    workstation_key()  # the session's, made now if no test has made it yet
    session_key = key_path()
    home = tmp_path / "own-home"
    (home / "config").mkdir(parents=True)
    (home / "config" / session_key.name).symlink_to(session_key)
    monkeypatch.setenv("SDV_STUDIO_HOME", str(home))
    return home
