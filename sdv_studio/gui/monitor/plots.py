"""The signal panel's plots: one per chosen signal, stacked on one time axis, one trace per device.

Numbers are lines; booleans are steps, each device on a lane of its own (six devices toggling the
same lamp would hide each other on one line); enums and strings are a state lane per device, each
value a coloured stretch with its text. A value holds until the next one, up to now while the device
is heard; where it was not (a link or databroker lost) the trace breaks.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg

from sdv_studio.gui import theme
from sdv_studio.gui.monitor.model import Floats, Kind, MonitorModel, Trace
from sdv_studio.gui.monitor.style import device_color, quiet, state_brush, style_axes
from sdv_studio.gui.qt import QtCore, QtGui, QtWidgets

LANE = 0.7  # of a lane's height, what a boolean's step or a state's bar spans
MAX_POINTS = 3000  # per trace drawn: some three per pixel of a wide plot
LABELS_PER_LANE = 12  # texts drawn on a state lane at most: the newest wide enough to read
SIGHT_MARGIN = 40  # pixels beyond the visible part of the plots that count as in sight
HEIGHT = {"number": 150, "lanes": 34}  # least pixels: a number plot; per device on a lane plot (plus the axis)


def steps(t: Floats, v: Floats, until: float | None) -> tuple[Floats, Floats]:
    """A step line through (t, v): each value held until the next point, the last one until
    ``until`` (None: not past its own time). NaN values make breaks."""
    n = len(t)
    x = np.empty(2 * n)
    x[0::2] = t
    x[1:-1:2] = t[1:]
    x[-1] = until if until is not None else t[-1]
    return x, np.repeat(v, 2)


def thinned(x: Floats, y: Floats) -> tuple[Floats, Floats]:
    """At most about MAX_POINTS: beyond, each run of points becomes its first, lowest and highest
    (so a spike or a short toggle still shows; a gap inside a run breaks the line there). The newest
    points stay as they are."""
    n = len(x)
    if n <= MAX_POINTS:
        return x, y
    run = -(-n // (MAX_POINTS // 3))
    whole = (n - 1) // run * run
    xs, ys = x[:whole].reshape(-1, run), y[:whole].reshape(-1, run)
    thin_x = np.repeat(xs[:, 0], 3)
    thin_y = np.column_stack((ys[:, 0], ys.min(axis=1), ys.max(axis=1))).ravel()
    return np.append(thin_x, x[whole:]), np.append(thin_y, y[whole:])


class ViewBoundCurve(pg.PlotCurveItem):
    """A curve bounded by the view it is drawn in. pyqtgraph bounds a curve by its data (minimum
    and maximum over its arrays, widened by the pen in pixels) after every change, and Qt asks for
    it four times a paint: a quarter of a redraw's time with 60 traces. Qt needs it only to clip,
    and the view clips its curves anyway; the value ranges are set by SignalPlot.draw."""

    def boundingRect(self) -> QtCore.QRectF:
        view = self.getViewBox()
        return view.viewRect() if view is not None else QtCore.QRectF()


class ClockAxis(pg.DateAxisItem):
    """This computer's time of day to the second at every zoom (pyqtgraph's shows "42.000" within a minute)."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [time.strftime("%H:%M:%S", time.localtime(value)) for value in values]


def axis_width(names: Sequence[str]) -> int:
    """Pixels for the left axis: the longest device name (a lane's label) or a value, and a margin.
    Every plot gets the same, so their time spans line up."""
    metrics = QtGui.QFontMetrics(QtWidgets.QApplication.font())
    return min(max(max((metrics.horizontalAdvance(n) for n in names), default=0), 48) + 16, 220)


class SignalPlot:
    """One signal: a PlotItem and, per device, its trace (a curve, or a lane's bars and texts)."""

    def __init__(self, path: str, kind: Kind | None, devices: Sequence[tuple[str, str]], left: int) -> None:
        self.path, self.kind, self.devices = path, kind, list(devices)
        self.lanes = kind in ("bool", "state")
        self.item = pg.PlotItem(axisItems={"bottom": ClockAxis()})
        self.item.disableAutoRange()  # draw() sets both ranges
        quiet(self.item)
        style_axes(self.item, grid=not self.lanes)
        p = theme.current()
        self.item.setTitle(f"<span style='color: {p.text}; font-size: 9.5pt'>{path}</span>"
                           + (f"<span style='color: {p.muted}; font-size: 8.5pt'>&nbsp;&nbsp;{kind}</span>"
                              if kind else ""), justify="left")
        self.item.getAxis("left").setWidth(left)
        self.curves: list[ViewBoundCurve] = []
        self._drawn: list[tuple[int, int, float, float | None] | None] = [None] * len(self.devices)
        self._values = (math.inf, -math.inf)  # the value range shown (a number plot's)
        self.span: tuple[float, float] | None = None  # the time span drawn last
        self.bars: list[pg.BarGraphItem] = []
        self.texts: list[list[pg.TextItem]] = []
        count = len(self.devices)
        for index, (_device_id, _name) in enumerate(self.devices):
            color = device_color(index)
            if kind == "state":
                bars = pg.BarGraphItem(x0=[], x1=[], y=[], height=LANE, brushes=[], pen=pg.mkPen(None))
                self.item.addItem(bars)
                self.bars.append(bars)
                self.texts.append([])
                continue
            # A bare curve (PlotDataItem's bookkeeping cost more than the drawing). Lines are smoothed
            # and one pixel wide: Qt strokes a wider smoothed line as an outline, seven times the cost
            # (89 ms against 12.5 for 60 traces of a minute, the Monitor's longest stalls). Steps are
            # straight: two pixels, unsmoothed, drawn as plain segments.
            bold = kind == "bool"
            curve = ViewBoundCurve(pen=pg.mkPen(color, width=2 if bold else 1), connect="finite", antialias=not bold)
            self.item.addItem(curve)
            self.curves.append(curve)
        if self.lanes:
            self.item.setYRange(-0.25, count - 0.05, padding=0)
            self.item.getAxis("left").setTicks([[(count - 1 - i + LANE / 2, name)
                                                 for i, (_id, name) in enumerate(self.devices)], []])

    def height(self) -> int:
        return HEIGHT["lanes"] * len(self.devices) + 48 if self.lanes else HEIGHT["number"]

    def draw(self, model: MonitorModel, start: float, end: float) -> None:
        """The span from ``start`` to ``end``; a number plot's value range fitted to what it shows
        (here, from the arrays at hand, rather than by pyqtgraph asking every curve on each change)."""
        low, high = math.inf, -math.inf
        for index, (device_id, _name) in enumerate(self.devices):
            trace = model.trace(device_id, self.path)
            until = end if model.devices[device_id].heard else None
            base = len(self.devices) - 1 - index
            if self.kind == "state":
                self._draw_state(index, trace, start, until, base)
                continue
            shown = self._draw_curve(index, trace, start, until, base)
            if not self.lanes and len(shown := shown[np.isfinite(shown)]):
                low, high = min(low, float(shown.min())), max(high, float(shown.max()))
        if not self.lanes and low <= high:
            self._fit_values(low, high)
        self.item.setXRange(start, end, padding=0)
        self.span = (start, end)

    def _fit_values(self, low: float, high: float) -> None:
        """A range around [low, high], changed only when the values leave it or fill a third of it:
        a value axis redrawn at every new value would cost more than the traces."""
        shown_low, shown_high = self._values
        if low >= shown_low and high <= shown_high and (high - low) * 3 >= shown_high - shown_low:
            return
        pad = max((high - low) * 0.15, abs(high) * 0.02, 0.5)
        self._values = (low - pad, high + pad)
        self.item.setYRange(*self._values, padding=0)

    def _draw_curve(self, index: int, trace: Trace | None, start: float, until: float | None, base: int) -> Floats:
        """Sets the device's curve (unless it would be the same as drawn); the values it shows."""
        curve = self.curves[index]
        if trace is None or not trace.n:
            if self._drawn[index] is not None:
                curve.setData([], [])
                self._drawn[index] = None
            return np.empty(0)
        first = trace.first_index(start)
        t, v = trace.t[first:], trace.v[first:]
        same = (id(trace), trace.n, float(t[0]), until)
        if self._drawn[index] == same:
            return v
        self._drawn[index] = same
        if self.kind == "bool":
            x, y = steps(t, v, until)
            curve.setData(*thinned(x, base + LANE * y))
            return v
        if until is not None and not math.isnan(v[-1]):
            t, v = np.append(t, until), np.append(v, v[-1])
        curve.setData(*thinned(t, v))
        return v

    def _draw_state(self, index: int, trace: Trace | None, start: float, until: float | None, base: int) -> None:
        bars, texts = self.bars[index], self.texts[index]
        if trace is None or not trace.n:
            bars.setOpts(x0=[], x1=[], y=[], brushes=[])
            for text in texts:
                text.hide()
            return
        first = trace.first_index(start)
        t, v = trace.t[first:], trace.v[first:]
        ends = np.append(t[1:], until if until is not None else t[-1])
        shown = ~np.isnan(v) & (ends > t)
        x0, x1, codes = t[shown], ends[shown], v[shown].astype(int)
        labels = [trace.labels[first + i] for i in np.flatnonzero(shown)]
        bars.setOpts(x0=x0, x1=x1, y=np.full(len(x0), base + LANE / 2), height=LANE,
                     brushes=[state_brush(c) for c in codes])
        wide = [(max(a, start), label) for a, b, label in zip(x0, x1, labels, strict=True)
                if b - max(a, start) > (x1.max(initial=start) - start) / 10][-LABELS_PER_LANE:]
        while len(texts) < len(wide):
            text = pg.TextItem(color=theme.current().text, anchor=(0, 0.5))
            self.item.addItem(text)
            texts.append(text)
        for text, (x, label) in zip(texts, wide, strict=False):
            text.setText(label)
            text.setPos(x, base + LANE / 2)
            text.show()
        for text in texts[len(wide):]:
            text.hide()


class SignalPlots(pg.GraphicsLayoutWidget):
    """The chosen signals' plots, top to bottom, each given the same time span (its axis is shown
    under the last one)."""

    def __init__(self, devices: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.setBackground(theme.current().surface)
        self.setAccessibleName("Signal plots")
        # Every plot scrolls on each redraw: one repaint of the whole view costs less than working
        # out which parts changed, item by item (pyqtgraph's default).
        self.setViewportUpdateMode(QtWidgets.QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.scene().setItemIndexMethod(QtWidgets.QGraphicsScene.ItemIndexMethod.NoIndex)
        self.devices = list(devices)
        self.plots: dict[str, SignalPlot] = {}
        self.ci.setSpacing(6)

    def show_signals(self, paths: Sequence[str], model: MonitorModel) -> None:
        """Plots for ``paths``, in that order, laid out again when the choice changes or a signal's
        kind becomes known (a plot's shape depends on it). A signal's plot is kept while it stays
        chosen with its kind: a plot takes some 20 ms to make, and ticking one signal of ten made
        all ten again."""
        wanted = [(p, model.kind(p)) for p in paths]
        if [(p.path, p.kind) for p in self.plots.values()] == wanted:
            return
        kept = {(p.path, p.kind): p for p in self.plots.values()}
        rows = len(self.plots)
        self.clear()
        self.plots = {}
        left = axis_width([name for _id, name in self.devices])
        for row, (path, kind) in enumerate(wanted):
            plot = kept.pop((path, kind), None) or SignalPlot(path, kind, self.devices, left)
            self.addItem(plot.item, row=row, col=0)
            self.plots[path] = plot
        for index, plot in enumerate(self.plots.values()):
            last = index == len(self.plots) - 1
            plot.item.showAxis("bottom", last)  # one time axis, under the last plot
            # At least their height (scrolled when they do not fit); taller, in proportion, when there is room.
            self.ci.layout.setRowMinimumHeight(index, plot.height() + (24 if last else 0))
            self.ci.layout.setRowStretchFactor(index, plot.height())
        for index in range(len(self.plots), rows):  # rows left empty take no room
            self.ci.layout.setRowMinimumHeight(index, 0)
            self.ci.layout.setRowStretchFactor(index, 0)
        self.setMinimumHeight(sum(p.height() for p in self.plots.values()) + 30 + 6 * len(self.plots))

    def draw(self, model: MonitorModel, start: float, end: float, hold: bool = False) -> None:
        """The span from ``start`` to ``end`` on the plots in sight (out of it, a plot's curves would
        be worked out and bounded for nothing: ten signals in a window that shows three drew three
        times the work); ``hold``: the plots already showing that span stay as they are (paused)."""
        seen = self.viewport().visibleRegion().boundingRect().adjusted(0, -SIGHT_MARGIN, 0, SIGHT_MARGIN)
        for plot in self.plots.values():
            if hold and plot.span == (start, end):
                continue
            if plot.item.sceneBoundingRect().toAlignedRect().intersects(seen):
                plot.draw(model, start, end)

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(640, self.minimumHeight())
