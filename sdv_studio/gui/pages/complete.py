"""Step 6: what runs where, as each device reports it, and what to do next: logs, start, stop, roll
back, uninstall, redeploy, report.

Every row's "On the device" is the device's own answer (its agent, or its container engine): asked
on entering the page, after every action on that device, and on Refresh. An action never writes
the row itself; the answer that follows it does.
"""

from __future__ import annotations

import asyncio
import functools
import html
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sdv_studio.gui import dialogs, report, theme
from sdv_studio.gui.adapters.deployer import AppOnDevice
from sdv_studio.gui.adapters.discovery import Device
from sdv_studio.gui.context import Context
from sdv_studio.gui.log_window import LogWindow
from sdv_studio.gui.pages.base import Page
from sdv_studio.gui.pages.staged_rows import (
    StagedActions,
    all_deployed_text,
    cancel_staged,
    staged_deployment_text,
    staged_now,
)
from sdv_studio.gui.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from sdv_studio.gui.settings import REPORT_FOLDER
from sdv_studio.gui.state import DeploymentResult
from sdv_studio.gui.widgets.common import Banner, Card, Stat, button, cell, read_only_table

if TYPE_CHECKING:
    from sdv_studio.gui.monitor.window import MonitorWindow  # pyqtgraph: loaded when a Monitor opens

COLUMNS = ("Device", "Address", "On the device", "Version", "Deployment")
ON_DEVICE, DEPLOYMENT = COLUMNS.index("On the device"), COLUMNS.index("Deployment")
UP = {"running", "degraded"}  # the app's process is up (degraded: up, its databroker unreachable)
_SAID = {AppOnDevice.ABSENT: "Not installed", AppOnDevice.UNREACHABLE: "No answer"}


def on_device_text(answer: AppOnDevice | None) -> str:
    if answer is None:
        return "Asking…"
    return _SAID.get(answer.status, answer.status.capitalize())


def deployment_text(result: DeploymentResult) -> str:
    """How the deployment ended; a success says no more ("running" is the device's to say, and may
    no longer hold), a failure or cancel says what happened in the engine's words."""
    staged = staged_deployment_text(result)
    if staged is not None:
        return staged
    if result.status == "success":
        return f"Succeeded in {result.elapsed:.0f} s" if result.started else "Succeeded"
    return result.message


class CompletePage(Page):
    title = "Complete"
    subtitle = "What runs where, as each device reports it. Manage the app on each one, or export a report."
    icon = "complete"

    startOver = Signal()
    redeployFailed = Signal()

    def __init__(self, ctx: Context, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._logs: list[LogWindow] = []
        self.monitors: list[MonitorWindow] = []
        self._acting: dict[str, str] = {}  # device id -> what is being done there ("Stopping")
        self._asked: dict[str, int] = {}  # device id -> the latest question; older answers are stale
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
        self.start_btn = button("Start", "start", tip="Start the app on the selected device")
        self.stop_btn = button("Stop", "stop", tip="Stop the app on the selected device")
        self.rollback_btn = button("Roll back", "rollback",
                                   tip="Go back to the previous version on the selected device")
        self.uninstall_btn = button("Uninstall…", "remove", tip="Remove the app and its versions from the "
                                    "selected device")
        self.monitor_btn = button("Monitor", "kuksa", tip="The app's figures and live signals on every device "
                                  "(Ctrl+M); a row's context menu watches that device alone")
        self.monitor_btn.setShortcut("Ctrl+M")
        self.refresh_btn = button("Refresh", "refresh", tip="Ask every device what it runs now (F5)")
        self.refresh_btn.setShortcut("F5")
        for b in (self.logs_btn, self.start_btn, self.stop_btn, self.rollback_btn, self.uninstall_btn):
            actions.addWidget(b)
        actions.addStretch()
        actions.addWidget(self.monitor_btn)
        actions.addWidget(self.refresh_btn)
        devices.body.addLayout(actions)
        self.table = read_only_table(COLUMNS, "Deployment results", row_height=36, stretch=len(COLUMNS) - 1)
        devices.body.addWidget(self.table, 1)
        self.details = QtWidgets.QLabel()
        self.details.setObjectName("muted")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAccessibleName("The selected device's details")
        devices.body.addWidget(self.details)
        self.staged = StagedActions()
        devices.body.addWidget(self.staged)
        self.staged.cancel_btn.clicked.connect(lambda: self._device_action(
            "Cancelling the staged release", functools.partial(cancel_staged, self.ctx.engines.deployer, self._app())))
        col.addWidget(devices, 1)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.logs_btn.clicked.connect(self.open_logs)
        self.start_btn.clicked.connect(lambda: self._device_action("Starting", self._start))
        self.stop_btn.clicked.connect(lambda: self._device_action("Stopping", self._stop))
        self.rollback_btn.clicked.connect(lambda: self._device_action("Rolling back", self._rollback))
        self.uninstall_btn.clicked.connect(self.uninstall_selected)
        self.refresh_btn.clicked.connect(lambda: self.refresh())
        self.monitor_btn.clicked.connect(lambda: self.open_monitor())
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._row_menu)

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
        ok = sum(1 for r in results if r.status == "success")
        package = state.app_package
        self.stat_app.set(f"{package.stored.name} {package.stored.version}" if package else "–")
        skipped = sum(1 for r in results if r.status == "skipped")  # never touched: a wave stopped the rollout
        failed = len(results) - ok - skipped
        self.stat_failed.set(f"{failed} · {skipped} skipped" if skipped else str(failed))
        p = theme.current()
        self.stat_failed.value.setStyleSheet(f"color: {p.error if len(results) > ok else p.text};")
        longest = max((r.elapsed for r in results), default=0.0)
        self.stat_time.set(f"{longest:.0f} s")
        self.stat_broker.set(state.broker_address() or "on each device")
        self.table.setRowCount(0)
        for result in results:
            row = self.table.rowCount()
            self.table.insertRow(row)
            for c in range(len(COLUMNS)):
                self.table.setItem(row, c, QtWidgets.QTableWidgetItem())
            cell(self.table, row, 0).setData(Qt.ItemDataRole.UserRole, result.device.id)
            self._show_row(result)
        self.redeploy_btn.setEnabled(len(results) > ok)
        if results:
            self.table.selectRow(0)
        untouched = f", {skipped} skipped by a stopped wave" if skipped else ""
        self.banner.show_message(
            all_deployed_text(package.stored.name, results) if package and ok == len(results)
            else f"{failed} device{'' if failed == 1 else 's'} did not take the new version{untouched}: "
                 "Redeploy failed tries again.", "warn" if ok < len(results) else "ok")
        self.refresh()

    # -- rows -----------------------------------------------------------------------------

    def _row_of(self, device_id: str) -> int | None:
        for row in range(self.table.rowCount()):
            if cell(self.table, row, 0).data(Qt.ItemDataRole.UserRole) == device_id:
                return row
        return None

    def _show_row(self, result: DeploymentResult) -> None:
        row = self._row_of(result.device.id)
        if row is None:
            return
        p = theme.current()
        answer = result.on_device
        now = self._acting.get(result.device.id)
        values = (result.device.name, result.device.address(), f"{now}…" if now else on_device_text(answer),
                  (answer.version if answer else "") or "–", deployment_text(result))
        for c, value in enumerate(values):
            cell(self.table, row, c).setText(value)
            cell(self.table, row, c).setToolTip(result.message)
        cell(self.table, row, DEPLOYMENT).setForeground(QtGui.QColor(
            p.accent if result.staged else {"success": p.ok, "error": p.error}.get(result.status, p.muted)))
        status = answer.status if answer and not now else ""
        color = p.ok if status == "running" else p.warn if status == "degraded" else \
            p.error if status in ("error", "crashed", AppOnDevice.UNREACHABLE) else p.muted
        on_device = cell(self.table, row, ON_DEVICE)
        on_device.setForeground(QtGui.QColor(color))
        on_device.setToolTip(answer.detail if answer and answer.detail else result.message)
        self._update_stats()
        if row == self.table.currentRow():
            self._selection_changed()

    def _update_stats(self) -> None:
        """Running as the devices report it; until a device answered, as its deployment ended."""
        results = list(self.ctx.state.deployment_results.values())
        running = sum(1 for r in results if (r.on_device.status in UP if r.on_device else r.status == "success"))
        self.stat_ok.set(f"{running} / {len(results)}")
        p = theme.current()
        self.stat_ok.value.setStyleSheet(f"color: {p.ok if running else p.text};")

    # -- asking the devices ---------------------------------------------------------------

    def refresh(self, devices: list[Device] | None = None) -> None:
        """Asks each device (every one, by default) what it runs; rows change as the answers come."""
        results = self.ctx.state.deployment_results
        for device in devices if devices is not None else [r.device for r in results.values()]:
            asked = self._asked[device.id] = self._asked.get(device.id, 0) + 1
            self.ctx.run(self._ask(device, asked), self._unreachable(device, asked), name=f"status-{device.id}")

    def _unreachable(self, device: Device, asked: int) -> Callable[[BaseException], None]:
        """What a failed question shows: the device as unreachable, with why."""
        return lambda exc: self._answered(device, asked, AppOnDevice(AppOnDevice.UNREACHABLE, detail=str(exc)))

    async def _ask(self, device: Device, asked: int) -> None:
        self._answered(device, asked, await self.ctx.engines.deployer.status(device, self._app()))

    def _answered(self, device: Device, asked: int, answer: AppOnDevice) -> None:
        result = self.ctx.state.deployment_results.get(device.id)
        if result is None or self._asked.get(device.id) != asked:
            return  # started over, or a newer question is on its way (asked after an action)
        result.on_device = answer
        self._show_row(result)

    # -- per device -----------------------------------------------------------------------

    def _current_result(self) -> DeploymentResult | None:
        item = self.table.item(self.table.currentRow(), 0)
        return None if item is None else self.ctx.state.deployment_results.get(item.data(Qt.ItemDataRole.UserRole))

    def _current(self) -> Device | None:
        result = self._current_result()
        return result.device if result else None

    def _selection_changed(self) -> None:
        result = self._current_result()
        answer = result.on_device if result else None
        free = result is not None and result.device.id not in self._acting
        # What the device said decides; before it answered (or when it could not), every action is offered.
        known = answer is not None and answer.status != AppOnDevice.UNREACHABLE
        installed = free and not (known and answer is not None and answer.status == AppOnDevice.ABSENT)
        up = known and answer is not None and answer.status in UP
        self.logs_btn.setEnabled(result is not None and installed)
        self.start_btn.setEnabled(installed and not up)
        self.stop_btn.setEnabled(installed and (up or not known))
        self.rollback_btn.setEnabled(installed)
        self.uninstall_btn.setEnabled(installed)
        self.details.setText(self._details(result) if result else "")
        self.staged.show_for(result, free)

    def _details(self, result: DeploymentResult) -> str:
        """The selected device in full: what it reports now, and what its deployment ended with."""
        esc = html.escape
        answer = result.on_device
        now = ("asking the device…" if answer is None else
               " · ".join(x for x in (on_device_text(answer).lower(), answer.version, answer.detail,
                                      staged_now(answer)) if x))
        ended = [f"{k} {v}" for k, v in result.details.items()]
        if result.status != "success":
            ended.insert(0, result.message)  # in full: the row's cell has room for its start only
        lines = [f"<b>{esc(result.device.name)}</b> now: {esc(now)}"]
        if ended:
            lines.append(f"<b>Deployment</b>: {esc(' · '.join(ended))}")
        return "<br>".join(lines)

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

    def open_monitor(self, devices: list[Device] | None = None) -> MonitorWindow:
        """The Monitor view of the app on ``devices`` (every deployed one, by default)."""
        from sdv_studio.gui.monitor.window import open_monitor  # pyqtgraph and numpy load when first needed

        chosen = devices if devices is not None else [r.device for r in self.ctx.state.deployment_results.values()]
        window = open_monitor(self.ctx, chosen, self._app() or None, self)
        self.monitors.append(window)
        window.finished.connect(lambda _r: self.monitors.remove(window))
        return window

    def _row_menu(self, at: QtCore.QPoint) -> None:
        item = self.table.itemAt(at)
        if item is None:
            return
        self.table.selectRow(item.row())
        result = self._current_result()
        if result is None:
            return
        menu = QtWidgets.QMenu(self)
        menu.addAction(f"Monitor {result.device.name}", lambda: self.open_monitor([result.device]))
        menu.addAction("Open logs", self.open_logs).setEnabled(self.logs_btn.isEnabled())
        menu.popup(self.table.viewport().mapToGlobal(at))

    def _device_action(self, verb: str, action: Callable[[Device], Awaitable[str]],
                       result: DeploymentResult | None = None) -> asyncio.Task[None] | None:
        """``action`` on the selected device (or ``result``'s); its row says what the device reports after."""
        result = result or self._current_result()
        if result is None or result.device.id in self._acting:
            return None
        device = result.device
        self._acting[device.id] = verb
        self._show_row(result)
        self.banner.show_message(f"{verb} {self._app()} on {device.name}…")

        async def run() -> None:
            self.banner.show_message(await action(device), "ok")

        def done(task: asyncio.Task[None]) -> None:
            self._acting.pop(device.id, None)
            if not task.cancelled():  # done or failed, the device says what it runs now
                self.refresh([device])
            self._show_row(result)

        task: asyncio.Task[None] = self.ctx.run(
            run(), lambda exc: self.banner.show_message(f"{verb} failed on {device.name}: {exc}", "error"))
        task.add_done_callback(done)
        return task

    async def _start(self, device: Device) -> str:
        await self.ctx.engines.deployer.start_app(device, self._app())
        return f"Started {self._app()} on {device.name}."

    async def _stop(self, device: Device) -> str:
        await self.ctx.engines.deployer.stop(device, self._app())
        return f"Stopped {self._app()} on {device.name}."

    async def _rollback(self, device: Device) -> str:
        version = await self.ctx.engines.deployer.rollback(device, self._app())
        return f"{device.name} is back on {self._app()} {version}."

    async def _uninstall(self, device: Device) -> str:
        await self.ctx.engines.deployer.uninstall(device, self._app())
        return f"Removed {self._app()} from {device.name}."

    def uninstall_selected(self) -> asyncio.Task[None]:
        """Asks first: every installed version of the app leaves the device."""
        return self.ctx.run(self._confirm_uninstall(), name="uninstall")

    async def _confirm_uninstall(self) -> None:
        result = self._current_result()
        if result is None:
            return
        dialog = dialogs.ConfirmDialog(
            f"Uninstall {self._app()} from {result.device.name}?",
            "The app stops, and every version of it on the device is removed, so there is nothing left to "
            "roll back to. Deploy again to bring it back.", "Uninstall", parent=self)
        if await dialogs.ask(dialog):
            self._device_action("Uninstalling", self._uninstall, result)

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
