"""The Monitor view: a device card each (link, health, CPU and memory, the app's KUKSA figures) over
the chosen signals plotted live, one trace per device; pause, a time window of 10 s to 15 min, any
VSS path added, and what is on screen exported as CSV.

Non-modal, like the log windows. The core's monitor runs on a loop of its own and hands the GUI's
loop its events in batches (``adapters.monitor``); each event only updates the model
(``model.MonitorModel``), and the screen follows at most every ``coalesce.INTERVAL_MS`` and, for the
time axis to move on while nothing arrives, every TICK_MS: six devices sending ten signals at 10 Hz
cost ten redraws a second, not 600. The cards take their news in turns of their own, between the
plots' redraws, at most CARDS_PER_TURN cards a turn: no turn of the loop carries them all, or them
and the plots.
"""

from __future__ import annotations

import asyncio
import csv
import gc
import html
import math
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sdv_studio.gui.adapters.discovery import Device
from sdv_studio.gui.adapters.monitor import MonitorEngine
from sdv_studio.gui.context import Context
from sdv_studio.gui.monitor.cards import DeviceCard
from sdv_studio.gui.monitor.model import MonitorModel
from sdv_studio.gui.monitor.plots import SignalPlots
from sdv_studio.gui.monitor.style import device_color
from sdv_studio.gui.qt import Qt, QtCore, QtWidgets, Signal
from sdv_studio.gui.widgets.coalesce import Coalescer
from sdv_studio.gui.widgets.common import Card, Field, button

# pyqtgraph and numpy load with the first Monitor: their ~36,000 objects live as long as the app
# too, out of the garbage collector's full collections like the engines' (app.load_engines).
gc.freeze()

WINDOWS = (("10 s", 10), ("30 s", 30), ("1 min", 60), ("5 min", 300), ("15 min", 900))
DEFAULT_WINDOW = 60
TICK_MS = 250
SPAN_STEPS = 120
# Cards given news in one turn of the loop: the devices sample in step, and six cards with their
# sparklines at once took 20 ms of the loop, on top of the plots; the rest follow in the next turns.
CARDS_PER_TURN = 2
CARD_TURN_MS = 40  # after a redraw of the plots (at most every coalesce.INTERVAL_MS): halfway to the next
PLOTTED_AT_FIRST = 6  # of the app's signals, ticked before the user chooses
VSS_PATH = re.compile(r"Vehicle(\.[A-Za-z0-9_]+)+")
CSV_HEADER = ("time", "device", "signal", "value", "databroker_time", "event")

Run = Callable[..., "asyncio.Task[None]"]  # Context.run: (coroutine, on_error, name=…)


def card_columns(count: int) -> int:
    return count if count <= 4 else 3 if count <= 6 else 4


class MonitorWindow(QtWidgets.QDialog):
    redrawn = Signal()  # the plots have taken every value the model held (the bench times this)

    def __init__(self, devices: list[Device], app: str | None, engine: MonitorEngine,
                 parent: QtWidgets.QWidget | None = None, clock: Callable[[], float] = time.time) -> None:
        super().__init__(parent)
        self.devices, self.app, self.engine, self.clock = devices, app, engine, clock
        self.model = MonitorModel([(d.id, d.name) for d in devices], app, clock)
        self.setWindowTitle(f"{app or 'Devices'} — monitor")
        self.setModal(False)
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint)
        self.resize(1240, 860)
        self._task: asyncio.Task[None] | None = None
        self._run: Run | None = None
        self._added: list[str] = []  # signals the user added, watched besides the app's
        self._ticked: set[str] = set()
        self._listed: set[str] = set()
        self._drawn_changes = -1
        self._cards_shown: dict[str, int] = {}  # per device, the state's version its card shows
        self._card_turns = [d.id for d in devices]  # the card updated last at the end
        self._failure = ""  # why the stream ended, when it did
        self.shown = (0.0, 0.0)  # the time span the plots show
        col = QtWidgets.QVBoxLayout(self)
        col.setContentsMargins(18, 16, 18, 12)
        col.setSpacing(12)
        col.addLayout(self._header())
        col.addWidget(self._cards())
        col.addWidget(self._signals(), 1)
        self.status = QtWidgets.QLabel("Connecting…")
        self.status.setObjectName("muted")
        col.addWidget(self.status)
        self._updates = Coalescer(self.redraw, self)
        self._tick = QtCore.QTimer(self, interval=TICK_MS)
        self._tick.timeout.connect(self._updates.request)
        self._card_turn = QtCore.QTimer(self, singleShot=True, interval=CARD_TURN_MS)
        self._card_turn.timeout.connect(self.show_cards)

    # -- layout ---------------------------------------------------------------------------------

    def _header(self) -> QtWidgets.QHBoxLayout:
        bar = QtWidgets.QHBoxLayout()
        title = QtWidgets.QLabel(self.app or "Devices")
        title.setObjectName("pageTitle")
        bar.addWidget(title)
        count = len(self.devices)
        sub = QtWidgets.QLabel(f"live on {count} device{'s' if count != 1 else ''}")
        sub.setObjectName("pageSubtitle")
        bar.addWidget(sub, 0, Qt.AlignmentFlag.AlignBottom)
        bar.addStretch()
        bar.addWidget(QtWidgets.QLabel("Window"))
        self.window_box = QtWidgets.QComboBox()
        self.window_box.setAccessibleName("Time window")
        for label, seconds in WINDOWS:
            self.window_box.addItem(label, seconds)
        self.window_box.setCurrentIndex(self.window_box.findData(DEFAULT_WINDOW))
        self.window_box.currentIndexChanged.connect(lambda _i: self._updates.now())
        bar.addWidget(self.window_box)
        self.pause_btn = button("Pause", tip="Hold the plots still; values keep being recorded (Space)")
        self.pause_btn.setCheckable(True)
        self.pause_btn.setShortcut("Space")
        self.pause_btn.toggled.connect(self._paused)
        bar.addWidget(self.pause_btn)
        self.export_btn = button("Export CSV…", "export", tip="Save the plotted values, as shown, to a CSV file")
        self.export_btn.clicked.connect(self.ask_export)
        bar.addWidget(self.export_btn)
        return bar

    def _cards(self) -> QtWidgets.QWidget:
        holder = QtWidgets.QWidget()
        grid = QtWidgets.QGridLayout(holder)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(10)
        columns = card_columns(len(self.devices))
        self.cards: dict[str, DeviceCard] = {}
        for index, device in enumerate(self.devices):
            card = DeviceCard(self.model.devices[device.id], device_color(index), self.app)
            card.setToolTip(device.address())
            grid.addWidget(card, index // columns, index % columns)
            self.cards[device.id] = card
        for c in range(columns):
            grid.setColumnStretch(c, 1)
        if len(self.devices) <= 2 * columns:
            return holder
        scroll = QtWidgets.QScrollArea()  # many devices: two rows of cards in view, the rest scrolled to
        scroll.setWidgetResizable(True)
        scroll.setWidget(holder)
        scroll.setMaximumHeight(2 * 150 + 10)
        return scroll

    def _signals(self) -> Card:
        panel = Card("Signals")
        row = QtWidgets.QHBoxLayout()
        row.setSpacing(12)
        side = QtWidgets.QVBoxLayout()
        self.signal_list = QtWidgets.QListWidget()
        self.signal_list.setAccessibleName("Signals to plot")
        self.signal_list.setFixedWidth(290)
        self.signal_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.signal_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.signal_list.itemChanged.connect(self._tick_changed)
        side.addWidget(self.signal_list, 1)
        self.signal_input = QtWidgets.QLineEdit()
        self.signal_input.setPlaceholderText("Vehicle.Speed")
        self.signal_input.setAccessibleName("VSS path to add")
        self.signal_input.returnPressed.connect(self.add_signal)
        self.signal_field = Field(self.signal_input)
        adding = QtWidgets.QHBoxLayout()
        adding.addWidget(self.signal_field, 1, Qt.AlignmentFlag.AlignTop)
        self.add_btn = button("Add", "add", tip="Watch this VSS path on every device too")
        self.add_btn.clicked.connect(self.add_signal)
        adding.addWidget(self.add_btn, 0, Qt.AlignmentFlag.AlignTop)
        side.addLayout(adding)
        row.addLayout(side)
        plots = QtWidgets.QVBoxLayout()
        plots.setSpacing(4)
        legend = QtWidgets.QLabel("&nbsp;&nbsp;&nbsp;".join(
            f"<span style='color: {device_color(i)}; font-size: 13pt'>■</span> {html.escape(d.name)}"
            for i, d in enumerate(self.devices)))
        legend.setTextFormat(Qt.TextFormat.RichText)
        plots.addWidget(legend)
        self.plots = SignalPlots([(d.id, d.name) for d in self.devices])
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.plots)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Only the plots in sight are drawn: the ones scrolled to are drawn as they come into view.
        scroll.verticalScrollBar().valueChanged.connect(lambda _v: self._updates.now())
        plots.addWidget(scroll, 1)
        self.empty = QtWidgets.QLabel("Waiting for the devices' signals…")
        self.empty.setObjectName("muted")
        plots.addWidget(self.empty)
        row.addLayout(plots, 1)
        panel.body.addLayout(row, 1)
        return panel

    # -- the stream -----------------------------------------------------------------------------

    def start(self, run: Run) -> None:
        """Starts watching, through ``run`` (the app's task starter); stops when the window closes."""
        self._run = run
        self._follow()
        self._tick.start()

    def _follow(self) -> None:
        assert self._run is not None
        if self._task is not None:
            self._task.cancel()
        self._task = self._run(self._read(tuple(self._added)), self._failed, name="monitor", background=True)

    async def _read(self, signals: tuple[str, ...]) -> None:
        async for event in self.engine.watch(self.devices, self.app, signals):
            self.model.take(event)
            self._updates.request()

    def _failed(self, exc: BaseException) -> None:
        self._failure = f"Monitoring stopped: {exc}"
        self._updates.now()

    # -- what is shown --------------------------------------------------------------------------

    @property
    def window_seconds(self) -> float:
        return float(self.window_box.currentData())

    @property
    def paused(self) -> bool:
        return self.pause_btn.isChecked()

    def chosen(self) -> list[str]:
        """The ticked signals, in the list's order."""
        items = (self.signal_list.item(i) for i in range(self.signal_list.count()))
        return [item.text() for item in items if item.checkState() == Qt.CheckState.Checked]

    def redraw(self) -> None:
        self._list_new_signals()
        if self._stale_cards() and not self._card_turn.isActive():
            self._card_turn.start()
        self.status.setText(self._summary())
        if not self.paused:
            # The span moves in steps of a 120th of it: between steps the time axis and every trace
            # that got nothing new stay as drawn (their repaint is most of a redraw's cost).
            step = self.window_seconds / SPAN_STEPS
            end = math.ceil(self.clock() / step) * step
            self.shown = (end - self.window_seconds, end)
        chosen = self.chosen()
        self.plots.show_signals(chosen, self.model)
        self.plots.draw(self.model, *self.shown, hold=self.paused)
        self.empty.setVisible(not chosen)
        self.empty.setText("Tick a signal to plot it." if self.model.paths else "Waiting for the devices' signals…")
        self.redrawn.emit()

    def _stale_cards(self) -> list[str]:
        """The devices whose cards have news to show, those waiting longest first."""
        return [d for d in self._card_turns if self._cards_shown.get(d) != self.model.devices[d].version]

    def show_cards(self) -> None:
        """The news of at most CARDS_PER_TURN cards, those waiting longest first (a card updated
        moves to the back); another turn follows for the rest."""
        stale = self._stale_cards()
        for device_id in stale[:CARDS_PER_TURN]:
            state = self.model.devices[device_id]
            self.cards[device_id].show_state(state, self.model.app_metrics(device_id))
            self._cards_shown[device_id] = state.version
            self._card_turns.remove(device_id)
            self._card_turns.append(device_id)
        if len(stale) > CARDS_PER_TURN:
            self._card_turn.start()

    def _list_new_signals(self) -> None:
        if self.model.changes == self._drawn_changes:
            return
        self._drawn_changes = self.model.changes
        self.signal_list.blockSignals(True)
        for path in self.model.paths:
            if path in self._listed:
                continue
            self._listed.add(path)
            item = QtWidgets.QListWidgetItem(path)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setToolTip(path)
            ticked = path in self._added or len(self._listed) <= PLOTTED_AT_FIRST
            item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
            unknown = [self.model.devices[d].name for d in self.model.devices if path in self.model.devices[d].unknown]
            if unknown:
                item.setToolTip(f"{path}: not a signal on the databroker of {', '.join(unknown)}")
            self.signal_list.addItem(item)
        self.signal_list.blockSignals(False)

    def _tick_changed(self, _item: QtWidgets.QListWidgetItem) -> None:
        self._updates.now()

    def _summary(self) -> str:
        states = list(self.model.devices.values())
        heard = sum(s.heard for s in states)
        down = [s.name for s in states if s.link in ("down", "given-up")]
        parts = [self._failure] if self._failure else []
        parts.append(f"{heard} of {len(states)} devices streaming signals")
        if down:
            parts.append(f"link down: {', '.join(down)}")
        if self.paused:
            parts.append("paused")
        return " · ".join(parts)

    def _paused(self, paused: bool) -> None:
        self.pause_btn.setText("Resume" if paused else "Pause")
        self._updates.now()

    # -- adding a signal ------------------------------------------------------------------------

    def add_signal(self) -> bool:
        """Watches the typed VSS path on every device too (the stream starts again with it); False,
        with the field saying why, when it is not a VSS path."""
        path = self.signal_input.text().strip()
        if not VSS_PATH.fullmatch(path):
            self.signal_field.set_error("Expected a VSS path such as Vehicle.Speed")
            return False
        self.signal_field.set_error(None)
        self.signal_input.clear()
        if path not in self._added:
            self._added.append(path)
        known = not self.model.add_path(path)
        self._list_new_signals()
        for i in range(self.signal_list.count()):
            item = self.signal_list.item(i)
            if item.text() == path:
                item.setCheckState(Qt.CheckState.Checked)
        if not known and self._run is not None:
            self._follow()
        return True

    # -- export ---------------------------------------------------------------------------------

    def ask_export(self) -> None:
        name = f"{self.app or 'devices'}-signals.csv"
        dialog = QtWidgets.QFileDialog(self, "Export the plotted values", str(Path.home() / name),
                                       "CSV files (*.csv)")
        dialog.setAcceptMode(QtWidgets.QFileDialog.AcceptMode.AcceptSave)
        dialog.fileSelected.connect(lambda path: self.export_csv(Path(path)))
        dialog.open()

    def export_csv(self, path: Path) -> int:
        """Writes the ticked signals' values in the span on screen; how many rows (0 when it failed)."""
        rows = self.model.rows(self.chosen(), *self.shown)
        try:
            with path.open("w", newline="", encoding="utf-8") as out:
                csv.writer(out).writerows([CSV_HEADER, *rows])
        except OSError as exc:
            self.status.setText(f"Could not save {path}: {exc.strerror or exc}")
            return 0
        self.status.setText(f"Saved {len(rows)} values to {path}")
        return len(rows)

    # -- closing --------------------------------------------------------------------------------

    def _stop(self) -> None:
        self._tick.stop()
        self._card_turn.stop()
        if self._task is not None:
            self._task.cancel()

    def done(self, result: int) -> None:  # every way of closing a dialog ends here
        self._stop()
        super().done(result)

    def closeEvent(self, event: Any) -> None:
        self._stop()
        super().closeEvent(event)


def open_monitor(ctx: Context, devices: list[Device], app: str | None, parent: QtWidgets.QWidget) -> MonitorWindow:
    """A Monitor window over ``parent``, watching from now on."""
    window = MonitorWindow(devices, app, ctx.engines.monitor, parent)
    window.start(ctx.run)
    window.show()
    return window
