"""What every wizard page shares (Picard's setup wizard shape: initialize, then validate)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from sdv_studio.gui.qt import QtWidgets, Signal

if TYPE_CHECKING:
    from sdv_studio.gui.context import Context
    from sdv_studio.gui.settings import Settings


class Page(QtWidgets.QWidget):
    title = ""
    subtitle = ""
    icon = ""
    next_label = "Next"

    completeChanged = Signal()

    def __init__(self, ctx: Context, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx

    def track(self, task: asyncio.Task[Any]) -> asyncio.Task[Any]:
        """Re-evaluates Back/Next once ``task`` has really finished (busy() looks at it)."""
        task.add_done_callback(lambda _t: self.completeChanged.emit())
        return task

    def initialize_page(self) -> None:
        """Called each time the page is entered going forward."""

    def validate_page(self) -> bool:
        """Called on Next; False keeps the user here (the page shows why)."""
        return True

    def is_complete(self) -> bool:
        """Whether Next is enabled."""
        return True

    def busy(self) -> bool:
        """Work in flight that leaving the page would cancel."""
        return False

    def reset(self) -> None:
        """Start over: forget this run's results (settings stay)."""

    def save_settings(self, settings: Settings) -> None:
        """Remember what the user chose (called once, on close)."""

    def load_settings(self, settings: Settings) -> None:
        """Restore what was remembered."""
