"""The binding's quirks that sdv_studio.gui.qt works around."""

from __future__ import annotations

import sys

from sdv_studio.gui.qt import QtCore, _Probe


def test_calls_into_the_binding_do_not_use_up_none_or_true() -> None:
    # PySide6 6.12.0 takes one of None's references per void call and one of True's per emit: on
    # Python 3.11 the interpreter would abort here, some thousands of calls into a session (the
    # Monitor view makes hundreds a redraw).
    probe, timer = _Probe(), QtCore.QTimer()
    for _ in range(200_000):
        probe.ping.emit()
        timer.setInterval(5)
    assert sys.getrefcount(True) > 1000 and sys.getrefcount(None) > 1000
