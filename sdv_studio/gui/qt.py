"""The one place Qt is imported (qutebrowser style): swapping or pinning the binding is one file.

``QT_API`` is set before qasync is imported because qasync picks its binding from it at import time.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_API", "pyside6")

import qasync
from PySide6 import QtCore, QtGui, QtNetwork, QtSvg, QtWidgets
from PySide6.QtCore import Qt, Signal, Slot

__all__ = ["Qt", "QtCore", "QtGui", "QtNetwork", "QtSvg", "QtWidgets", "Signal", "Slot", "qasync"]
