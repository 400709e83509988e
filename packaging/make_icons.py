"""Per-OS app icons from resources/icons/app.svg: sdv-studio.png (Linux), .ico (Windows), .icns (macOS).

Usage: python packaging/make_icons.py OUT_DIR. Qt's SVG renderer rasterises (Pillow reads no SVG);
Pillow writes the multi-size .ico and .icns on any OS, so every runner builds its own icon.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

from PIL import Image

SOURCE = Path(__file__).resolve().parent.parent / "resources" / "icons" / "app.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = [(s, s) for s in SIZES if s <= 256]  # the .ico format stops at 256


def render(svg: Path, size: int) -> Image.Image:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a build machine may have no display
    from PySide6 import QtCore, QtGui, QtSvg

    _app = QtGui.QGuiApplication.instance() or QtGui.QGuiApplication([])
    image = QtGui.QImage(size, size, QtGui.QImage.Format.Format_ARGB32)
    image.fill(QtCore.Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(image)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    QtSvg.QSvgRenderer(str(svg)).render(painter)
    painter.end()
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return Image.open(io.BytesIO(bytes(buffer.data()))).convert("RGBA")


def make_icons(out: Path, svg: Path = SOURCE) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    largest = render(svg, max(SIZES))
    png, ico, icns = out / "sdv-studio.png", out / "sdv-studio.ico", out / "sdv-studio.icns"
    render(svg, 256).save(png)
    largest.save(ico, sizes=ICO_SIZES)
    largest.save(icns)  # Pillow writes every ICNS size from the 1024 px master
    return [png, ico, icns]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_icons.py OUT_DIR")
    for path in make_icons(Path(sys.argv[1])):
        print(path)
