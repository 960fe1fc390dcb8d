"""Draws the application icon with QPainter: app.png (64 px) and app@2x.png (128 px) for the
window, and app.ico (16–256 px, via Pillow) for the Windows executable.

Run ``QT_QPA_PLATFORM=offscreen .venv/bin/python resources/icons/make_app_icon.py`` after changing
the drawing; the files are committed, so neither the app nor the build needs this script.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QBuffer, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QImage, QPainter, QPainterPath

HERE = Path(__file__).resolve().parent
ACCENT = QColor("#2f6fde")
WHITE = QColor("#ffffff")
GOLD = QColor("#ffc857")


def draw(size: int) -> QImage:
    """A blue rounded square with a guide (head and shoulders) and a gold tag: on a 64 grid."""
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.scale(size / 64, size / 64)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(ACCENT))
    p.drawRoundedRect(QRectF(2, 2, 60, 60), 14, 14)
    p.setBrush(QBrush(WHITE))
    p.drawEllipse(QPointF(27, 23), 9, 9)
    body = QPainterPath()
    body.moveTo(11, 52)
    body.cubicTo(11, 36, 43, 36, 43, 52)
    body.closeSubpath()
    p.drawPath(body)
    p.setBrush(QBrush(GOLD))
    tag = QPainterPath()
    tag.moveTo(40, 30)
    tag.lineTo(50, 30)
    tag.lineTo(56, 38)
    tag.lineTo(50, 46)
    tag.lineTo(40, 46)
    tag.closeSubpath()
    p.drawPath(tag)
    p.setBrush(QBrush(ACCENT))
    p.drawEllipse(QPointF(50, 38), 2.2, 2.2)
    p.end()
    return image


def main() -> int:
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv)
    draw(64).save(str(HERE / "app.png"))
    draw(128).save(str(HERE / "app@2x.png"))
    buf = QBuffer()
    buf.open(QBuffer.OpenModeFlag.WriteOnly)
    draw(256).save(buf, "PNG")
    big = Image.open(io.BytesIO(bytes(buf.data())))
    big.save(HERE / "app.ico", sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
