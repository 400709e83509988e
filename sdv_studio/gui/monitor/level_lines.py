"""Faint lines across a plot at its value axis's major ticks: the grid of a number plot.

pyqtgraph draws its grid as part of the axis, so the axis's cached picture spans the whole plot: a
new value range re-rendered that large picture for 4-5 ms a plot, and ten plots whose values grow
together (a signal's first minutes) stalled the window for 50 ms. These lines are drawn straight
onto the view at each paint (a handful of unsmoothed lines), and the axis stays a narrow strip.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg

from sdv_studio.gui.qt import QtCore, QtGui


class LevelLines(pg.GraphicsObject):
    def __init__(self, plot: pg.PlotItem, color: str, alpha: float) -> None:
        super().__init__()
        self.axis: pg.AxisItem = plot.getAxis("left")
        self.view: pg.ViewBox = plot.getViewBox()
        pen_color = pg.mkColor(color)
        pen_color.setAlphaF(alpha)
        self.pen = pg.mkPen(pen_color, width=1)
        self.pen.setCosmetic(True)
        self.setParentItem(self.view)  # the view's own coordinates (pixels), not the data's
        self.setZValue(-100)  # behind the traces, over the view's background
        self._levels_for: tuple[float, float, float] | None = None
        self._values: list[float] = []
        self.view.sigYRangeChanged.connect(self._moved)
        self.view.sigResized.connect(self._resized)

    def _moved(self, *_: Any) -> None:
        self.update()

    def _resized(self, *_: Any) -> None:
        self.prepareGeometryChange()
        self.update()

    def boundingRect(self) -> QtCore.QRectF:
        return self.view.boundingRect()

    def paint(self, painter: QtGui.QPainter, *_: Any) -> None:
        area = self.view.boundingRect()
        (_x0, _x1), (low, high) = self.view.viewRange()
        values = self._levels(low, high, area.height())
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)
        painter.setPen(self.pen)
        for value in values:
            y = self.view.mapFromView(QtCore.QPointF(0.0, value)).y()
            painter.drawLine(QtCore.QLineF(area.left(), y, area.right(), y))

    def _levels(self, low: float, high: float, pixels: float) -> list[float]:
        """The axis's major ticks for this range and height, worked out once for each."""
        key = (low, high, pixels)
        if key != self._levels_for:
            levels = self.axis.tickValues(low, high, pixels)
            self._values = list(levels[0][1]) if levels else []  # the major ticks: the ones the axis labels
            self._levels_for = key
        return self._values
