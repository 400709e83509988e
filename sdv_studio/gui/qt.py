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


def _keep_true_alive() -> None:
    """PySide6 6.12.0's ``SignalInstance.emit()`` returns True without a reference of its own, so every
    emit from Python takes one of True's. Python 3.12+ never frees True; on 3.11 its count reaches zero
    after a few thousand emits (pyqtgraph emits several per redraw) and the interpreter aborts
    ("bool_dealloc: deallocating True or False"). Measured, not assumed: only a binding that takes
    the reference gets True's count raised beyond what any session can use up."""
    if sys.version_info >= (3, 12):
        return
    probe = _Probe()
    before = sys.getrefcount(True)
    probe.ping.emit()
    if sys.getrefcount(True) < before:
        ctypes.c_ssize_t.from_address(id(True)).value += 1 << 48


_keep_true_alive()
