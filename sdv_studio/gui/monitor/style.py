"""pyqtgraph in the app's look: one colour per device (its card's stripe and its trace in every plot),
the theme's surface and text on plots and sparklines."""

from __future__ import annotations

import pyqtgraph as pg

from sdv_studio.gui import theme
from sdv_studio.gui.monitor.level_lines import LevelLines
from sdv_studio.gui.qt import QtGui, QtWidgets

# Told apart in both palettes and by most colour-blind eyes (Okabe-Ito first, then Tableau).
DEVICE_COLORS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#7f7f7f", "#bcbd22")
# A state lane's values: soft fills with the text drawn over them.
STATE_COLORS = ("#9ecae1", "#fdd0a2", "#a1d99b", "#dadaeb", "#fcbba1", "#c7e9c0", "#d9d9d9", "#fde0ef")
GRID_ALPHA = 0.12  # of the border colour: a number plot's level lines, seen without competing with traces


def device_color(index: int) -> str:
    return DEVICE_COLORS[index % len(DEVICE_COLORS)]


def state_brush(code: int) -> QtGui.QBrush:
    return pg.mkBrush(STATE_COLORS[code % len(STATE_COLORS)])


def quiet(plot: pg.PlotItem) -> None:
    """A live view's plot: no mouse panning, context menu or auto-range button to leave it stuck."""
    plot.setMouseEnabled(x=False, y=False)
    plot.setMenuEnabled(False)
    plot.hideButtons()


def style_axes(plot: pg.PlotItem, grid: bool) -> None:
    """The theme's colours; faint lines across at the left axis's levels when ``grid``. The left
    axis is painted from a cache: its text costs more to draw than the traces, and it changes only
    when the values' range does (the time axis changes on every redraw)."""
    p = theme.current()
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(p.border))
        axis.setTextPen(pg.mkPen(p.muted))
    plot.getAxis("left").setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
    if grid:
        LevelLines(plot, p.border, GRID_ALPHA)
