"""Strong references to every running coroutine, and a cancel-then-await-all for closing.

asyncio keeps only weak references to tasks; a task nobody holds can vanish mid-flight.
Work in a window of its own (a log followed, a monitor) runs in the background: it can last for
hours and never makes the wizard busy (a hand-off waits only for wizard work).
A task's failure goes to the page's ``on_error`` as the page can show it: an expected one as
raised, anything else logged with its traceback first and handed on as ``failures.Unexpected``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from sdv_studio.gui.failures import Unexpected, expected

log = logging.getLogger(__name__)


class RunningTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._background: set[asyncio.Task[Any]] = set()
        self._on_idle: list[Callable[[], None]] = []

    def when_idle(self, callback: Callable[[], None]) -> None:
        """Calls ``callback`` each time the last running task (not counting background ones) has ended."""
        self._on_idle.append(callback)

    def start(self, coro: Coroutine[Any, Any, Any], on_error: Callable[[BaseException], None] | None = None,
              name: str | None = None, background: bool = False) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        if name:
            task.set_name(name)
        self._tasks.add(task)
        if background:
            self._background.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if t in self._background:
                self._background.discard(t)
            elif not self.busy:
                for callback in self._on_idle:
                    callback()
            if t.cancelled():
                return
            exc = t.exception()
            if exc is None:
                return
            if expected(exc):
                if on_error is not None:
                    on_error(exc)
                else:
                    log.warning("background task %s failed: %s", t.get_name(), exc)
                return
            log.error("background task %s failed", t.get_name(), exc_info=exc)
            if on_error is not None:
                on_error(Unexpected(exc))

        task.add_done_callback(done)
        return task

    @property
    def busy(self) -> bool:
        """Whether wizard work runs (background tasks aside)."""
        return len(self._tasks) > len(self._background)

    def __len__(self) -> int:
        return len(self._tasks)

    async def cancel_all(self, timeout: float = 3.0) -> None:
        """Cancels every task, then waits (bounded) for them to finish unwinding."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
