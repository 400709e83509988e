"""Start the desktop app: a QApplication driven by qasync's event loop."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_API", "pyside6")  # qasync picks its Qt binding from this

from PySide6.QtWidgets import QApplication, QLabel, QMainWindow


def run_app() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    window = QMainWindow()
    window.setWindowTitle("SDV Studio")
    window.setCentralWidget(QLabel("SDV Studio"))
    window.resize(1100, 720)
    window.show()
    return app.exec()
