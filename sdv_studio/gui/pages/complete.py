"""Step 6: how it went on each device, and what to do next: logs, stop, roll back, redeploy, report."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from sdv_studio.gui import report, theme
from sdv_studio.gui.adapters.discovery import Device
from sdv_studio.gui.context import Context
from sdv_studio.gui.log_window import LogWindow
from sdv_studio.gui.pages.base import Page
from sdv_studio.gui.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from sdv_studio.gui.settings import REPORT_FOLDER
from sdv_studio.gui.widgets.common import Banner, Card, Stat, button, cell, read_only_table

COLUMNS = ("Device", "Address", "Status", "Time", "Message")


class CompletePage(Page):
    title = "Complete"
    subtitle = "What runs where. Manage the app on each device, or export a report for the test log."
    icon = "complete"

    startOver = Signal()
    redeployFailed = Signal()

    def __init__(self, ctx: Context, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._logs: list[LogWindow] = []
        col = QtWidgets.QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(14)

        stats = Card()
        row = QtWidgets.QHBoxLayout()
        row.setSpacing(32)
        self.stat_app = Stat("App")
        self.stat_ok = Stat("Running")
        self.stat_failed = Stat("Failed")
        self.stat_time = Stat("Longest")
        self.stat_broker = Stat("Databroker")
        for stat in (self.stat_app, self.stat_ok, self.stat_failed, self.stat_time, self.stat_broker):
            row.addWidget(stat)
        row.addStretch()
        stats.body.addLayout(row)
        col.addWidget(stats)

        devices = Card("Devices")
        actions = QtWidgets.QHBoxLayout()
        self.logs_btn = button("Open logs", "logs", tip="The app's log on the selected device (Ctrl+L)")
        self.logs_btn.setShortcut("Ctrl+L")
        self.stop_btn = button("Stop", "stop", tip="Stop the app on the selected device")
        self.rollback_btn = button("Roll back", "rollback",
                                   tip="Go back to the previous version on the selected device")
        for b in (self.logs_btn, self.stop_btn, self.rollback_btn):
            actions.addWidget(b)
        actions.addStretch()
        devices.body.addLayout(actions)
        self.table = read_only_table(COLUMNS, "Deployment results", row_height=36, stretch=4)
        devices.body.addWidget(self.table, 1)
        col.addWidget(devices, 1)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.logs_btn.clicked.connect(self.open_logs)
        self.stop_btn.clicked.connect(lambda: self._device_action("Stopping", self._stop))
        self.rollback_btn.clicked.connect(lambda: self._device_action("Rolling back", self._rollback))

        self.banner = Banner()
        col.addWidget(self.banner)
        bottom = QtWidgets.QHBoxLayout()
        self.redeploy_btn = button("Redeploy failed", "retry", tip="Back to Deploy and retry the failed devices")
        self.json_btn = button("Export JSON…", "export")
        self.html_btn = button("Export HTML…", "export")
        self.over_btn = button("Start over", "start", primary=True, tip="A new app, from the Configure step")
        bottom.addWidget(self.redeploy_btn)
        bottom.addStretch()
        for b in (self.json_btn, self.html_btn, self.over_btn):
            bottom.addWidget(b)
        col.addLayout(bottom)
        self.redeploy_btn.clicked.connect(self.redeployFailed.emit)
        self.json_btn.clicked.connect(lambda: self.export("json"))
        self.html_btn.clicked.connect(lambda: self.export("html"))
        self.over_btn.clicked.connect(self.startOver.emit)

    def initialize_page(self) -> None:
        state = self.ctx.state
        results = list(state.deployment_results.values())
        p = theme.current()
        ok = sum(1 for r in results if r.status == "success")
        package = state.app_package
        self.stat_app.set(f"{package.stored.name} {package.stored.version}" if package else "–")
        self.stat_ok.set(f"{ok} / {len(results)}")
        self.stat_failed.set(str(len(results) - ok))
        self.stat_failed.value.setStyleSheet(f"color: {p.error if len(results) > ok else p.text};")
        self.stat_ok.value.setStyleSheet(f"color: {p.ok if ok else p.text};")
        longest = max((r.elapsed for r in results), default=0.0)
        self.stat_time.set(f"{longest:.0f} s")
        self.stat_broker.set(state.broker_address() or "on each device")
        self.table.setRowCount(0)
        for result in results:
            row = self.table.rowCount()
            self.table.insertRow(row)
            status = {"success": "Running", "error": "Failed", "cancelled": "Cancelled"}.get(result.status,
                                                                                           result.status)
            values = (result.device.name, result.device.address(), status, f"{result.elapsed:.0f} s", result.message)
            for c, value in enumerate(values):
                item = QtWidgets.QTableWidgetItem(value)
                item.setToolTip(result.message)
                self.table.setItem(row, c, item)
            cell(self.table, row, 0).setData(Qt.ItemDataRole.UserRole, result.device.id)
            color = {"success": p.ok, "error": p.error}.get(result.status, p.muted)
            cell(self.table, row, 2).setForeground(QtGui.QColor(color))
        self.redeploy_btn.setEnabled(len(results) > ok)
        if results:
            self.table.selectRow(0)
        self.banner.show_message(f"{package.stored.name} is running on every device." if package and ok == len(results)
                                 else f"{len(results) - ok} device(s) need attention.",
                                 "ok" if ok == len(results) else "warn")
        self._selection_changed()

    # -- per device -----------------------------------------------------------------------

    def _current(self) -> Device | None:
        item = self.table.item(self.table.currentRow(), 0)
        if item is None:
            return None
        result = self.ctx.state.deployment_results.get(item.data(Qt.ItemDataRole.UserRole))
        return result.device if result else None

    def _selection_changed(self) -> None:
        has = self._current() is not None
        for b in (self.logs_btn, self.stop_btn, self.rollback_btn):
            b.setEnabled(has)

    def _app(self) -> str:
        package = self.ctx.state.app_package
        return package.stored.name if package else ""

    def open_logs(self) -> None:
        device = self._current()
        if device is None:
            return

        app = self._app()
        window = LogWindow(device, app, self)
        self._logs.append(window)
        window.finished.connect(lambda _r: self._logs.remove(window))
        window.follow_stream(lambda: self.ctx.engines.deployer.follow_logs(device, app), self.ctx.run)
        # Side by side, not stacked: each new window a step right of the last.
        window.move(self.window().pos() + QtCore.QPoint(40 + 36 * (len(self._logs) - 1), 60))
        window.show()

    def _device_action(self, verb: str, action: Callable[[Device], Awaitable[str]]) -> None:
        device = self._current()
        if device is None:
            return
        self.banner.show_message(f"{verb} {self._app()} on {device.name}…")

        async def run() -> None:
            self.banner.show_message(await action(device), "ok")

        self.ctx.run(run(), lambda exc: self.banner.show_message(f"{verb} failed on {device.name}: {exc}", "error"))

    async def _stop(self, device: Device) -> str:
        await self.ctx.engines.deployer.stop(device, self._app())
        return f"Stopped {self._app()} on {device.name}."

    async def _rollback(self, device: Device) -> str:
        version = await self.ctx.engines.deployer.rollback(device, self._app())
        return f"{device.name} is back on {self._app()} {version}."

    # -- report ---------------------------------------------------------------------------

    def export(self, kind: str) -> None:
        folder = Path(self.ctx.settings.get(REPORT_FOLDER) or Path.home())
        name = f"{self._app() or 'deployment'}-report.{kind}"
        dialog = QtWidgets.QFileDialog(self, "Export report", str(folder / name),
                                       "JSON (*.json)" if kind == "json" else "HTML (*.html)")
        dialog.setAcceptMode(QtWidgets.QFileDialog.AcceptMode.AcceptSave)
        dialog.fileSelected.connect(lambda path: self.write_report(Path(path)))
        dialog.open()

    def write_report(self, path: Path) -> None:
        state = self.ctx.state
        text = json.dumps(report.to_json(state), indent=2) if path.suffix == ".json" else report.to_html(state)
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.banner.show_message(f"Could not write {path}: {exc}", "error")
            return
        self.ctx.settings.set(REPORT_FOLDER, str(path.parent))
        self.banner.show_message(f"Report saved to {path}", "ok")


