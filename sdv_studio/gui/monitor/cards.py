"""A device's card in the Monitor view: its link and the app's health, CPU and memory sparklines,
restarts, uptime, signal updates per second, KUKSA errors and latency."""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg

from sdv_studio.gui import theme
from sdv_studio.gui.monitor.model import DeviceState, Trace
from sdv_studio.gui.monitor.style import quiet
from sdv_studio.gui.qt import Qt, QtWidgets
from sdv_studio.gui.widgets.common import restyle
from sdv_studio.models.metrics import AppMetrics

SPARK_SECONDS = 120.0  # what a sparkline spans at most, back from the device's newest sample
HEALTH = {"running": "ok", "degraded": "warn", "crashed": "error", "scheduled": "muted"}


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(seconds)
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def number(value: float | None, unit: str = "", digits: int = 1) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.{digits}f}{unit}"


class Sparkline(pg.PlotWidget):
    """A small filled line of the last SPARK_SECONDS (or of all there is), no axes: the shape; the
    caption says the figure."""

    def __init__(self, color: str, name: str, from_zero: bool) -> None:
        super().__init__(background=theme.current().surface)
        self.setAccessibleName(name)
        self.setFixedHeight(38)
        self.setMinimumWidth(80)
        self.from_zero = from_zero  # CPU from 0; memory around its own level, where its changes show
        plot = self.getPlotItem()
        quiet(plot)
        plot.hideAxis("left")
        plot.hideAxis("bottom")
        plot.setContentsMargins(0, 0, 0, 0)
        fill = pg.mkColor(color)
        fill.setAlpha(50)
        # One pixel: a wider smoothed line is stroked as an outline, most of a sparkline's paint.
        self.curve = plot.plot(pen=pg.mkPen(color, width=1), fillLevel=0, brush=fill, connect="finite")
        self._drawn = -1

    def show_trace(self, trace: Trace) -> None:
        if trace.n == self._drawn:
            return
        self._drawn = trace.n
        if not trace.n:
            self.curve.setData([], [])
            return
        end = float(trace.t[-1])
        first = trace.first_index(end - SPARK_SECONDS)
        t, v = trace.t[first:], trace.v[first:]
        finite = v[np.isfinite(v)]
        low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
        if self.from_zero:
            low, high = 0.0, max(high * 1.15, 1.0)
        else:
            pad = max((high - low) * 0.25, abs(high) * 0.05, 1e-6)
            low, high = low - pad, high + pad
        self.curve.setFillLevel(low)
        self.curve.setData(t, v)
        self.setXRange(max(float(t[0]), end - SPARK_SECONDS), end, padding=0)  # a new device's fill the width
        self.setYRange(low, high, padding=0)


class SteadyLabel(QtWidgets.QLabel):
    """A label whose width follows its widest text so far, never each text: a card's figures change
    every second, and each change of a label's width re-laid out the card grid and resized every
    sparkline (20 ms, the Monitor's longest stalls once the uptime gained a digit)."""

    def __init__(self, text: str = "", widest: str = "") -> None:
        """``widest``: a text as wide as the label's usually get, so it starts that wide."""
        super().__init__(widest)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.setMinimumSize(self.sizeHint())  # as tall too: as many lines, with or without text
        super().setText(text)

    def setText(self, text: str) -> None:
        if text == self.text():
            return
        super().setText(text)
        wanted = self.sizeHint().width()
        if wanted > self.minimumWidth():
            self.setMinimumWidth(wanted)


class DeviceCard(QtWidgets.QFrame):
    def __init__(self, state: DeviceState, color: str, app: str | None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.device_id = state.id
        self.app = app
        col = QtWidgets.QVBoxLayout(self)
        col.setContentsMargins(0, 0, 12, 10)
        col.setSpacing(6)
        head = QtWidgets.QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        stripe = QtWidgets.QFrame()
        stripe.setFixedSize(5, 22)
        stripe.setStyleSheet(f"background: {color}; border-radius: 2px;")
        head.addWidget(stripe)
        self.name = QtWidgets.QLabel(state.name)
        self.name.setObjectName("cardTitle")
        head.addWidget(self.name)
        head.addStretch()
        self.health = QtWidgets.QLabel()
        self.health.setObjectName("pill")
        head.addWidget(self.health)
        self.badge = QtWidgets.QLabel()
        self.badge.setObjectName("pill")
        self.badge.setProperty("kind", "error")
        self.badge.hide()
        head.addWidget(self.badge)
        top = QtWidgets.QWidget()
        top.setLayout(head)
        top.setContentsMargins(0, 10, 0, 0)
        col.addWidget(top)

        body = QtWidgets.QGridLayout()
        body.setContentsMargins(14, 0, 0, 0)
        body.setHorizontalSpacing(12)
        body.setVerticalSpacing(2)
        what = "the app's" if app else "the device's"
        self.cpu_caption = self._caption("CPU", "CPU  <b>100.0 %</b>")
        self.memory_caption = self._caption("Memory", "Memory  <b>1000 MB</b> of 1000")
        self.cpu = Sparkline(color, f"{state.name}: {what} CPU", from_zero=True)
        self.memory = Sparkline(color, f"{state.name}: {what} memory", from_zero=False)
        body.addWidget(self.cpu_caption, 0, 0)
        body.addWidget(self.memory_caption, 0, 1)
        body.addWidget(self.cpu, 1, 0)
        body.addWidget(self.memory, 1, 1)
        col.addLayout(body)
        self.figures = SteadyLabel(widest=_figures_text(WIDE_FIGURES))
        self.figures.setObjectName("figure")
        self.figures.setTextFormat(Qt.TextFormat.RichText)
        self.figures.setContentsMargins(14, 0, 0, 0)
        self.figures.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        col.addWidget(self.figures)

    @staticmethod
    def _caption(text: str, widest: str) -> QtWidgets.QLabel:
        label = SteadyLabel(text, widest)
        label.setObjectName("muted")
        return label

    def show_state(self, state: DeviceState, app: AppMetrics | None) -> None:
        self._show_link(state, app)
        self.cpu.show_trace(state.cpu)
        self.memory.show_trace(state.memory)
        cpu, memory = state.cpu.last_value(), state.memory.last_value()
        if self.app:
            limit = app.memory_limit if app else None
            self.cpu_caption.setText(f"CPU  <b>{number(cpu, ' %')}</b>")
            self.memory_caption.setText(f"Memory  <b>{number(memory, ' MB', 0)}</b>"
                                        + (f" of {limit / 2**20:.0f}" if limit else ""))
        else:
            self.cpu_caption.setText(f"CPU  <b>{number(cpu, ' %')}</b>")
            self.memory_caption.setText(f"Memory  <b>{number(memory, ' %', 0)}</b>")
        self.figures.setText(self._figures(app))

    def _show_link(self, state: DeviceState, app: AppMetrics | None) -> None:
        tip = ""
        if self.app is None:
            health, kind = ("device", "muted")
        elif state.metrics is None:
            health, kind = ("waiting", "muted")
        elif app is None:
            health, kind = ("not installed", "error")
        elif state.link in ("down", "given-up"):  # the last health the device told, not a current one
            health, kind = (f"was {app.status}", "muted")
            said = time.strftime("%H:%M:%S", time.localtime(state.metrics.timestamp))
            tip = f"The last health {state.name} reported, at {said}: it has not answered since"
        else:
            health, kind = (app.status, HEALTH.get(app.status, "muted"))
            tip = (app.health or {}).get("reason", "")
        self._pill(self.health, health, kind, tip)
        self._show_badge(state)

    def _show_badge(self, state: DeviceState) -> None:
        if state.link == "connecting":
            self._pill(self.badge, "connecting…", "muted", "")
        elif state.link == "down":
            retry = f" · retry in {state.retry_in:g} s" if state.retry_in else ""
            self._pill(self.badge, f"link down{retry}", "error", state.problem)
        elif state.link == "given-up":
            self._pill(self.badge, "not monitored", "error", state.problem)
        elif state.problem:
            self._pill(self.badge, "databroker down", "warn", state.problem)
        else:
            self.badge.hide()
            return
        self.badge.show()

    @staticmethod
    def _pill(label: QtWidgets.QLabel, text: str, kind: str, tip: str) -> None:
        label.setText(text)
        label.setToolTip(tip)
        if label.property("kind") != kind:
            label.setProperty("kind", kind)
            restyle(label)

    def _figures(self, app: AppMetrics | None) -> str:
        if app is None:  # the pill says why: no app watched, none answered yet, or not installed
            return ""
        latency = app.kuksa_latency
        pair = (f"{number(latency.p50, '', 1)} / {number(latency.p95, ' ms', 1)}"
                if latency and latency.p50 is not None else "–")
        errors = "–" if app.errors is None else str(app.errors)
        color = theme.current().error if app.errors else theme.current().text
        return _figures_text([("Restarts", str(app.restarts)), ("Uptime", duration(app.uptime)),
                              ("Updates/s", number(app.signal_updates_per_second)),
                              ("KUKSA errors", f"<span style='color: {color}'>{errors}</span>"), ("p50 / p95", pair)])


# Figures as wide as a card's usually get (an app up for most of an hour): the card starts that wide.
WIDE_FIGURES = [("Restarts", "10"), ("Uptime", "59 min 59 s"), ("Updates/s", "100.0"), ("KUKSA errors", "10"),
                ("p50 / p95", "10.0 / 10.0 ms")]


def _figures_text(cells: list[tuple[str, str]]) -> str:
    """The app's figures on two lines (on one, three cards side by side needed a very wide window)."""
    muted = theme.current().muted
    shown = [f"<span style='color: {muted}'>{k}</span> <b>{v}</b>" for k, v in cells]
    return "&nbsp;&nbsp;&nbsp;".join(shown[:3]) + "<br>" + "&nbsp;&nbsp;&nbsp;".join(shown[3:])
