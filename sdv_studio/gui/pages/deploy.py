"""Step 5: deploy to every target, at once or in waves; a row per device (under its wave), one log for all,
cancel and retry."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from sdv_studio.gui import icons, theme
from sdv_studio.gui.adapters import packager
from sdv_studio.gui.adapters.deployer import (
    DeploymentFinished,
    DeployRun,
    DeploySettings,
    DeviceLog,
    DeviceProgress,
    WaveChanged,
)
from sdv_studio.gui.adapters.discovery import Device
from sdv_studio.gui.adapters.packager import BuildDone
from sdv_studio.gui.context import Context
from sdv_studio.gui.pages.base import Page
from sdv_studio.gui.pages.wave_groups import WaveGroup, WaveHeader
from sdv_studio.gui.qt import Qt, QtCore, QtGui, QtWidgets
from sdv_studio.gui.state import DeploymentResult
from sdv_studio.gui.widgets.coalesce import Coalescer
from sdv_studio.gui.widgets.common import Banner, Card, button, cell, read_only_table, restyle, shortcut

COLUMNS = ("Device", "Progress", "Stage", "Elapsed", "")
FINAL = {"success", "error", "cancelled", "skipped"}
NOT_DONE = ("error", "cancelled", "skipped")  # what Retry deploys again


class DeployPage(Page):
    title = "Deploy"
    subtitle = "Every selected device, at once or in waves. Each one is isolated: a failure stays on its own row."
    icon = "deploy"
    next_label = "Finish"

    def __init__(self, ctx: Context, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._runs: dict[str, DeployRun] = {}  # device id -> the run it is in
        self._tasks: set[asyncio.Task[None]] = set()
        self._rows: dict[str, int] = {}
        self._seen: dict[str, int] = {}  # deployment id -> events already shown
        self._deployed_package: tuple[str, tuple[str, ...]] | None = None  # (package id, device ids)
        # The engine's waves, in the order they were planned; each device shows under its last one.
        self._groups: dict[tuple[str, int], WaveGroup] = {}
        self._group_of: dict[str, tuple[str, int]] = {}  # device id -> (deployment id, wave index)
        self._headers: dict[tuple[str, int], WaveHeader] = {}
        self._retries = -1  # runs in waves so far, less one
        # Events only touch the state; rows and the log catch up a few times a second, in one go.
        self._dirty: set[str] = set()  # device ids whose row is behind their result
        self._dirty_waves: set[tuple[str, int]] = set()
        self._pending_log: list[str] = []
        self._updates = Coalescer(self._flush, self)
        col = QtWidgets.QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(12)

        bar = QtWidgets.QHBoxLayout()
        self.headline = QtWidgets.QLabel()
        self.headline.setObjectName("cardTitle")
        bar.addWidget(self.headline, 1)
        # Chosen on the Kuksa step before the deployment started; shown here, not changed mid-run.
        self.update_mode = QtWidgets.QLabel()
        self.update_mode.setObjectName("muted")
        self.retry_btn = button("Retry failed", "retry", tip="Deploy again to the devices that failed (Ctrl+R)")
        self.retry_btn.setShortcut("Ctrl+R")
        self.cancel_all_btn = button("Cancel all", "cancel", tip="Cancel every device still deploying (Esc)")
        self.cancel_all_btn.setShortcut("Esc")
        for w in (self.update_mode, self.retry_btn, self.cancel_all_btn):
            bar.addWidget(w)
        col.addLayout(bar)
        self.retry_btn.clicked.connect(self.retry_failed)
        self.cancel_all_btn.clicked.connect(lambda: self.cancel())

        self.table = read_only_table(COLUMNS, "Deployment progress", row_height=42, stretch=2,
                                     alternating=False, single=False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(4, QtWidgets.QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(4, 48)
        self.table.setColumnWidth(0, 240)
        self.table.setColumnWidth(1, 200)
        shortcut(QtGui.QKeySequence(Qt.Key.Key_Delete), self.table, self._cancel_current,
                 Qt.ShortcutContext.WidgetShortcut)

        logs = Card("Live log")
        self.log = QtWidgets.QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        self.log.setAccessibleName("Deployment log")
        font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(9)
        self.log.setFont(font)
        logs.body.addWidget(self.log)
        split = QtWidgets.QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(logs)
        split.setSizes([320, 260])
        split.setChildrenCollapsible(False)
        col.addWidget(split, 1)
        self.banner = Banner()
        col.addWidget(self.banner)

        self._clock = QtCore.QTimer(self, interval=1000)
        self._clock.timeout.connect(self._tick)

    # -- starting -------------------------------------------------------------------------

    def initialize_page(self) -> None:
        state = self.ctx.state
        package = state.app_package
        if package is None:
            return
        name = f"{package.stored.name} {package.stored.version}"
        count = len(state.selected_devices)
        plan = state.wave_plan
        waves = len(plan.split([d.id for d in state.selected_devices])) if plan else 0
        self.headline.setText(f"{name} → {count} device{'s' if count != 1 else ''}"
                              + (f" in {waves} wave{'s' if waves != 1 else ''}" if plan else ""))
        self.update_mode.setText(" · ".join((
            "Hot swap" if state.runs_hot_swap() else "Stop, then start",
            "roll back on failure" if state.rollback_enabled else "no roll back",
            *(["staged"] if state.schedule else []))))  # the rows and the tooltip say until when
        rollout = [f"staged: each device starts it {state.schedule.describe()}"] if state.schedule else []
        rollout += [] if plan is None else [
            f"at most {plan.max_failed} failed devices per wave", f"{plan.pause_between:g} s between waves",
            "a failed wave rolls back" if plan.rollback_wave else "a failed wave stays as it ended"]
        self.update_mode.setToolTip("\n".join(("How the update runs, chosen on the Kuksa step before Deploy",
                                               *rollout)))
        key = (package.stored.package_id, tuple(d.id for d in state.selected_devices))
        if key != self._deployed_package or not state.deployment_results:
            self._deployed_package = key
            self.start(list(state.selected_devices))

    def settings(self) -> DeploySettings:
        state = self.ctx.state
        return DeploySettings(broker=state.broker_address(), hot_swap=state.hot_swap,
                              rollback_enabled=state.rollback_enabled, waves=state.wave_plan, schedule=state.schedule)

    def start(self, devices: list[Device]) -> None:
        results = self.ctx.state.deployment_results
        for device in devices:
            results[device.id] = DeploymentResult(device=device, schedule=self.ctx.state.schedule)
            self._row_for(device)
            self._show(results[device.id])
        self.banner.show_message("")
        task = self.ctx.run(self._deploy(devices), lambda exc: self._failed(devices, exc), name="deploy")
        self._tasks.add(task)
        task.add_done_callback(self._deploy_done)
        self._clock.start()
        self._settled()

    def _deploy_done(self, task: asyncio.Task[None]) -> None:
        # Busy ends here, with the rows and buttons, so no one sees "done" with stale ones.
        self._tasks.discard(task)
        self._updates.now()

    async def _deploy(self, devices: list[Device]) -> None:
        state = self.ctx.state
        await self._package_for_kuksa(devices)
        await self._wheels_for(devices)
        assert state.app_package is not None
        run = await self.ctx.engines.deployer.start(state.app_package.path, devices, self.settings())
        for device in devices:
            self._runs[device.id] = run
            state.deployment_results[device.id].deployment_id = run.deployment_id
        self._group(run, devices)
        self._log("studio", f"deployment {run.deployment_id} started for {', '.join(d.name for d in devices)}")
        try:
            await self._follow(run)
        except asyncio.CancelledError:
            # The window is closing or the page was reset: stop the devices too, and let their
            # rows settle; the hub replays from the start, and what was shown is skipped.
            run.cancel()
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._follow(run), 1.0)
            raise

    async def _package_for_kuksa(self, devices: list[Device]) -> None:
        """Builds the package again when it lacks the Kuksa step's choices (DeploymentState.kuksa_rebuild)."""
        state = self.ctx.state
        what = state.kuksa_rebuild()
        if what is None or state.source is None or state.options is None:  # the last two: for the type checker
            return
        self._log("studio", f"packaging again for the Kuksa step's choices: {what}")
        for device in devices:
            result = state.deployment_results[device.id]
            result.message = f"Packaging again for {what}…"
            self._show(result)
        async for event in self.ctx.engines.packager.build(state.source, state.options):
            if isinstance(event, BuildDone):
                state.app_package = event.result
                self._log("studio", f"packaged {event.result.stored.package_id} ({event.result.path.name})")
        if self._deployed_package is not None and state.app_package is not None:
            self._deployed_package = (state.app_package.stored.package_id, self._deployed_package[1])

    async def _wheels_for(self, devices: list[Device]) -> None:
        """Tops the package up with the wheel sets of the chosen devices' Pythons and arches that it
        lacks; when it cannot, says why (those devices then stop at the compatibility stage)."""
        state = self.ctx.state
        assert state.app_package is not None
        needed = packager.missing_wheel_sets(state.app_package.manifest,
                                             [(d.python, d.architecture) for d in devices])
        if not needed:
            return
        what = ", ".join(f"Python {c.python} on {c.arch}" for c in needed)
        self._log("studio", f"adding wheels for {what} to the package")
        for device in devices:
            state.deployment_results[device.id].message = f"Adding wheels for {what}…"
            self._show(state.deployment_results[device.id])
        try:
            state.app_package = await self.ctx.engines.packager.top_up(state.app_package, needed)
        except packager.TopUpRefused as exc:
            self._log("studio", str(exc))
            return
        self._log("studio", f"packaged {state.app_package.stored.package_id} with wheels for {what}")
        if self._deployed_package is not None and state.app_package is not None:
            self._deployed_package = (state.app_package.stored.package_id, self._deployed_package[1])

    async def _follow(self, run: DeployRun) -> None:
        seen = self._seen.get(run.deployment_id, 0)
        index = 0
        async for event in run.events():
            index += 1
            if index <= seen:
                continue  # a replay after cancelling: already shown
            self._seen[run.deployment_id] = index
            if isinstance(event, DeviceProgress):
                self._progress(event)
            elif isinstance(event, DeviceLog):
                self._device_log(event)
            elif isinstance(event, WaveChanged):
                self._wave_changed(event)
            elif isinstance(event, DeploymentFinished):
                self._log("studio", f"deployment {event.deployment_id} {event.status}")

    def _failed(self, devices: list[Device], exc: BaseException) -> None:
        for device in devices:
            result = self.ctx.state.deployment_results.get(device.id)
            if result is not None and result.status not in FINAL:
                result.status, result.message = "error", str(exc)
                result.finished = datetime.now(UTC)
                self._dirty.add(device.id)
        self._updates.now()
        self.banner.show_message(f"Could not deploy: {exc}", "error")

    # -- events ---------------------------------------------------------------------------

    def _progress(self, event: DeviceProgress) -> None:
        result = self.ctx.state.deployment_results.get(event.device_id)
        if result is None:
            return
        now = datetime.now(UTC)
        if result.started is None and event.status not in ("pending", "skipped"):
            result.started = now
        result.status, result.progress, result.stage, result.message = (event.status, event.progress,
                                                                       event.stage, event.message)
        if event.status in FINAL:
            result.finished = now
            self._log(result.device.name, event.message)
            run = self._runs.get(event.device_id)
            if run is not None:
                result.details = run.details(event.device_id)
                result.staged = event.status == "success" and run.staged(event.device_id)
            if event.status == "error" and run is not None:
                for line in run.failure_log(event.device_id):
                    result.log.append(line)
                    self._log(result.device.name, f"| {line}")
        self._dirty.add(event.device_id)
        self._updates.request()

    def _wave_changed(self, event: WaveChanged) -> None:
        group = self._groups.get((event.deployment_id, event.index))
        if group is None:
            return
        group.status, group.failed = event.status, event.failed
        results = self.ctx.state.deployment_results
        self._log("studio", group.log_line({d: r.device.name for d, r in results.items()}))
        self._dirty_waves.add(group.key)
        self._updates.request()

    def _device_log(self, event: DeviceLog) -> None:
        result = self.ctx.state.deployment_results.get(event.device_id)
        name = result.device.name if result else event.device_id
        if result is not None:
            result.log.append(event.line)
        self._log(name, event.line)

    def _log(self, source: str, line: str) -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        self._pending_log.append(f"{stamp}  {source:<18.18}  {line}")
        self._updates.request()

    def _flush(self) -> None:
        results = self.ctx.state.deployment_results
        for device_id in self._dirty:
            if device_id in results:
                self._show(results[device_id])
        self._dirty.clear()
        for key in self._dirty_waves:
            if key in self._headers:
                self._headers[key].show_group(self._groups[key])
        self._dirty_waves.clear()
        if self._pending_log:
            self.log.appendPlainText("\n".join(self._pending_log))  # one layout pass for the batch
            self._pending_log.clear()
        self._settled()

    # -- rows -----------------------------------------------------------------------------

    def _group(self, run: DeployRun, devices: list[Device]) -> None:
        """Files ``devices`` under the engine's waves for ``run`` (or under none), and lays the rows out again."""
        waves = run.waves()
        plan = self.ctx.state.wave_plan
        allowed = str(plan.max_failed) if plan is not None else "0"
        for device in devices:
            self._group_of.pop(device.id, None)
        if waves:
            self._retries += 1
        for wave in waves:
            group = WaveGroup(run.deployment_id, wave.index, len(waves), list(wave.devices), allowed,
                              wave.status, wave.failed, self._retries)
            self._groups[group.key] = group
            for device_id in wave.devices:
                self._group_of[device_id] = group.key
        if self._groups:  # else the rows start() made are the layout already: making them all again
            self._lay_out()  # stalled the window ~60 ms with 48 devices (bench/gui.py --fleet)

    def _lay_out(self) -> None:
        """Devices of no wave first, then each wave's header with its devices; a wave whose devices all
        went on to a later run's waves is left out."""
        results = self.ctx.state.deployment_results
        self.table.setRowCount(0)
        self.table.clearSpans()
        self._rows.clear()
        self._headers.clear()
        for device_id, result in results.items():
            if device_id not in self._group_of:
                self._row_for(result.device)
        for key, group in list(self._groups.items()):
            members = [d for d in group.devices if self._group_of.get(d) == key and d in results]
            if not members:
                del self._groups[key]
                continue
            self._header_row(group)
            for device_id in members:
                self._row_for(results[device_id].device)
        for result in results.values():
            self._show(result)

    def _header_row(self, group: WaveGroup) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setSpan(row, 0, 1, len(COLUMNS))
        holder = QtWidgets.QTableWidgetItem()
        holder.setFlags(Qt.ItemFlag.NoItemFlags)  # not a device: nothing to select or cancel
        self.table.setItem(row, 0, holder)
        header = WaveHeader(group)
        self.table.setCellWidget(row, 0, header)
        self.table.setRowHeight(row, 34)
        self._headers[group.key] = header

    def wave_header(self, deployment_id: str, index: int) -> WaveHeader:
        return self._headers[(deployment_id, index)]

    def _row_for(self, device: Device) -> int:
        if device.id in self._rows:
            return self._rows[device.id]
        row = self.table.rowCount()
        self.table.insertRow(row)
        self._rows[device.id] = row
        name = QtWidgets.QTableWidgetItem(device.name)
        name.setData(Qt.ItemDataRole.UserRole, device.id)
        name.setToolTip(device.address())
        self.table.setItem(row, 0, name)
        bar = QtWidgets.QProgressBar()
        bar.setRange(0, 100)
        bar.setTextVisible(False)  # text over a thin bar is unreadable where the fill meets it; the stage says it
        bar.setAccessibleName(f"{device.name} progress")
        bar.setFixedHeight(10)
        holder = QtWidgets.QWidget()
        lay = QtWidgets.QHBoxLayout(holder)
        lay.setContentsMargins(6, 0, 14, 0)
        lay.addWidget(bar)
        self.table.setCellWidget(row, 1, holder)
        self.table.setItem(row, 2, QtWidgets.QTableWidgetItem())
        self.table.setItem(row, 3, QtWidgets.QTableWidgetItem())
        cancel = QtWidgets.QToolButton()
        cancel.setIcon(icons.icon("cancel", theme.current().muted))
        cancel.setAutoRaise(True)
        cancel.setToolTip(f"Cancel {device.name} (Delete)")
        cancel.setAccessibleName(f"Cancel {device.name}")
        cancel.clicked.connect(lambda _c=False, d=device.id: self.cancel(d))
        self.table.setCellWidget(row, 4, cancel)
        return row

    def progress_bar(self, device_id: str) -> QtWidgets.QProgressBar:
        holder = self.table.cellWidget(self._rows[device_id], 1)
        return holder.findChild(QtWidgets.QProgressBar)  # type: ignore[return-value]

    def cancel_button(self, device_id: str) -> QtWidgets.QToolButton:
        return self.table.cellWidget(self._rows[device_id], 4)  # type: ignore[return-value]

    def _show(self, result: DeploymentResult) -> None:
        """Brings a row up to its result, touching only what changed (each change repaints the cell)."""
        row = self._row_for(result.device)
        p = theme.current()
        bar = self.progress_bar(result.device.id)
        if bar.value() != result.progress:
            bar.setValue(result.progress)
        # Staged is not running: the bar and the words say so, apart from a started success.
        state = result.status if result.status in ("success", "error") and not result.staged else ""
        if bar.property("state") != state:
            bar.setProperty("state", state)
            restyle(bar)
        stage = cell(self.table, row, 2)
        said = staged_text(result) or result.message
        if stage.text() != said:
            stage.setText(said)
            stage.setToolTip(result.message)
        color = QtGui.QColor(p.accent if result.staged else {"success": p.ok, "error": p.error, "cancelled": p.muted,
                                                             "skipped": p.muted}.get(result.status, p.text))
        if stage.foreground().color() != color:
            stage.setForeground(color)
        _set_text(cell(self.table, row, 3), _clock(result.elapsed) if result.started else "–")
        cancel = self.cancel_button(result.device.id)
        if cancel.isEnabled() != (result.status not in FINAL):
            cancel.setEnabled(result.status not in FINAL)

    def _tick(self) -> None:
        running = False
        for result in self.ctx.state.deployment_results.values():
            if result.status not in FINAL and result.started is not None:
                running = True
                _set_text(cell(self.table, self._rows[result.device.id], 3), _clock(result.elapsed))
        if not running and not self.busy():
            self._clock.stop()

    # -- cancel and retry -----------------------------------------------------------------

    def cancel(self, device_id: str | None = None) -> None:
        runs = {id(r): r for d, r in self._runs.items() if device_id in (None, d)}
        for run in runs.values():
            run.cancel(device_id)
        if device_id is None and not self._runs:
            for task in list(self._tasks):
                task.cancel()

    def _cancel_current(self) -> None:
        item = self.table.item(self.table.currentRow(), 0)
        device_id = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if device_id is not None:  # a wave's header row names no device
            self.cancel(device_id)

    def failed(self) -> list[Device]:
        return [r.device for r in self.ctx.state.deployment_results.values() if r.status in NOT_DONE]

    def retry_failed(self) -> None:
        devices = self.failed()
        if devices and not self.busy():
            self._log("studio", f"retrying {', '.join(d.name for d in devices)}")
            self.start(devices)

    def _settled(self) -> None:
        results = self.ctx.state.deployment_results.values()
        done = [r for r in results if r.status in FINAL]
        ok = sum(1 for r in done if r.status == "success")
        self.retry_btn.setEnabled(not self.busy() and bool(self.failed()))
        self.cancel_all_btn.setEnabled(self.busy())
        if not self.busy() and results:
            skipped = sum(1 for r in done if r.status == "skipped")
            staged = [r for r in done if r.staged]
            failed = len(done) - ok - skipped
            succeeded = f"{ok - len(staged)} succeeded" + (f", {len(staged)} staged" if staged else "")
            said = [succeeded, f"{failed} did not"] if failed or not skipped else [succeeded]
            if skipped:
                said.append(f"{skipped} skipped: a wave stopped the rollout")
            self.banner.show_message(
                all_succeeded(ok, staged) if not failed and not skipped
                else f"{', '.join(said)}. Retry them, or finish and review.",
                "ok" if not failed and not skipped else "warn")
        self.completeChanged.emit()

    # -- wizard ---------------------------------------------------------------------------

    def busy(self) -> bool:
        return bool(self._tasks)

    def is_complete(self) -> bool:
        results = self.ctx.state.deployment_results
        return bool(results) and not self.busy() and all(r.status in FINAL for r in results.values())

    def reset(self) -> None:
        self.cancel()
        self._runs.clear()
        self._rows.clear()
        self._dirty.clear()
        self._pending_log.clear()
        self._groups.clear()
        self._group_of.clear()
        self._headers.clear()
        self._dirty_waves.clear()
        self._retries = -1
        self.table.setRowCount(0)
        self.table.clearSpans()
        self.log.clear()
        self.banner.show_message("")
        self._deployed_package = None


def staged_text(result: DeploymentResult) -> str:
    """A staged device's row: what the device waits for (empty for any other row)."""
    return f"Staged — starts {result.schedule.describe()}" if result.staged and result.schedule else ""


def all_succeeded(ok: int, staged: list[DeploymentResult]) -> str:
    """The banner when every device succeeded: those running the app and those staged, apart."""
    if not staged:
        return f"All {ok} devices are running the app."
    when = staged[0].schedule.describe() if staged[0].schedule else "when its schedule holds"
    if len(staged) == ok:
        return (f"{'All ' if ok > 1 else ''}{ok} device{'s' if ok != 1 else ''} staged the app, to start it {when}; "
                "until then, what ran before keeps running.")
    return (f"{ok - len(staged)} device{'s' if ok - len(staged) != 1 else ''} running the app, {len(staged)} "
            f"staged to start it {when}.")


def _set_text(item: QtWidgets.QTableWidgetItem, text: str) -> None:
    if item.text() != text:
        item.setText(text)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"
