"""SVG icons from resources/icons (sdv_studio.shipped), tinted to the theme (the files draw in ``currentColor``)."""

from __future__ import annotations

from functools import cache

from sdv_studio import shipped
from sdv_studio.gui.qt import QtCore, QtGui

_SIZES = (16, 20, 24, 32, 48)


@cache
def _svg(name: str) -> bytes:
    return (shipped.icons_dir() / f"{name}.svg").read_bytes()


@cache
def icon(name: str, color: str = "#5b6b7a") -> QtGui.QIcon:
    data = _svg(name).replace(b"currentColor", color.encode())
    result = QtGui.QIcon()
    for size in _SIZES:
        pixmap = QtGui.QPixmap()
        pixmap.loadFromData(data, "SVG")
        result.addPixmap(pixmap.scaled(size, size, QtCore.Qt.AspectRatioMode.KeepAspectRatio,
                                       QtCore.Qt.TransformationMode.SmoothTransformation))
    return result


def app_icon() -> QtGui.QIcon:
    return QtGui.QIcon(str(shipped.icons_dir() / "app.svg"))
