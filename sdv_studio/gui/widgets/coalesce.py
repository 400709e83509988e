"""Many updates, one repaint: engine events arrive in bursts, the screen needs them a few times a second."""

from __future__ import annotations

from collections.abc import Callable

from sdv_studio.gui.qt import QtCore

# Fast enough to look live, slow enough that a burst of events costs one table and log update.
INTERVAL_MS = 80


class Coalescer(QtCore.QObject):
    """Calls ``flush`` once, at most ``interval_ms`` after the first ``request()`` since the last flush."""

    def __init__(self, flush: Callable[[], None], parent: QtCore.QObject | None = None,
                 interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self._flush = flush
        self._timer = QtCore.QTimer(self, singleShot=True, interval=interval_ms)
        self._timer.timeout.connect(self._flush)

    def request(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def now(self) -> None:
        """Flush at once (a final state must not wait for the timer)."""
        self._timer.stop()
        self._flush()
