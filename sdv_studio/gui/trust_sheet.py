"""One sheet to review and trust the new host keys of many devices at once (a bench, not one board).

Only keys never seen before are offered: a *changed* key is refused by the engine and never reaches
here. Shown with ``dialogs.ask`` (``open()`` + ``finished``), like every question the app asks.
"""

from __future__ import annotations

from sdv_studio.gui import dialogs, theme
from sdv_studio.gui.adapters.discovery import Device
from sdv_studio.gui.qt import Qt, QtGui, QtWidgets
from sdv_studio.gui.widgets.common import cell

COLUMNS = ("Device", "Address", "Key type", "SHA256 fingerprint")


class TrustSheet(QtWidgets.QDialog):
    def __init__(self, devices: list[Device], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.devices = list(devices)
        self.setWindowTitle("Trust new devices")
        self.setMinimumWidth(820)
        col = QtWidgets.QVBoxLayout(self)
        col.setContentsMargins(22, 20, 22, 16)
        col.setSpacing(12)
        count = len(self.devices)
        dialogs.header(col, "key", f"{count} device{'s' if count != 1 else ''} present{'s' if count == 1 else ''} "
                       "a host key SDV Studio has not seen before.", theme.current().warn)
        how = QtWidgets.QLabel(
            "Tick the devices whose fingerprint matches the one the device itself shows. On each device run"
            "<br>&nbsp;&nbsp;<code>ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub</code><br>"
            "(for another key type, the matching <code>/etc/ssh/ssh_host_*_key.pub</code>) and compare the text "
            "after <code>SHA256:</code>. A key that <i>changed</i> is never offered here.")
        how.setWordWrap(True)
        col.addWidget(how)
        self.table = QtWidgets.QTableWidget(count, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Host keys to trust")
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        mono = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        for row, device in enumerate(self.devices):
            where = device.ip if device.port == 22 else f"[{device.ip}]:{device.port}"
            for column, text in enumerate((device.name, where, device.key_type, device.fingerprint)):
                item = QtWidgets.QTableWidgetItem(text)
                if column == 0:
                    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                    item.setCheckState(Qt.CheckState.Checked)
                if column == 3:
                    item.setFont(mono)
                self.table.setItem(row, column, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        # As tall as its rows (up to eight; more scroll), so the sheet has no empty band.
        self.table.resizeRowsToContents()
        shown = sum(self.table.rowHeight(r) for r in range(min(8, count)))
        self.table.setFixedHeight(shown + self.table.horizontalHeader().sizeHint().height() + 4)
        col.addWidget(self.table)
        box = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                         | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.accept_btn = box.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        self.accept_btn.setProperty("primary", True)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        col.addWidget(box)
        box.button(QtWidgets.QDialogButtonBox.StandardButton.Cancel).setFocus()  # safe default
        self.table.itemChanged.connect(lambda _item: self._update_button())
        self._update_button()

    def set_checked(self, device_id: str, checked: bool) -> None:
        row = next(i for i, d in enumerate(self.devices) if d.id == device_id)
        cell(self.table, row, 0).setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def chosen(self) -> list[Device]:
        return [d for row, d in enumerate(self.devices)
                if cell(self.table, row, 0).checkState() == Qt.CheckState.Checked]

    def _update_button(self) -> None:
        n = len(self.chosen())
        self.accept_btn.setText(f"Trust and connect to {n}" if n else "Trust and connect")
        self.accept_btn.setEnabled(n > 0)
