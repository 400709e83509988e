"""Step 3: find devices (mDNS, sweep, SSH probe) and pick the targets; "This computer" is always there."""

from __future__ import annotations

import asyncio
import ipaddress
from datetime import UTC, datetime

from sdv_studio.gui import dialogs, icons, theme
from sdv_studio.gui.adapters.discovery import (
    LOCAL_ID,
    AuthenticationRequired,
    ChangedHostKey,
    Device,
    DeviceFound,
    ProbeOptions,
    ScanProgress,
    UnknownHostKey,
)
from sdv_studio.gui.pages.base import Page
from sdv_studio.gui.qt import Qt, QtCore, QtGui, QtWidgets
from sdv_studio.gui.widgets.coalesce import Coalescer
from sdv_studio.gui.widgets.common import Banner, Field, button, read_only_table

COLUMNS = ("Name", "Type", "IP", "Arch", "Runtime", "KUKSA", "Memory", "Storage", "Status", "Last seen")
STATUS = COLUMNS.index("Status")
_TYPES = {"jetson-orin": "Jetson Orin", "linux-generic": "Linux", "automotive-prototype": "Prototype ECU",
          "unknown": "Unknown"}


def _ago(stamp: str) -> str:
    try:
        seen = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return stamp or "–"
    seconds = int((datetime.now(UTC) - seen).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return seen.astimezone().strftime("%H:%M")
    return seen.astimezone().strftime("%d %b")


class DevicesPage(Page):
    title = "Devices"
    subtitle = "Scan the bench network or add devices by hand, then tick the ones to deploy to."
    icon = "devices"

    def __init__(self, ctx, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(ctx, parent)
        self.devices: dict[str, Device] = {}
        self._checked: set[str] = {LOCAL_ID}
        self._scan: asyncio.Task[None] | None = None
        self._scan_progress: ScanProgress | None = None  # the latest, not yet shown
        self._progress_updates = Coalescer(self._show_progress, self)
        col = QtWidgets.QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(12)

        bar = QtWidgets.QHBoxLayout()
        bar.setSpacing(8)
        bar.addWidget(QtWidgets.QLabel("Subnet"))
        self.subnet = QtWidgets.QLineEdit()
        self.subnet.setPlaceholderText("e.g. 192.168.7.0/24 (empty: this computer's networks)")
        self.subnet.setAccessibleName("Subnet")
        self.subnet.setToolTip("Networks to sweep, comma separated")
        self.subnet_field = Field(self.subnet)
        self.subnet_field.setMinimumWidth(240)
        bar.addWidget(self.subnet_field, 2, Qt.AlignmentFlag.AlignTop)
        bar.addWidget(QtWidgets.QLabel("User"))
        self.user = QtWidgets.QLineEdit()
        self.user.setPlaceholderText("SSH user")
        self.user.setAccessibleName("SSH user")
        self.user.setMaximumWidth(130)
        bar.addWidget(self.user, 0, Qt.AlignmentFlag.AlignTop)
        self.identity = QtWidgets.QLineEdit()
        self.identity.setPlaceholderText("Key file")
        self.identity.setAccessibleName("SSH key file")
        self.identity.setToolTip("Private key to log in with; empty uses your usual SSH keys")
        self.identity.setMaximumWidth(160)
        bar.addWidget(self.identity, 0, Qt.AlignmentFlag.AlignTop)
        self.scan_btn = button("Scan", "refresh", primary=True, tip="Scan the network (F5)")
        self.scan_btn.setShortcut("F5")
        self.cancel_btn = button("Stop", "cancel", tip="Stop scanning (Esc)")
        self.cancel_btn.setShortcut("Esc")
        self.add_btn = button("Add device…", "add", tip="Add a device by address (Ctrl+N)")
        self.add_btn.setShortcut("Ctrl+N")
        self.edit_btn = button("Edit…", "edit", tip="Change the selected device's address or user")
        for w in (self.scan_btn, self.cancel_btn, self.add_btn, self.edit_btn):
            bar.addWidget(w, 0, Qt.AlignmentFlag.AlignTop)
        col.addLayout(bar)
        self.scan_btn.clicked.connect(self.start_scan)
        self.cancel_btn.clicked.connect(self.cancel_scan)
        self.add_btn.clicked.connect(lambda: self.add_device())
        self.edit_btn.clicked.connect(self.edit_selected)
        self.subnet.returnPressed.connect(self.start_scan)

        status = QtWidgets.QHBoxLayout()
        self.stage = QtWidgets.QLabel("")
        self.stage.setObjectName("muted")
        self.progress = QtWidgets.QProgressBar()
        self.progress.setFixedHeight(8)
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(260)
        status.addWidget(self.stage, 1)
        status.addWidget(self.progress)
        col.addLayout(status)

        self.table = read_only_table(COLUMNS, "Devices", row_height=38, stretch=STATUS)  # long reasons elide
        self.table.setIconSize(QtCore.QSize(18, 18))
        header = self.table.horizontalHeader()
        header.setMinimumSectionSize(60)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header.setHighlightSections(False)
        self.table.itemChanged.connect(self._item_changed)
        self.table.cellDoubleClicked.connect(lambda row, _c: self._row_action(row))
        QtGui.QShortcut(QtGui.QKeySequence(Qt.Key.Key_Space), self.table, activated=self._toggle_current,
                        context=Qt.ShortcutContext.WidgetShortcut)
        col.addWidget(self.table, 1)
        self.banner = Banner()
        col.addWidget(self.banner)
        self.summary = QtWidgets.QLabel()
        self.summary.setObjectName("muted")
        col.addWidget(self.summary)

        self.upsert(ctx.engines.discovery.this_computer())
        self._set_scanning(False)

    # -- rows -----------------------------------------------------------------------------

    def upsert(self, device: Device) -> None:
        """Adds or refreshes a device's row, keeping its tick."""
        self.devices[device.id] = device
        ids = [self.table.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in range(self.table.rowCount())]
        row = ids.index(device.id) if device.id in ids else self.table.rowCount()
        if row == self.table.rowCount():
            self.table.insertRow(row)
        self.table.blockSignals(True)
        p = theme.current()
        usable = device.compatible and device.status == "online"
        status = "Ready" if usable else (device.reason or device.status.capitalize())
        if device.status == "error" and "host key" in device.reason.lower():
            status = "Unknown host key · double-click to review"
        values = (device.name, _TYPES.get(device.type, device.type), device.ip, device.architecture,
                  device.runtime or "–", "Yes" if device.kuksa else "–", device.memory or "–",
                  device.storage or "–", status, "now" if device.local else _ago(device.last_seen))
        for col, value in enumerate(values):
            item = QtWidgets.QTableWidgetItem(value)
            item.setToolTip(device.reason or f"{device.os} · Python {device.python}".strip(" ·") or value)
            if not usable:
                item.setForeground(QtGui.QColor(p.muted))
            self.table.setItem(row, col, item)
        first = self.table.item(row, 0)
        first.setData(Qt.ItemDataRole.UserRole, device.id)
        first.setIcon(icons.icon("computer" if device.local else "devices", p.accent if usable else p.muted))
        flags = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
        if usable:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        first.setFlags(flags)
        first.setCheckState(Qt.CheckState.Checked if usable and device.id in self._checked
                            else Qt.CheckState.Unchecked)
        status_item = self.table.item(row, STATUS)
        status_item.setForeground(QtGui.QColor(p.ok if usable else (p.error if device.status == "error" else p.muted)))
        self.table.blockSignals(False)
        self._update_summary()

    def _item_changed(self, item: QtWidgets.QTableWidgetItem) -> None:
        if item.column() != 0:
            return
        dev_id = item.data(Qt.ItemDataRole.UserRole)
        if item.checkState() == Qt.CheckState.Checked:
            self._checked.add(dev_id)
        else:
            self._checked.discard(dev_id)
        self._update_summary()

    def _toggle_current(self) -> None:
        item = self.table.item(self.table.currentRow(), 0)
        if item is not None and item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
            item.setCheckState(Qt.CheckState.Unchecked if item.checkState() == Qt.CheckState.Checked
                               else Qt.CheckState.Checked)

    def selected(self) -> list[Device]:
        return [d for i, d in self.devices.items() if i in self._checked and d.compatible and d.status == "online"]

    def _update_summary(self) -> None:
        usable = sum(1 for d in self.devices.values() if d.compatible and d.status == "online")
        self.summary.setText(f"{len(self.devices)} devices · {usable} compatible · {len(self.selected())} selected")
        self.completeChanged.emit()

    # -- scanning -------------------------------------------------------------------------

    def cidrs(self) -> list[str] | None:
        """The subnets typed, or None (and the field marked) when one is not a network."""
        parts = [p.strip() for p in self.subnet.text().split(",") if p.strip()]
        for part in parts:
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                self.subnet_field.set_error(f"“{part}” is not a network like 192.168.7.0/24")
                return None
        self.subnet_field.set_error(None)
        return parts

    def start_scan(self) -> None:
        cidrs = self.cidrs()
        if cidrs is None or (self._scan is not None and not self._scan.done()):
            return
        self.banner.show_message("")
        self._scan = self.track(self.ctx.run(self._run_scan(cidrs), self._scan_failed, name="scan"))
        self._set_scanning(True)

    async def _run_scan(self, cidrs: list[str]) -> None:
        found = 0
        try:
            async for event in self.ctx.engines.discovery.scan(cidrs, self._options()):
                if isinstance(event, ScanProgress):
                    self._scan_progress = event  # a sweep reports every address: shown a few times a second
                    self._progress_updates.request()
                elif isinstance(event, DeviceFound):
                    found += 1
                    self.upsert(event.device)
            self._progress_updates.now()
            self.stage.setText(f"Scan finished: {found} found")
            self._explain_unusable()
        except asyncio.CancelledError:
            self._progress_updates.now()
            self.stage.setText(f"Scan stopped: {found} found so far")
            raise
        finally:
            self._set_scanning(False)

    def _explain_unusable(self) -> None:
        """The reasons in full: the Status column has room for only their start."""
        unusable = [d for d in self.devices.values() if not (d.compatible and d.status == "online")]
        if unusable:
            reasons = "\n".join(d.reason if d.reason.startswith(d.name) else f"{d.name}: {d.reason or d.status}"
                                for d in unusable)
            self.banner.show_message(f"Not usable as a target:\n{reasons}", "warn")

    def _show_progress(self) -> None:
        event, self._scan_progress = self._scan_progress, None
        if event is not None:
            self.progress.setRange(0, max(1, event.total))
            self.progress.setValue(event.done)
            self.stage.setText(event.stage)

    def _scan_failed(self, exc: BaseException) -> None:
        self.stage.setText("Scan failed")
        self.banner.show_message(str(exc), "error")
        self._set_scanning(False)

    def cancel_scan(self) -> None:
        if self._scan is not None:
            self._scan.cancel()

    def _set_scanning(self, scanning: bool) -> None:
        self.scan_btn.setEnabled(not scanning)
        self.cancel_btn.setEnabled(scanning)
        self.progress.setVisible(scanning)
        if scanning:
            self.progress.setRange(0, 0)
            self.stage.setText("Scanning…")
        self.completeChanged.emit()

    def _options(self, **extra: object) -> ProbeOptions:
        return ProbeOptions(user=self.user.text().strip(), identity=self.identity.text().strip(),
                            **extra)  # type: ignore[arg-type]

    # -- adding by hand -------------------------------------------------------------------

    def add_device(self, device: Device | None = None) -> asyncio.Task[Device | None]:
        return self.ctx.run(self._add(device), lambda exc: self.banner.show_message(str(exc), "error"), name="add")

    def edit_selected(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            device = self.devices[self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)]
            if not device.local:
                self.add_device(device)

    def _row_action(self, row: int) -> None:
        device = self.devices[self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)]
        if device.local or (device.status == "online" and device.compatible):
            return
        if device.status == "error" and "host key" in device.reason.lower():
            # Found by the scan but not trusted yet: ask about the key (and a password) right away.
            options = ProbeOptions(user=device.user or self.user.text().strip(), port=device.port,
                                   identity=self.identity.text().strip())
            self.ctx.run(self.connect(device.ip, options), lambda exc: self.banner.show_message(str(exc), "error"))
        else:
            self.add_device(device)

    async def _add(self, device: Device | None) -> Device | None:
        dialog = dialogs.DeviceDialog(device.ip if device else "", device.user if device else self.user.text(),
                                      device.port if device else 22, self.identity.text(), parent=self)
        if not await dialogs.ask(dialog):
            return None
        address = dialog.address.text().strip()
        options = ProbeOptions(user=dialog.user.text().strip(), port=dialog.port.value(),
                               identity=dialog.identity.text().strip())
        self.stage.setText(f"Connecting to {address}…")
        return await self.connect(address, options)

    async def connect(self, address: str, options: ProbeOptions) -> Device | None:
        """Probe, asking about an unknown host key and for a password when needed."""
        engine = self.ctx.engines.discovery
        for _attempt in range(3):
            try:
                device = await engine.probe(address, options)
            except UnknownHostKey as q:
                dialog = dialogs.HostKeyDialog(q.host, q.port, q.key_type, q.fingerprint, parent=self)
                if not await dialogs.ask(dialog):
                    self.stage.setText(f"{address}: host key not trusted")
                    return None
                await engine.trust_host_key(q.host, q.port, q.key_type, q.fingerprint)
                continue
            except AuthenticationRequired as q:
                dialog = dialogs.PasswordDialog(q.user or options.user, q.host, str(q), parent=self)
                if not await dialogs.ask(dialog):
                    self.stage.setText(f"{address}: not signed in")
                    return None
                options = ProbeOptions(user=options.user, port=options.port, identity=options.identity,
                                       password=dialog.password.text(), remember_password=dialog.remember.isChecked())
                continue
            except ChangedHostKey as exc:
                self.banner.show_message(f"Refused: {exc}", "error")
                return None
            self._checked.add(device.id)
            self.upsert(device)
            self.stage.setText(f"Added {device.name}")
            return device
        return None

    # -- wizard ---------------------------------------------------------------------------

    def is_complete(self) -> bool:
        return bool(self.selected())

    def busy(self) -> bool:
        return self._scan is not None and not self._scan.done()

    def validate_page(self) -> bool:
        self.cancel_scan()
        self.ctx.state.selected_devices = self.selected()
        return bool(self.ctx.state.selected_devices)

    def save_settings(self, settings: QtCore.QSettings) -> None:
        settings.setValue("devices/subnet", self.subnet.text())
        settings.setValue("devices/user", self.user.text())
        settings.setValue("devices/identity", self.identity.text())
        settings.setValue("devices/selected", sorted(self._checked))

    def load_settings(self, settings: QtCore.QSettings) -> None:
        self.subnet.setText(str(settings.value("devices/subnet", "")))
        self.user.setText(str(settings.value("devices/user", "")))
        self.identity.setText(str(settings.value("devices/identity", "")))
        chosen = settings.value("devices/selected", [LOCAL_ID])
        self._checked = set(chosen if isinstance(chosen, list) else [chosen]) if chosen else set()
        for device in list(self.devices.values()):
            self.upsert(device)


