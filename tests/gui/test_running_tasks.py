"""A task's failure reaches the page that started it; a bug's traceback reaches the log file first; whoever
waits for the window to be idle hears when the last task ends."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from sdv_studio.core.deploy.orchestrator import DeployError
from sdv_studio.gui.failures import Unexpected
from sdv_studio.gui.running_tasks import RunningTasks


async def _broken() -> None:
    await asyncio.sleep(0)
    {}["missing"]  # the bug under test


async def _refused() -> None:
    await asyncio.sleep(0)
    raise DeployError("d1: cannot connect (Connection refused); is the device on and SSH running?")


def test_a_bug_is_logged_with_its_traceback_then_handed_to_the_page(qt_loop, qtbot, log_file: Path,  # type: ignore[no-untyped-def]
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    shown: list[BaseException] = []
    RunningTasks().start(_broken(), shown.append, name="broken")
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    logged = log_file.read_text()
    assert "background task broken failed" in logged
    assert "Traceback (most recent call last)" in logged and "in _broken" in logged and "KeyError: 'missing'" in logged
    [exc] = shown
    assert isinstance(exc, Unexpected) and isinstance(exc.__cause__, KeyError)
    assert str(exc) == f"Unexpected error (KeyError: 'missing'); the details are in {log_file}"
    caplog.clear()  # this test's own error, not one the GUI tests' rule should catch


def test_an_expected_failure_goes_to_the_page_as_raised(qt_loop, qtbot, log_file: Path,  # type: ignore[no-untyped-def]
                                                        caplog: pytest.LogCaptureFixture) -> None:
    shown: list[BaseException] = []
    RunningTasks().start(_refused(), shown.append, name="deploy")
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    [exc] = shown
    assert isinstance(exc, DeployError) and exc.problems == [
        "d1: cannot connect (Connection refused); is the device on and SSH running?"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not log_file.exists() or "Traceback" not in log_file.read_text()


def test_without_a_page_to_show_it_a_bug_is_still_logged(qt_loop, qtbot, log_file: Path,  # type: ignore[no-untyped-def]
                                                         caplog: pytest.LogCaptureFixture) -> None:
    task = RunningTasks().start(_broken(), name="orphan")
    qtbot.waitUntil(task.done, timeout=5000)
    qtbot.waitUntil(lambda: log_file.exists() and "KeyError: 'missing'" in log_file.read_text(), timeout=5000)
    assert "background task orphan failed" in log_file.read_text()
    caplog.clear()


def test_idle_is_told_when_the_last_task_ends(qt_loop, qtbot) -> None:  # type: ignore[no-untyped-def]
    tasks = RunningTasks()
    idle: list[bool] = []
    tasks.when_idle(lambda: idle.append(tasks.busy))
    first, second = asyncio.Event(), asyncio.Event()
    tasks.start(first.wait())
    tasks.start(second.wait())
    first.set()
    qtbot.waitUntil(lambda: len(tasks) == 1, timeout=5000)
    assert idle == []  # one still runs
    second.set()
    qtbot.waitUntil(lambda: bool(idle), timeout=5000)
    assert idle == [False]


def test_background_work_never_makes_the_window_busy(qt_loop, qtbot) -> None:  # type: ignore[no-untyped-def]
    """A log followed for hours: wizard work ending is still idle, and closing still cancels it."""
    tasks = RunningTasks()
    idle: list[bool] = []
    tasks.when_idle(lambda: idle.append(tasks.busy))
    following, wizard = asyncio.Event(), asyncio.Event()
    log = tasks.start(following.wait(), background=True)
    assert not tasks.busy and len(tasks) == 1
    tasks.start(wizard.wait())
    assert tasks.busy
    wizard.set()
    qtbot.waitUntil(lambda: bool(idle), timeout=5000)
    assert idle == [False] and len(tasks) == 1
    closing = asyncio.ensure_future(tasks.cancel_all())
    qtbot.waitUntil(closing.done, timeout=5000)
    assert log.cancelled() and len(tasks) == 0 and idle == [False]  # a background task's end is no news
