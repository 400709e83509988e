"""Small building blocks the pages share."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sdv_studio.gui import icons, theme
from sdv_studio.gui.qt import Qt, QtGui, QtWidgets


def restyle(widget: QtWidgets.QWidget) -> None:
    """Re-evaluates QSS after a dynamic property change."""
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def set_invalid(widget: QtWidgets.QWidget, invalid: bool) -> None:
    if bool(widget.property("invalid")) != invalid:
        widget.setProperty("invalid", invalid)
        restyle(widget)


def shortcut(keys: QtGui.QKeySequence, parent: QtWidgets.QWidget, slot: Callable[[], object],
             context: Qt.ShortcutContext = Qt.ShortcutContext.WindowShortcut) -> QtGui.QShortcut:
    """``keys`` call ``slot`` while ``context`` has focus. Connected after construction: PySide6's
    constructor that takes the slot ignores ``context``, so a table's Space would fire window-wide."""
    made = QtGui.QShortcut(keys, parent, context=context)
    made.activated.connect(slot)
    return made


def button(text: str, icon: str = "", primary: bool = False, tip: str = "") -> QtWidgets.QPushButton:
    btn = QtWidgets.QPushButton(text)
    if icon:
        btn.setIcon(icons.icon(icon, theme.current().accent_text if primary else theme.current().muted))
    if primary:
        btn.setProperty("primary", True)
    if tip:
        btn.setToolTip(tip)
    return btn


class Card(QtWidgets.QFrame):
    """A titled panel."""

    def __init__(self, title: str = "", parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.body = QtWidgets.QVBoxLayout(self)
        self.body.setContentsMargins(16, 14, 16, 14)
        self.body.setSpacing(10)
        if title:
            label = QtWidgets.QLabel(title)
            label.setObjectName("cardTitle")
            self.body.addWidget(label)


class Banner(QtWidgets.QLabel):
    """One line of status: neutral, ok, warn or error."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_message(self, text: str, kind: str = "info") -> None:
        self.setText(text)
        self.setProperty("kind", kind)
        restyle(self)
        self.setVisible(bool(text))


class Stat(QtWidgets.QWidget):
    """A big value over a small caption (sizes, counts)."""

    def __init__(self, caption: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.value = QtWidgets.QLabel("–")
        self.value.setObjectName("statValue")
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label = QtWidgets.QLabel(caption.upper())
        label.setObjectName("statLabel")
        layout.addWidget(self.value)
        layout.addWidget(label)

    def set(self, text: str, tip: str = "") -> None:
        self.value.setText(text)
        self.value.setToolTip(tip)


class Field(QtWidgets.QWidget):
    """An input with its error message right under it (errors live on the field, not in a popup)."""

    def __init__(self, editor: QtWidgets.QWidget, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(editor)
        self.error = QtWidgets.QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)

    def set_error(self, message: str | None) -> None:
        set_invalid(self.editor, bool(message))
        self.error.setText(message or "")
        self.error.setVisible(bool(message))
        self.editor.setToolTip(message or "")

    def error_text(self) -> str:
        return self.error.text() if self.error.isVisibleTo(self) else ""


def read_only_table(columns: Sequence[str], name: str, *, row_height: int, stretch: int,
                    alternating: bool = True, single: bool = True) -> QtWidgets.QTableWidget:
    """A table of rows to select, not to edit: no grid, no row numbers, ``stretch`` takes the slack."""
    table = QtWidgets.QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.setAccessibleName(name)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(row_height)
    table.setShowGrid(False)
    table.setAlternatingRowColors(alternating)
    table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
    if single:
        table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
    header = table.horizontalHeader()
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)  # over the values
    header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QtWidgets.QHeaderView.ResizeMode.Stretch)
    return table


def cell(table: QtWidgets.QTableWidget, row: int, column: int) -> QtWidgets.QTableWidgetItem:
    """The item at (row, column) of a table whose rows are filled whole; an empty cell is a bug."""
    item = table.item(row, column)
    if item is None:
        raise LookupError(f"{table.accessibleName()} table: no item at row {row}, column {column}")
    return item
