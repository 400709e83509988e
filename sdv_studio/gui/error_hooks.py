"""The GUI's last line: an exception nobody caught is logged with its traceback, then shown.

``sys.excepthook`` receives what escapes a Qt slot, the event loop's exception handler what escapes
an asyncio callback or a task nobody awaited, ``threading.excepthook`` what ends a worker thread
(logged only: a window may be shown from the GUI thread alone). The message is ``failures.readable``:
an expected failure's own lines, or for a bug a short line naming the log file.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from sdv_studio.gui.failures import readable
from sdv_studio.gui.qt import QtWidgets

log = logging.getLogger(__name__)


class ErrorNotice:
    """One non-modal message box, reused: a failure that repeats (say, in every repaint) updates it
    instead of stacking windows, and nothing waits on it inside the event loop."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        self.box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning, "SDV Studio",
                                         "", QtWidgets.QMessageBox.StandardButton.Ok, parent)
        self.box.setModal(False)

    def show(self, text: str) -> None:
        self.box.setText(text)
        self.box.show()
        self.box.raise_()


@dataclass
class ErrorHooks:
    notice: ErrorNotice

    def on_exception(self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        log.error("uncaught exception", exc_info=(kind, exc, tb))
        self.notice.show(readable(exc))

    def on_loop_error(self, _loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        message = str(context.get("message") or "error in the event loop")
        log.error(message, exc_info=exc if isinstance(exc, BaseException) else None)
        self.notice.show(readable(exc) if isinstance(exc, BaseException) else message)

    @staticmethod
    def on_thread_exception(args: threading.ExceptHookArgs) -> None:
        if issubclass(args.exc_type, SystemExit):  # as threading's own hook: a thread may end itself so
            return
        name = args.thread.name if args.thread is not None else "a thread"
        log.error("uncaught exception in %s", name, exc_info=args.exc_value)


def install(loop: asyncio.AbstractEventLoop, parent: QtWidgets.QWidget | None = None) -> ErrorHooks:
    """Routes every uncaught exception of the app (Qt slots, the loop, threads) to the log and the user."""
    hooks = ErrorHooks(ErrorNotice(parent))
    sys.excepthook = hooks.on_exception
    threading.excepthook = hooks.on_thread_exception
    loop.set_exception_handler(hooks.on_loop_error)
    return hooks
