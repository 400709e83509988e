"""The questions the app asks: a password, a device's address, whether to go ahead.

Every dialog is shown with ``open()`` and awaited through its ``finished`` signal (``ask``):
a modal ``exec()`` inside a coroutine would start a nested event loop under qasync.
"""

from __future__ import annotations

import asyncio

from sdv_studio.gui import icons, theme
from sdv_studio.gui.qt import Qt, QtWidgets
from sdv_studio.gui.widgets.common import Field, set_invalid


async def ask(dialog: QtWidgets.QDialog) -> bool:
    """Shows ``dialog`` window-modal and waits for the answer without blocking the loop."""
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def done(result: int) -> None:
        if not future.done():
            future.set_result(result)

    dialog.finished.connect(done)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.open()
    try:
        return await future == QtWidgets.QDialog.DialogCode.Accepted
    finally:
        if dialog.isVisible():  # the asking task was cancelled
            dialog.reject()


def _buttons(dialog: QtWidgets.QDialog, ok: str) -> QtWidgets.QDialogButtonBox:
    box = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                     | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
    accept = box.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
    accept.setText(ok)
    accept.setProperty("primary", True)
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    return box


def header(layout: QtWidgets.QVBoxLayout, icon: str, title: str, color: str) -> None:
    row = QtWidgets.QHBoxLayout()
    row.setSpacing(12)
    badge = QtWidgets.QLabel()
    badge.setPixmap(icons.icon(icon, color).pixmap(32, 32))
    row.addWidget(badge, 0, Qt.AlignmentFlag.AlignTop)
    label = QtWidgets.QLabel(title)
    label.setObjectName("cardTitle")
    label.setWordWrap(True)
    row.addWidget(label, 1)
    layout.addLayout(row)


class PasswordDialog(QtWidgets.QDialog):
    def __init__(self, user: str, host: str, message: str = "", parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Password needed")
        self.setMinimumWidth(440)
        col = QtWidgets.QVBoxLayout(self)
        col.setContentsMargins(22, 20, 22, 16)
        col.setSpacing(12)
        header(col, "shield", f"Sign in to {user}@{host}", theme.current().accent)
        if message:
            note = QtWidgets.QLabel(message)
            note.setObjectName("muted")
            note.setWordWrap(True)
            col.addWidget(note)
        self.password = QtWidgets.QLineEdit()
        self.password.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        self.password.setPlaceholderText("Password")
        col.addWidget(self.password)
        self.remember = QtWidgets.QCheckBox("Remember in the system keyring")
        col.addWidget(self.remember)
        col.addWidget(_buttons(self, "Connect"))
        self.password.setFocus()


class DeviceDialog(QtWidgets.QDialog):
    """Add or edit a device by hand."""

    def __init__(self, address: str = "", user: str = "", port: int = 22, identity: str = "",
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit device" if address else "Add device")
        self.setMinimumWidth(460)
        col = QtWidgets.QVBoxLayout(self)
        col.setContentsMargins(22, 20, 22, 16)
        col.setSpacing(12)
        header(col, "devices", "A device reachable over SSH", theme.current().accent)
        form = QtWidgets.QFormLayout()
        form.setVerticalSpacing(8)
        self.address = QtWidgets.QLineEdit(address)
        self.address.setPlaceholderText("192.168.1.40 or jetson.local")
        self.address_field = Field(self.address)
        self.user = QtWidgets.QLineEdit(user)
        self.user.setPlaceholderText("sdv")
        self.port = QtWidgets.QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(port)
        self.identity = QtWidgets.QLineEdit(identity)
        self.identity.setPlaceholderText("~/.ssh/id_ed25519 (optional)")
        form.addRow("Address", self.address_field)
        form.addRow("User", self.user)
        form.addRow("Port", self.port)
        form.addRow("Key file", self.identity)
        col.addLayout(form)
        col.addWidget(_buttons(self, "Connect"))
        self.address.setFocus()

    def accept(self) -> None:
        if not self.address.text().strip():
            self.address_field.set_error("Enter an address or host name")
            set_invalid(self.address, True)
            return
        super().accept()


class ConfirmDialog(QtWidgets.QDialog):
    """Whether to go ahead with something that cannot be undone; Cancel is the default."""

    def __init__(self, title: str, text: str, ok: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(520)
        col = QtWidgets.QVBoxLayout(self)
        col.setContentsMargins(22, 20, 22, 16)
        col.setSpacing(12)
        header(col, "warning", title, theme.current().warn)
        note = QtWidgets.QLabel(text)
        note.setWordWrap(True)
        col.addWidget(note)
        box = _buttons(self, ok)
        col.addWidget(box)
        box.button(QtWidgets.QDialogButtonBox.StandardButton.Cancel).setFocus()
