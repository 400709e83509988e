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
        self.setMinimumWidth(760 if handoff.files else 560)
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
        self.preview.setLineWrapMode(QtWidgets.QPlainTextEdit.LineWrapMode.NoWrap)
        self.file_list: QtWidgets.QTreeWidget | None = None
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
        listing = QtWidgets.QTreeWidget()
        listing.setAccessibleName("Files")
        listing.setHeaderLabels(["File", "Lines", ""])
        listing.setRootIsDecorated(False)
        listing.headerItem().setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        listing.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for path in sorted(files, key=lambda p: (p != entry, p)):
            item = QtWidgets.QTreeWidgetItem([path, str(files[path].count("\n") + 1),
                                              "entry point" if path == entry else ""])
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setData(0, Qt.ItemDataRole.UserRole, path)
            if path == entry:
                font = item.font(0)
                font.setBold(True)
                item.setFont(0, font)
            listing.addTopLevelItem(item)
        listing.header().setStretchLastSection(False)
        for column in range(3):
            listing.resizeColumnToContents(column)
        listing.setFixedWidth(sum(listing.columnWidth(c) for c in range(3)) + 2 * listing.frameWidth()
                                + listing.verticalScrollBar().sizeHint().width())
        listing.setMaximumHeight(220)
        path_of = Qt.ItemDataRole.UserRole
        listing.currentItemChanged.connect(lambda item, _previous: self._show(files[item.data(0, path_of)]))
        listing.setCurrentIndex(listing.model().index(0, 0))
        self.file_list = listing
        row = QtWidgets.QHBoxLayout()
        row.setSpacing(12)
        row.addWidget(listing)
        row.addWidget(self.preview, 1)
        return row

    def _show(self, text: str) -> None:
        self.preview.setPlainText("\n".join(text.splitlines()[:PREVIEW_LINES]))
