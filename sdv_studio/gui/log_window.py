"""One app's log on one device, following new lines until the window closes; search, copy and save.

Non-modal, so several stay open side by side beside the wizard. The lines come from an async stream
(the deploy engine's ``follow_logs``), consumed by a task this window owns and cancels when it closes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from sdv_studio.gui.adapters.discovery import Device
from sdv_studio.gui.qt import QtCore, QtGui, QtWidgets
from sdv_studio.gui.widgets.common import button

MAX_LINES = 20_000  # older lines drop off: a log followed for hours must not grow without bound


class LogWindow(QtWidgets.QDialog):
    def __init__(self, device: Device, app: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.device, self.app = device, app
        self.setWindowTitle(f"{app} on {device.name} — log")
        self.setModal(False)
        self.resize(780, 480)
        self._task: asyncio.Task[None] | None = None
        col = QtWidgets.QVBoxLayout(self)
        bar = QtWidgets.QHBoxLayout()
        self.search = QtWidgets.QLineEdit()
        self.search.setPlaceholderText("Search (Enter: next, Shift+Enter: previous)")
        self.search.setAccessibleName("Search the log")
        self.search.setClearButtonEnabled(True)
        self.search.returnPressed.connect(lambda: self.find_next(backward=bool(
            QtWidgets.QApplication.keyboardModifiers() & QtCore.Qt.KeyboardModifier.ShiftModifier)))
        bar.addWidget(self.search, 1)
        self.follow = QtWidgets.QCheckBox("Follow")
        self.follow.setChecked(True)
        self.follow.setToolTip("Keep the newest line in view as the app writes it")
        bar.addWidget(self.follow)
        self.copy_btn = button("Copy", "file", tip="Copy the selection, or the whole log")
        self.save_btn = button("Save…", "save", tip="Save the log to a file")
        bar.addWidget(self.copy_btn)
        bar.addWidget(self.save_btn)
        col.addLayout(bar)
        self.text = QtWidgets.QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(MAX_LINES)
        self.text.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont))
        self.text.setAccessibleName(f"Log of {app} on {device.name}")
        col.addWidget(self.text, 1)
        self.status = QtWidgets.QLabel("Connecting…")
        self.status.setObjectName("muted")
        col.addWidget(self.status)
        self.copy_btn.clicked.connect(self.copy)
        self.save_btn.clicked.connect(self.ask_save)

    def follow_stream(self, lines: Callable[[], AsyncIterator[str]],
                      run: Callable[..., asyncio.Task[None]]) -> None:
        """Starts reading ``lines()`` (through ``run``, the app's task starter); stops when closed."""
        self._task = run(self._read(lines()), self._failed, name=f"log-{self.device.id}", background=True)

    async def _read(self, lines: AsyncIterator[str]) -> None:
        self.status.setText(f"Following {self.app} on {self.device.name}")
        async for line in lines:
            self.append(line)
        self.status.setText("The log ended (the app stopped or the connection closed)")

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(f"Could not read the log: {exc}")

    def append(self, line: str) -> None:
        bar = self.text.verticalScrollBar()
        at_end = bar.value() == bar.maximum()
        self.text.appendPlainText(line)
        if self.follow.isChecked() and at_end:
            bar.setValue(bar.maximum())

    def find_next(self, backward: bool = False) -> bool:
        """Selects the next (or previous) match, wrapping around; False when there is none."""
        needle = self.search.text()
        if not needle:
            return False
        flags = QtGui.QTextDocument.FindFlag.FindBackward if backward else QtGui.QTextDocument.FindFlag(0)
        if self.text.find(needle, flags):
            self.follow.setChecked(False)  # stay on the match instead of jumping to new lines
            return True
        cursor = self.text.textCursor()
        cursor.movePosition(QtGui.QTextCursor.MoveOperation.End if backward else QtGui.QTextCursor.MoveOperation.Start)
        self.text.setTextCursor(cursor)
        found = self.text.find(needle, flags)
        if found:
            self.follow.setChecked(False)
        return found

    def copy(self) -> None:
        selected = self.text.textCursor().selectedText().replace("\u2029", "\n")
        QtWidgets.QApplication.clipboard().setText(selected or self.text.toPlainText())

    def ask_save(self) -> None:
        name = f"{self.app}-{self.device.name}.log".replace("/", "-").replace(" ", "-")
        dialog = QtWidgets.QFileDialog(self, "Save log", str(Path.home() / name), "Log files (*.log *.txt)")
        dialog.setAcceptMode(QtWidgets.QFileDialog.AcceptMode.AcceptSave)
        dialog.fileSelected.connect(lambda path: self.save(Path(path)))
        dialog.open()

    def save(self, path: Path) -> None:
        try:
            path.write_text(self.text.toPlainText() + "\n", encoding="utf-8")
        except OSError as exc:
            self.status.setText(f"Could not save {path}: {exc.strerror or exc}")
            return
        self.status.setText(f"Saved to {path}")

    def done(self, result: int) -> None:  # every way of closing a dialog ends here
        if self._task is not None:
            self._task.cancel()
        super().done(result)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        if self._task is not None:
            self._task.cancel()
        super().closeEvent(event)
