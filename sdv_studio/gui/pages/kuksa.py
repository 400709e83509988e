"""Step 4: which KUKSA databroker the app talks to: one detected on the targets, a custom one, or the fallback."""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Awaitable

from sdv_studio.core.defaults import DATABROKER_PORT
from sdv_studio.gui.adapters.brokers import DeviceUnreachable, KuksaBrokerInfo
from sdv_studio.gui.adapters.discovery import Device
from sdv_studio.gui.context import Context
from sdv_studio.gui.pages.base import Page
from sdv_studio.gui.pages.rollout import RolloutForm
from sdv_studio.gui.pages.schedule_form import ScheduleForm, package_catalogue
from sdv_studio.gui.qt import QtGui, QtWidgets
from sdv_studio.gui.settings import KUKSA_CUSTOM_BROKER, KUKSA_FALLBACK, Settings
from sdv_studio.gui.widgets.common import Banner, Card, Field, button, read_only_table

COLUMNS = ("Host", "Port", "Kind", "Server", "APIs", "VSS", "Latency", "Security")
_ADDRESS = re.compile(r"(?:[a-z+]+://)?(\[[0-9a-fA-F:]+\]|[\w.-]+):(\d{1,5})/?")


def parse_address(text: str) -> tuple[str, int] | None:
    match = _ADDRESS.fullmatch(text.strip())
    if not match or not 0 < int(match.group(2)) < 65536:
        return None
    return match.group(1).strip("[]"), int(match.group(2))


class KuksaPage(Page):
    title = "Kuksa"
    subtitle = "The databroker the app reads and writes vehicle signals through, and how the update runs."
    icon = "kuksa"
    next_label = "Deploy"

    def __init__(self, ctx: Context, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.brokers: list[KuksaBrokerInfo] = []
        self._detect: asyncio.Task[None] | None = None
        self._targets: tuple[tuple[str, int], ...] = ()  # the devices last probed, by identity
        self._found_on: dict[str, Device] = {}  # a broker's host → the device it was found on
        col = QtWidgets.QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(14)

        found = Card("Detected on the selected devices")
        bar = QtWidgets.QHBoxLayout()
        self.stage = QtWidgets.QLabel()
        self.stage.setObjectName("muted")
        self.stage.setWordWrap(True)
        bar.addWidget(self.stage, 1)
        self.detect_btn = button("Detect again", "refresh", tip="Probe the selected devices again (F5)")
        self.detect_btn.setShortcut("F5")
        self.test_btn = button("Test connection", "link", tip="Connect to the selected broker (or the address) now")
        self.use_btn = button("Use for every device", "kuksa",
                              tip="Wire the app on every device to the selected broker instead of its own")
        bar.addWidget(self.detect_btn)
        bar.addWidget(self.test_btn)
        bar.addWidget(self.use_btn)
        found.body.addLayout(bar)
        self.table = read_only_table(COLUMNS, "Detected brokers", row_height=36, stretch=4)
        found.body.addWidget(self.table, 1)
        col.addWidget(found, 1)
        self.detect_btn.clicked.connect(lambda: self.start_detect(force=True))
        self.test_btn.clicked.connect(self.test_connection)
        self.use_btn.clicked.connect(self.use_selected)
        self.table.itemSelectionChanged.connect(self._selection_changed)

        choose = Card("Connection")
        form = QtWidgets.QFormLayout()
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(10)
        self.custom = QtWidgets.QLineEdit()
        self.custom.setPlaceholderText("HOST:PORT, or empty")
        self.custom.setToolTip("The databroker every device's app is wired to; empty: each device uses its own")
        self.custom.setAccessibleName("Custom broker address")
        self.custom_field = Field(self.custom)
        self.custom.textChanged.connect(self._custom_changed)
        self.fallback = QtWidgets.QCheckBox("Start one where a device has none")
        self.fallback.setChecked(True)
        self.fallback.setToolTip("Changed after the build, the package is built again before deploying")
        self.vss = QtWidgets.QComboBox()
        self.vss.addItems(["4.0", "6.0"])
        self.vss.setMaximumWidth(120)
        self.vss.setToolTip("The VSS catalogue the app's vehicle model and the fallback databroker use; "
                            "changed after the build, the package is built again before deploying")
        form.addRow("Custom address", self.custom_field)
        bench = QtWidgets.QLabel("The embedded databroker runs in bench mode: an actuator's new target becomes "
                                 "its current value after 50 ms, as in the digital.auto playground, unless a "
                                 "provider claims it.")
        bench.setObjectName("muted")
        bench.setWordWrap(True)
        fallback = QtWidgets.QVBoxLayout()
        fallback.setSpacing(2)
        fallback.addWidget(self.fallback)
        fallback.addWidget(bench)
        form.addRow("Fallback", fallback)
        form.addRow("VSS version", self.vss)
        choose.body.addLayout(form)
        self.banner = Banner()
        choose.body.addWidget(self.banner)
        choose.body.addStretch()  # as tall as the cards beside it, its fields at the top
        bottom = QtWidgets.QHBoxLayout()
        bottom.setSpacing(14)
        bottom.addWidget(choose, 4)
        bottom.addWidget(self._update_card(), 3)
        bottom.addWidget(self._rollout_card(), 3)
        col.addLayout(bottom)

    def _update_card(self) -> Card:
        """How the update runs: chosen here, before Deploy starts it (the Deploy page only shows it)."""
        card = Card("Update")
        self.hot_swap = QtWidgets.QCheckBox("Hot swap")
        self.hot_swap_note = QtWidgets.QLabel()
        self.rollback = QtWidgets.QCheckBox("Roll back on failure")
        self.rollback.setChecked(True)
        rollback_note = QtWidgets.QLabel("A device whose new version fails its health check goes back to the "
                                         "version it ran before.")
        for box, note in ((self.hot_swap, self.hot_swap_note), (self.rollback, rollback_note)):
            note.setObjectName("muted")
            note.setWordWrap(True)
            pair = QtWidgets.QVBoxLayout()
            pair.setSpacing(2)  # as the fallback's box and note
            pair.addWidget(box)
            pair.addWidget(note)
            card.body.addLayout(pair)
        card.body.addStretch()
        return card

    def _rollout_card(self) -> Card:
        """All at once, or in waves that stop the rollout when too many of a wave's devices fail; started
        now, or staged for each device to start when it is idle or in a time window."""
        card = Card("Rollout")
        self.rollout = RolloutForm()
        self.rollout.changed.connect(self.completeChanged.emit)
        card.body.addWidget(self.rollout)
        self.schedule = ScheduleForm()
        self.schedule.changed.connect(self.completeChanged.emit)
        self.rollout.form.addRow("Start", self.schedule)  # the waves' labels and fields aligned with its own
        card.body.addStretch()
        self.vss.currentTextChanged.connect(self._schedule_package)
        return card

    def _schedule_package(self) -> None:
        """What the start choice is checked against: the package as Deploy will send it (built again for
        another VSS version, it names that one)."""
        package = self.ctx.state.app_package
        if package is None:
            self.schedule.set_package(None, lambda: b"{}")
            return
        kuksa = package.manifest.get("kuksaConfig")
        manifest = dict(package.manifest, kuksaConfig={**(kuksa if isinstance(kuksa, dict) else {}),
                                                        "vssVersion": self.vss.currentText()})
        self.schedule.set_package(manifest, functools.cache(functools.partial(package_catalogue, package.path,
                                                                              manifest)))

    # -- detection ------------------------------------------------------------------------

    def initialize_page(self) -> None:
        state = self.ctx.state
        self.fallback.setChecked(state.fallback_broker)
        self.vss.setCurrentText(state.vss_version)
        self.hot_swap.setChecked(state.runs_hot_swap())
        self.hot_swap_note.setText("The new version starts and passes its health check before the old one stops. "
                                   f"The package's default: {'on' if state.package_hot_swap() else 'off'}.")
        self.rollback.setChecked(state.rollback_enabled)
        self.rollout.set_devices(len(state.selected_devices))
        self._schedule_package()
        self.start_detect()

    def start_detect(self, force: bool = False) -> None:
        devices = list({d.identity_key(): d for d in self.ctx.state.selected_devices}.values())
        targets = tuple(d.identity_key() for d in devices)
        if not devices or (self._detect is not None and not self._detect.done()):
            return
        if not force and targets == self._targets and self.brokers:
            return
        self._targets = targets
        self._found_on = {("127.0.0.1" if d.local else d.ip): d for d in devices}
        self.brokers.clear()
        self.table.setRowCount(0)
        self.banner.show_message("")
        self._detect = self.track(self.ctx.run(self._run_detect(devices), self._detect_failed, name="kuksa-detect"))
        self._running(True)

    async def _run_detect(self, devices: list[Device]) -> None:
        # On each device, over its SSH connection: a databroker on the device's own loopback counts.
        where = f"{len(devices)} device{'s' if len(devices) != 1 else ''}"
        self.stage.setText(f"Probing {where} for databrokers, their loopback included…")
        unreachable: list[str] = []
        try:
            async for found in self.ctx.engines.brokers.detect(devices):
                if isinstance(found, DeviceUnreachable):
                    unreachable.append(str(found))
                else:
                    self.add_broker(found)
            databrokers = sum(1 for b in self.brokers if b.kind == "databroker")
            hosts = len({b.host for b in self.brokers if b.kind == "databroker"})
            fallback = " The fallback starts on the others." if self.fallback.isChecked() else ""
            self.stage.setText(f"{databrokers} databroker{'s' if databrokers != 1 else ''} on {hosts} of {where}."
                               + ("" if hosts == len(devices) else fallback))
            if unreachable:
                self.banner.show_message("Not probed:\n" + "\n".join(unreachable), "warn")
        finally:
            self._running(False)

    def _detect_failed(self, exc: BaseException) -> None:
        self.stage.setText(f"Detection failed: {exc}")
        self._running(False)

    def add_broker(self, info: KuksaBrokerInfo) -> None:
        self.brokers.append(info)
        row = self.table.rowCount()
        self.table.insertRow(row)
        security = ", ".join(x for x, on in (("TLS", info.tls), ("token", info.auth)) if on) or "none"
        server = f"{info.name or ''} {info.version}".replace("unknown", "").strip() or "–"
        # On a device's loopback the app there dials 127.0.0.1; name the device, not its LAN address.
        device = self._found_on.get(info.host)
        name = device.name if device else info.host
        where = "127.0.0.1" if info.local_only else info.host
        host = where if name == where else f"{name} · {where}"
        values = (host, str(info.port), info.kind, server,
                  ", ".join(info.apis) or "–", info.vss_version or "–", f"{info.response_time:.0f} ms", security)
        for col, value in enumerate(values):
            item = QtWidgets.QTableWidgetItem(value)
            if info.kind != "databroker":
                item.setForeground(QtGui.QColor(self.palette().color(QtGui.QPalette.ColorRole.PlaceholderText)))
                item.setToolTip("Not a KUKSA databroker: the app cannot use it")
            elif info.local_only:
                item.setToolTip("Bound to the device's loopback: the app on that device uses it; "
                                "other devices cannot reach it")
            self.table.setItem(row, col, item)
        if info.kind == "databroker" and self.ctx.state.detected_broker is None:
            self.table.selectRow(row)

    def _selection_changed(self) -> None:
        row = self.table.currentRow()
        chosen = self.brokers[row] if 0 <= row < len(self.brokers) else None
        self.ctx.state.detected_broker = chosen if chosen is not None and chosen.kind == "databroker" else None
        # A loopback-only broker serves its own device's apps, never every device.
        shared = self.ctx.state.detected_broker is not None and not self.ctx.state.detected_broker.local_only
        self.use_btn.setEnabled(shared)

    def use_selected(self) -> None:
        chosen = self.ctx.state.detected_broker
        if chosen is not None:
            host = f"[{chosen.host}]" if ":" in chosen.host else chosen.host
            self.custom.setText(f"{host}:{chosen.port}")

    def _running(self, running: bool) -> None:
        self.detect_btn.setEnabled(not running)
        self.completeChanged.emit()

    # -- custom address and testing -------------------------------------------------------

    def _custom_changed(self, text: str) -> None:
        ok = not text.strip() or parse_address(text) is not None
        self.custom_field.set_error(None if ok else f"Enter HOST:PORT, e.g. 10.0.0.5:{DATABROKER_PORT}")
        self.completeChanged.emit()

    def test_connection(self) -> asyncio.Task[None] | None:
        """The typed address from this computer (as another device's app would dial it); else the selected
        broker on its own device, through its SSH connection (so one bound to the device's loopback answers)."""
        typed = parse_address(self.custom.text()) if self.custom.text().strip() else None
        chosen = self.ctx.state.detected_broker
        device = self._found_on.get(chosen.host) if chosen is not None else None
        if typed is not None:
            host, port = typed
            where = f"{host}:{port}"
            asking = self.ctx.engines.brokers.test(host, port)
        elif chosen is not None and device is not None:
            dialled = "127.0.0.1" if chosen.local_only or device.local else chosen.host
            where = f"{dialled}:{chosen.port} on {device.name}"
            asking = self.ctx.engines.brokers.test_on(device, chosen.port)
        else:
            self.banner.show_message("Choose a detected broker or enter an address to test.", "warn")
            return None
        return self.ctx.run(self._test(where, asking),
                            lambda exc: self.banner.show_message(f"Test failed: {exc}", "error"), name="kuksa-test")

    async def _test(self, where: str, asking: Awaitable[KuksaBrokerInfo | None]) -> None:
        self.test_btn.setEnabled(False)
        self.banner.show_message(f"Connecting to {where}…")
        try:
            info = await asking
        finally:
            self.test_btn.setEnabled(True)
        if info is None:
            self.banner.show_message(f"Nothing answers at {where}.", "error")
        elif info.kind != "databroker":
            self.banner.show_message(f"{where} is an {info.kind} broker, not a KUKSA databroker.", "warn")
        else:
            apis = ", ".join(info.apis) or "no known API"
            self.banner.show_message(f"Connected to {info.name or 'databroker'} {info.version} at {where} in "
                                     f"{info.response_time:.0f} ms · {apis}", "ok")

    # -- wizard ---------------------------------------------------------------------------

    def is_complete(self) -> bool:
        return not self.custom_field.error_text() and not self.rollout.errors() and not self.schedule.errors()

    def busy(self) -> bool:
        return self._detect is not None and not self._detect.done()

    def validate_page(self) -> bool:
        if self._detect is not None:
            self._detect.cancel()
        state = self.ctx.state
        state.choose_kuksa(self.custom.text(), self.fallback.isChecked(), self.vss.currentText())
        # Left as the package says, the package decides (and the deployment's record says so).
        state.hot_swap = None if self.hot_swap.isChecked() == state.package_hot_swap() else self.hot_swap.isChecked()
        state.rollback_enabled = self.rollback.isChecked()
        state.wave_plan = self.rollout.plan()
        state.schedule = self.schedule.schedule()
        return True

    def reset(self) -> None:
        self.brokers.clear()
        self.table.setRowCount(0)
        self._targets = ()
        self.stage.setText("")
        self.banner.show_message("")
        self.rollout.show_plan(None)
        self.schedule.show_schedule(None)

    def save_settings(self, settings: Settings) -> None:
        settings.set(KUKSA_CUSTOM_BROKER, self.custom.text())
        settings.set(KUKSA_FALLBACK, self.fallback.isChecked())

    def load_settings(self, settings: Settings) -> None:
        self.custom.setText(settings.get(KUKSA_CUSTOM_BROKER))
        self.fallback.setChecked(settings.get(KUKSA_FALLBACK))


