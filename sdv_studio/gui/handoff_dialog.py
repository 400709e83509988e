"""The question a hand-off asks before anything in the window changes: who sends which prototype,
and for a multi-file prototype, which files (each one's text a click away)."""

from __future__ import annotations

from collections.abc import Mapping

from sdv_studio.core.handoff.request import Handoff
from sdv_studio.gui import theme
from sdv_studio.gui.dialogs import header
from sdv_studio.gui.qt import Qt, QtGui, QtWidgets

PREVIEW_LINES = 12
SHOWN_PROBLEMS = 3


class HandoffDialog(QtWidgets.QDialog):
    """Open the prototype at Configure, or ignore it; Ignore is the default. Shown with ``open()``."""

    def __init__(self, handoff: Handoff, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.handoff = handoff
        self.setWindowTitle("Open in SDV Studio?")
        self.setMinimumWidth(640 if handoff.files else 560)
        col = QtWidgets.QVBoxLayout(self)
        col.setContentsMargins(22, 20, 22, 16)
        col.setSpacing(12)
        header(col, "link", f"{handoff.origin} wants to open “{handoff.name}”", theme.current().accent)
        self.message = QtWidgets.QLabel(
            f"The prototype “{handoff.name}” ({self._size()}) from {handoff.origin} replaces the app at "
            "Configure. Nothing is built or deployed until you go on from there.")
        self.message.setWordWrap(True)
        col.addWidget(self.message)
        self.preview = QtWidgets.QPlainTextEdit()
        self.preview.setReadOnly(True)
        self.preview.setAccessibleName("Code preview")
        self.preview.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont))
        self.preview.setMaximumHeight(220)
        self.file_list: QtWidgets.QListWidget | None = None
        if handoff.files:
            col.addLayout(self._tree_row(handoff.files, handoff.entry))
        else:
            self._show(handoff.code)
            col.addWidget(self.preview)
        problems = handoff.syntax_problems()
        if problems:
            more = len(problems) - SHOWN_PROBLEMS
            warning = QtWidgets.QLabel("\n".join(problems[:SHOWN_PROBLEMS] + ([f"and {more} more"] if more > 0 else []))
                                       + "\n(the entry point's error is shown at its line in the editor)")
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

    def _size(self) -> str:
        if not self.handoff.files:
            return f"{self.handoff.code.count(chr(10)) + 1} lines of Python"
        return f"{len(self.handoff.files)} files"

    def _tree_row(self, files: Mapping[str, str], entry: str | None) -> QtWidgets.QHBoxLayout:
        """The files on the left (the entry point first, in bold), the chosen one's text on the right."""
        listing = QtWidgets.QListWidget()
        listing.setAccessibleName("Files")
        for path in sorted(files, key=lambda p: (p != entry, p)):
            lines = files[path].count("\n") + 1
            role = "  ·  entry point" if path == entry else ""
            item = QtWidgets.QListWidgetItem(f"{path}  ·  {lines} lines{role}")
            item.setData(Qt.ItemDataRole.UserRole, path)
            if path == entry:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            listing.addItem(item)
        listing.setMaximumHeight(220)
        path_of = Qt.ItemDataRole.UserRole
        listing.currentRowChanged.connect(lambda row: self._show(files[listing.item(row).data(path_of)]))
        listing.setCurrentRow(0)
        self.file_list = listing
        row = QtWidgets.QHBoxLayout()
        row.setSpacing(12)
        row.addWidget(listing, 2)
        row.addWidget(self.preview, 3)
        return row

    def _show(self, text: str) -> None:
        self.preview.setPlainText("\n".join(text.splitlines()[:PREVIEW_LINES]))
