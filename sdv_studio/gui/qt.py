"""The one place Qt is imported (qutebrowser style): swapping or pinning the binding is one file.

``QT_API`` is set before qasync is imported because qasync picks its binding from it at import time.
"""

from __future__ import annotations

import ctypes
import os
import sys

os.environ.setdefault("QT_API", "pyside6")

import qasync
from PySide6 import QtCore, QtGui, QtNetwork, QtSvg, QtWidgets
from PySide6.QtCore import Qt, Signal, Slot

__all__ = ["Qt", "QtCore", "QtGui", "QtNetwork", "QtSvg", "QtWidgets", "Signal", "Slot", "qasync"]


class _Probe(QtCore.QObject):
    ping = Signal()


def _keep_singletons_alive() -> None:
    """PySide6 6.12.0 returns None from every void method, and True from ``SignalInstance.emit()``,
    without a reference of its own: each such call takes one of theirs. Python 3.12+ never frees
    None, True or False; on 3.11 a count reaches zero after enough calls (a redraw of the Monitor view
    makes hundreds) and the interpreter aborts ("none_dealloc: deallocating None"). Measured, not
    assumed: a singleton the binding takes references of gets its count raised beyond what any
    session can use up."""
    if sys.version_info >= (3, 12):
        return
    probe = _Probe()
    calls = {None: lambda: probe.setObjectName("probe"), True: probe.ping.emit, False: probe.signalsBlocked}
    for singleton, call in calls.items():
        before = sys.getrefcount(singleton)
        for _ in range(8):
            call()
        if sys.getrefcount(singleton) < before:
            ctypes.c_ssize_t.from_address(id(singleton)).value += 1 << 48


_keep_singletons_alive()
