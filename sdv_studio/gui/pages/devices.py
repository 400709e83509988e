"""Step 3: find devices (mDNS, sweep, SSH probe) and pick the targets; "This computer" is always there."""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

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
from sdv_studio.gui.context import Context
from sdv_studio.gui.pages.base import Page
from sdv_studio.gui.qt import Qt, QtCore, QtGui, QtWidgets
from sdv_studio.gui.settings import DEVICES_SELECTED, Settings
from sdv_studio.gui.trust_sheet import TrustSheet
from sdv_studio.gui.widgets.coalesce import Coalescer
from sdv_studio.gui.widgets.common import Banner, Field, button, cell, read_only_table, shortcut

if TYPE_CHECKING:
    from sdv_studio.gui.monitor.window import MonitorWindow  # pyqtgraph: loaded when a Monitor opens

COLUMNS = ("Name", "Type", "IP", "Arch", "Runtime", "KUKSA", "Memory", "Storage", "Status", "Last seen")
STATUS = COLUMNS.index("Status")
_TYPES = {"jetson-orin": "Jetson Orin", "linux-generic": "Linux", "automotive-prototype": "Prototype ECU",
          "unknown": "Unknown"}


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def same_device(a: Device, b: Device) -> bool:
    """One row per device: the same address and SSH port; or, when one side was added by host name,
    the same host key (an address is not compared with a name; clones may share keys on a LAN)."""
    if a.identity_key() == b.identity_key():
        return True
    named = not (_is_ip(a.ip) and _is_ip(b.ip))
    return named and bool(a.fingerprint) and a.fingerprint == b.fingerprint and not (a.local or b.local)


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

    def __init__(self, ctx: Context, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.devices: dict[str, Device] = {}
        self._checked: set[str] = {LOCAL_ID}
        self._scan: asyncio.Task[None] | None = None
        self._scan_progress: ScanProgress | None = None  # the latest, not yet shown
        self._scan_seen: set[tuple[str, int]] = set()  # the devices this scan reported, by identity
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
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._row_menu)
        self.monitors: list[MonitorWindow] = []
        shortcut(QtGui.QKeySequence(Qt.Key.Key_Space), self.table, self._toggle_current,
                 Qt.ShortcutContext.WidgetShortcut)
        col.addWidget(self.table, 1)
        self.banner = Banner()
        col.addWidget(self.banner)
        # What the table's rows cannot do, kept in step with them (not a snapshot of the last scan).
        warn_row = QtWidgets.QHBoxLayout()
        self.warnings = Banner()
        warn_row.addWidget(self.warnings, 1)
        self.trust_btn = button("Trust…", "key", tip="Review and trust the new host keys of the selected "
                                "devices (or of all untrusted ones)")
        self.trust_btn.clicked.connect(lambda: self.trust_devices())
        warn_row.addWidget(self.trust_btn, 0, Qt.AlignmentFlag.AlignTop)
        col.addLayout(warn_row)
        self.summary = QtWidgets.QLabel()
        self.summary.setObjectName("muted")
        col.addWidget(self.summary)

        self.upsert(ctx.engines.discovery.this_computer())
        self._local_probe: asyncio.Task[None] | None = None
        self._entered = False
        self._defaults = ctx.engines.discovery.load_defaults()
        self.subnet.setText(self._defaults.subnet)
        self.user.setText(self._defaults.user)
        self.identity.setText(self._defaults.identity)
        keys = QtWidgets.QCompleter(ctx.engines.discovery.ssh_keys(), self.identity)
        keys.setCompletionMode(QtWidgets.QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.identity.setCompleter(keys)
        if keys.model().rowCount():
            self.identity.setToolTip(self.identity.toolTip() + "; press ↓ for your keys in ~/.ssh")
        self._set_scanning(False)

    # -- rows -----------------------------------------------------------------------------

    def row_of(self, device: Device) -> int | None:
        for row in range(self.table.rowCount()):
            if same_device(self.devices[self._id_at(row)], device):
                return row
        return None

    def _id_at(self, row: int) -> str:
        """The id of the device a row shows (kept in its first cell)."""
        return str(cell(self.table, row, 0).data(Qt.ItemDataRole.UserRole))

    def _row_with_id(self, device_id: str) -> int | None:
        return next((row for row in range(self.table.rowCount())
                     if self._id_at(row) == device_id), None)

    def upsert(self, device: Device) -> None:
        """Adds a device's row, or updates the row of the same device in place (it keeps its tick): the
        row with its id (a saved device edited to another address), else the row at its address."""
        row, at_address = self._row_with_id(device.id), self.row_of(device)
        if row is not None and at_address is not None and at_address != row:  # moved onto a listed address
            self._drop_row(at_address)
            if at_address < row:
                row -= 1
        row = at_address if row is None else row
        if row is None:
            row = self.table.rowCount()
            self.table.insertRow(row)
        else:
            old_id = self._id_at(row)
            if old_id != device.id:  # e.g. a scanned address saved to the inventory once trusted
                del self.devices[old_id]
                if old_id in self._checked:
                    self._checked.discard(old_id)
                    self._checked.add(device.id)
        self.devices[device.id] = device
        self.table.blockSignals(True)
        p = theme.current()
        usable = device.compatible and device.status == "online"
        status = "Ready" if usable else (device.reason or device.status.capitalize())
        if device.untrusted:
            status = "New host key"  # the panel below says what to do
        values = (device.name, _TYPES.get(device.type, device.type), device.ip, device.architecture,
                  device.runtime or "–", "Yes" if device.kuksa else "–", device.memory or "–",
                  device.storage or "–", status, "now" if device.local else _ago(device.last_seen))
        for col, value in enumerate(values):
            # The row's items are changed, not replaced: replacing costs the loop far more per cell
            # (six rows trusted at once stalled it 150 ms).
            item = self.table.item(row, col)
            if item is None:
                item = QtWidgets.QTableWidgetItem()
                self.table.setItem(row, col, item)
            item.setText(value)
            item.setToolTip(device.reason or f"{device.os} · Python {device.python}".strip(" ·") or value)
            item.setData(Qt.ItemDataRole.ForegroundRole, None if usable else QtGui.QColor(p.muted))
        first = cell(self.table, row, 0)
        first.setData(Qt.ItemDataRole.UserRole, device.id)
        first.setIcon(icons.icon("computer" if device.local else "devices", p.accent if usable else p.muted))
        flags = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
        if usable:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        first.setFlags(flags)
        first.setCheckState(Qt.CheckState.Checked if usable and device.id in self._checked
                            else Qt.CheckState.Unchecked)
        status_item = cell(self.table, row, STATUS)
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

    def rows(self) -> list[Device]:
        """The devices as the table lists them, top to bottom."""
        return [self.devices[self._id_at(r)] for r in range(self.table.rowCount())]

    def _update_summary(self) -> None:
        rows = self.rows()
        usable = sum(1 for d in rows if d.compatible and d.status == "online")
        self.summary.setText(f"{len(rows)} devices · {usable} compatible · {len(self.selected())} selected")
        self._explain_unusable(rows)
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

    def start_scan(self, saved_only: bool = False) -> None:
        """Scan (or only list and probe the saved devices); a scan running with older settings is replaced."""
        cidrs = self.cidrs()
        if cidrs is None:
            return
        if self._scan is not None and not self._scan.done():
            self._scan.cancel()
        self.banner.show_message("")
        if not saved_only:
            self.remember_fields()
        self._scan = self.track(self.ctx.run(self._run_scan(cidrs, saved_only), self._scan_failed, name="scan"))
        self._set_scanning(True, sweeping=not saved_only)

    def remember_fields(self) -> None:
        """Subnet, user and key file, for the next time (in SDV Studio's own config folder)."""
        self._defaults = replace(self._defaults, subnet=self.subnet.text().strip(), user=self.user.text().strip(),
                                 identity=self.identity.text().strip())
        self.ctx.engines.discovery.save_defaults(self._defaults)

    async def _run_scan(self, cidrs: list[str], saved_only: bool = False) -> None:
        self._scan_seen = set()
        engine = self.ctx.engines.discovery
        events = engine.saved(self._options()) if saved_only else engine.scan(cidrs, self._options())
        current = asyncio.current_task()
        try:
            async for event in events:
                if isinstance(event, ScanProgress):
                    self._scan_progress = event  # a sweep reports every address: shown a few times a second
                    self._progress_updates.request()
                elif isinstance(event, DeviceFound):  # first sight and every update after it
                    self._scan_seen.add(event.device.identity_key())
                    self.upsert(event.device)
            self._progress_updates.now()
            what = "Saved devices" if saved_only else "Scan finished"
            self.stage.setText(f"{what}: {len(self._scan_seen)} found")
        except asyncio.CancelledError:
            if current is self._scan:  # not replaced by a newer scan
                self._progress_updates.now()
                self.stage.setText(f"Scan stopped: {len(self._scan_seen)} found so far")
            raise
        finally:
            if current is self._scan:
                self._set_scanning(False)

    def _explain_unusable(self, rows: list[Device]) -> None:
        """The reasons in full (the Status column has room for only their start), as the rows are now."""
        unusable = [d for d in rows if not (d.compatible and d.status == "online") and d.reason != "Probing…"]
        untrusted = [d for d in unusable if d.untrusted]
        lines = [d.reason if d.reason.startswith((d.name, d.ip)) else f"{d.name}: {d.reason or d.status}"
                 for d in unusable if not d.untrusted]
        if untrusted:  # one line for them all: the sheet behind Trust… shows each fingerprint
            lines.append(f"New host key, not trusted yet: {', '.join(d.name for d in untrusted)}. "
                         "Compare the fingerprints with the devices' own: Trust… or double-click.")
        self.warnings.show_message("Not usable as a target:\n" + "\n".join(lines) if lines else "", "warn")
        self.trust_btn.setVisible(bool(untrusted))
        self.trust_btn.setText(f"Trust {len(untrusted)} device{'s' if len(untrusted) != 1 else ''}…")

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

    def _set_scanning(self, scanning: bool, sweeping: bool = True) -> None:
        # Scan stays enabled: pressed mid-scan (say, after fixing the user), it starts over with the new fields.
        self.cancel_btn.setEnabled(scanning)
        self.progress.setVisible(scanning)
        if scanning:
            self.progress.setRange(0, 0)
            self.stage.setText("Scanning…" if sweeping else "Checking saved devices…")
        self.completeChanged.emit()

    def _options(self) -> ProbeOptions:
        return ProbeOptions(user=self.user.text().strip(), identity=self.identity.text().strip())

    def _options_for(self, device: Device) -> ProbeOptions:
        """To probe ``device`` again: its own login where it has one, else the fields'."""
        return ProbeOptions(user=device.user or self.user.text().strip(), port=device.port,
                            identity=device.identity or self.identity.text().strip(),
                            device_id=device.id if device.saved else None)

    # -- adding by hand -------------------------------------------------------------------

    def add_device(self, device: Device | None = None) -> asyncio.Task[Device | None]:
        return self.ctx.run(self._add(device), lambda exc: self.banner.show_message(str(exc), "error"), name="add")

    def edit_selected(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            device = self.devices[self._id_at(row)]
            if not device.local:
                self.add_device(device)

    def _row_action(self, row: int) -> None:
        device = self.devices[self._id_at(row)]
        if device.local or (device.status == "online" and device.compatible):
            return
        if device.untrusted:
            self.trust_devices()  # the selection (this row among them), reviewed on one sheet
        elif "authentication" in device.reason.lower() or "sign-in" in device.reason.lower():
            self.ctx.run(self.probe_address(device.ip, self._options_for(device)),
                         lambda exc: self.banner.show_message(str(exc), "error"))
        else:
            self.add_device(device)

    def _row_menu(self, at: QtCore.QPoint) -> None:
        item = self.table.itemAt(at)
        if item is None:
            return
        device = self.devices[self._id_at(item.row())]
        menu = QtWidgets.QMenu(self)
        watch = menu.addAction(f"Monitor {device.name}", lambda: self.open_monitor(device))
        watch.setEnabled(device.status == "online" and not device.untrusted)
        edit = menu.addAction("Edit…", lambda: self.add_device(device))
        edit.setEnabled(not device.local)
        menu.popup(self.table.viewport().mapToGlobal(at))

    def open_monitor(self, device: Device) -> MonitorWindow:
        """The Monitor view of ``device``: the packaged app's figures and signals when there is one,
        else the device's own figures and whatever signals the user adds."""
        from sdv_studio.gui.monitor.window import open_monitor  # pyqtgraph and numpy load when first needed

        package = self.ctx.state.app_package
        window = open_monitor(self.ctx, [device], package.stored.name if package else None, self)
        self.monitors.append(window)
        window.finished.connect(lambda _r: self.monitors.remove(window))
        return window

    # -- trusting many at once ----------------------------------------------------------------

    def trust_devices(self) -> asyncio.Task[list[Device]]:
        """The sheet for the selected untrusted devices, else for every untrusted one."""
        selected_rows = {i.row() for i in self.table.selectedIndexes()}
        rows = self.rows()
        offered = [rows[r] for r in sorted(selected_rows) if rows[r].untrusted] or [d for d in rows if d.untrusted]
        return self.ctx.run(self._trust(offered), lambda exc: self.banner.show_message(str(exc), "error"),
                            name="trust")

    async def _trust(self, offered: list[Device]) -> list[Device]:
        if not offered:
            return []
        sheet = TrustSheet(offered, parent=self)
        if not await dialogs.ask(sheet):
            self.stage.setText("No host key trusted")
            return []
        chosen = sheet.chosen()
        engine = self.ctx.engines.discovery
        for device in chosen:
            await engine.trust_host_key(device.ip, device.port, device.key_type, device.fingerprint)
            self.upsert(replace(device, status="online", reason="Probing…"))
        self.stage.setText(f"Connecting to {len(chosen)} device{'s' if len(chosen) != 1 else ''}…")
        probed = await asyncio.gather(*(self._probe_trusted(d) for d in chosen))
        ready = [d for d in probed if d.compatible and d.status == "online"]
        self.stage.setText(f"Trusted {len(chosen)}: {len(ready)} ready")
        return probed

    async def _probe_trusted(self, device: Device) -> Device:
        """Probes one newly trusted device and fills its row, with the error it met if any."""
        try:
            found = await self.ctx.engines.discovery.probe(device.ip, self._options_for(device))
        except UnknownHostKey as q:  # it showed another key than the one reviewed: ask again, never assume
            found = replace(device, status="error", key_type=q.key_type, fingerprint=q.fingerprint,
                            reason=f"{device.ip}: the key changed since it was reviewed; review it again")
        except AuthenticationRequired:
            found = replace(device, status="error", key_type="",
                            reason=f"{device.ip}: sign-in refused; double-click to enter a password or a key file")
        except ChangedHostKey as exc:
            found = replace(device, status="error", key_type="", reason=str(exc))
        except (ConnectionError, OSError, ValueError) as exc:
            found = replace(device, status="error", key_type="", reason=str(exc) or type(exc).__name__)
        else:
            if found.compatible:
                self._checked.add(found.id)
        self.upsert(found)
        return found

    async def _add(self, device: Device | None) -> Device | None:
        dialog = dialogs.DeviceDialog(device.ip if device else "", device.user if device else self.user.text(),
                                      device.port if device else 22, self.identity.text(), parent=self)
        if not await dialogs.ask(dialog):
            return None
        address = dialog.address.text().strip()
        options = ProbeOptions(user=dialog.user.text().strip(), port=dialog.port.value(),
                               identity=dialog.identity.text().strip(),
                               device_id=device.id if device is not None and device.saved else None)
        self.stage.setText(f"Connecting to {address}…")
        found = await self.probe_address(address, options)
        if found is not None and device is not None and not same_device(found, device):
            self.remove(device)  # edited to another address: the same device, so still one row
        return found

    def remove(self, device: Device) -> None:
        row = self.row_of(device)
        if row is not None:
            self._drop_row(row)
            self._update_summary()

    def _drop_row(self, row: int) -> None:
        device_id = self._id_at(row)
        del self.devices[device_id]
        self._checked.discard(device_id)
        self.table.removeRow(row)

    async def probe_address(self, address: str, options: ProbeOptions) -> Device | None:
        """Probe, asking about an unknown host key and for a password when needed."""
        engine = self.ctx.engines.discovery
        for _attempt in range(3):
            try:
                device = await engine.probe(address, options)
            except UnknownHostKey as q:
                # The same sheet a scan's new devices are trusted on, with this one device on it.
                offered = Device(id=q.host, name=address, ip=q.host, port=q.port, status="error", compatible=False,
                                 key_type=q.key_type, fingerprint=q.fingerprint)
                if not await dialogs.ask(TrustSheet([offered], parent=self)):
                    self.stage.setText(f"{address}: host key not trusted")
                    return None
                await engine.trust_host_key(q.host, q.port, q.key_type, q.fingerprint)
                continue
            except AuthenticationRequired as q:
                login = dialogs.PasswordDialog(q.user or options.user, q.host, str(q), parent=self)
                if not await dialogs.ask(login):
                    self.stage.setText(f"{address}: not signed in")
                    return None
                options = replace(options, password=login.password.text(),
                                  remember_password=login.remember.isChecked())
                continue
            except ChangedHostKey as exc:
                self.banner.show_message(f"Refused: {exc}", "error")
                return None
            self._checked.add(device.id)
            self.upsert(device)
            self.stage.setText(f"Added {device.name}")
            return device
        return None

    # -- this computer ----------------------------------------------------------------------

    def probe_this_computer(self) -> None:
        """Probed like any device (a usable engine, a databroker on loopback, Python), once per entry."""
        if self._local_probe is None or self._local_probe.done():
            self._local_probe = self.track(self.ctx.run(self._probe_local(), self._local_failed, name="probe-local"))

    async def _probe_local(self) -> None:
        self.upsert(await self.ctx.engines.discovery.probe_local())

    def _local_failed(self, exc: BaseException) -> None:
        local = self.ctx.engines.discovery.this_computer()
        self.upsert(replace(local, status="error", reason=f"probing this computer failed: {exc}"))

    # -- wizard ---------------------------------------------------------------------------

    def initialize_page(self) -> None:
        self.probe_this_computer()
        if not self._entered:  # the first time: start useful, with what was found or saved before
            self._entered = True
            self.start_scan(saved_only=not self._defaults.scan_on_entry)

    def is_complete(self) -> bool:
        return bool(self.selected())

    def busy(self) -> bool:
        return self._scan is not None and not self._scan.done()

    def validate_page(self) -> bool:
        self.cancel_scan()
        self.remember_fields()
        self.ctx.state.selected_devices = self.selected()
        return bool(self.ctx.state.selected_devices)

    def save_settings(self, settings: Settings) -> None:
        self.remember_fields()
        settings.set(DEVICES_SELECTED, tuple(sorted(self._checked)))  # window state, not scan defaults

    def load_settings(self, settings: Settings) -> None:
        self._checked = set(settings.get(DEVICES_SELECTED))
        for device in list(self.devices.values()):
            self.upsert(device)


