"""The binding's quirks that sdv_studio.gui.qt works around."""

from __future__ import annotations

import sys

from sdv_studio.gui.qt import _Probe


def test_signals_emitted_from_python_do_not_use_up_true() -> None:
    # PySide6 6.12.0 takes one of True's references per emit: on Python 3.11, some 600 emits into a
    # session the interpreter would abort here (pyqtgraph emits several per redraw of the Monitor view).
    probe = _Probe()
    for _ in range(50_000):
        probe.ping.emit()
    assert sys.getrefcount(True) > 1000
