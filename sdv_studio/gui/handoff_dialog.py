"""The question a hand-off asks before anything in the window changes: who sends which prototype."""

from __future__ import annotations

from sdv_studio.core.handoff.request import Handoff
from sdv_studio.gui import theme
from sdv_studio.gui.dialogs import header
from sdv_studio.gui.qt import QtGui, QtWidgets

PREVIEW_LINES = 12


class HandoffDialog(QtWidgets.QDialog):
    """Open the prototype at Configure, or ignore it; Ignore is the default. Shown with ``open()``."""

    def __init__(self, handoff: Handoff, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.handoff = handoff
        self.setWindowTitle("Open in SDV Studio?")
        self.setMinimumWidth(560)
        col = QtWidgets.QVBoxLayout(self)
        col.setContentsMargins(22, 20, 22, 16)
        col.setSpacing(12)
        header(col, "link", f"{handoff.origin} wants to open “{handoff.name}”", theme.current().accent)
        lines = handoff.code.count("\n") + 1
        self.message = QtWidgets.QLabel(
            f"The prototype “{handoff.name}” ({lines} lines of Python) from {handoff.origin} replaces the app "
            "at Configure. Nothing is built or deployed until you go on from there.")
        self.message.setWordWrap(True)
        col.addWidget(self.message)
        preview = QtWidgets.QPlainTextEdit("\n".join(handoff.code.splitlines()[:PREVIEW_LINES]))
        preview.setReadOnly(True)
        preview.setAccessibleName("Code preview")
        preview.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont))
        preview.setMaximumHeight(220)
        col.addWidget(preview)
        problems = handoff.syntax_problems()
        if problems:
            warning = QtWidgets.QLabel(f"{problems[0]} (shown at its line in the editor)")
            warning.setObjectName("fieldError")
            warning.setWordWrap(True)
            col.addWidget(warning)
        box = QtWidgets.QDialogButtonBox()
        self.open_btn = box.addButton("Open at Configure", QtWidgets.QDialogButtonBox.ButtonRole.AcceptRole)
        self.open_btn.setProperty("primary", True)
        self.ignore_btn = box.addButton("Ignore", QtWidgets.QDialogButtonBox.ButtonRole.RejectRole)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        col.addWidget(box)
        self.ignore_btn.setDefault(True)
        self.ignore_btn.setFocus()
