"""Draws the app's icons with QPainter: 24 px (1x) and 48 px (@2x) PNGs next to this file.

Run ``QT_QPA_PLATFORM=offscreen .venv/bin/python resources/icons/make_icons.py`` after changing a
drawing; the PNGs are committed so the app never needs this script at run time. Every drawing is
made on a 24x24 grid and scaled, so both sizes come from the same strokes.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QImage, QPainter, QPainterPath, QPen, QPolygonF

HERE = Path(__file__).resolve().parent
INK = QColor("#4a5565")
ACCENT = QColor("#2f6fde")
DANGER = QColor("#d64545")
SIZES = {"": 24, "@2x": 48}


def pen(p: QPainter, color: QColor = INK, width: float = 1.8) -> None:
    p.setPen(QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
    p.setBrush(Qt.BrushStyle.NoBrush)


def customers(p: QPainter) -> None:
    pen(p)
    p.drawEllipse(QPointF(9, 8), 3.5, 3.5)
    path = QPainterPath()
    path.moveTo(2.5, 20)
    path.cubicTo(2.5, 14.5, 15.5, 14.5, 15.5, 20)
    p.drawPath(path)
    pen(p, ACCENT)
    p.drawEllipse(QPointF(16.5, 7.5), 2.8, 2.8)
    back = QPainterPath()
    back.moveTo(17, 13.2)
    back.cubicTo(20, 13.2, 21.5, 15.5, 21.5, 19)
    p.drawPath(back)


def tags(p: QPainter) -> None:
    pen(p)
    poly = QPolygonF([QPointF(3, 4), QPointF(12, 4), QPointF(21, 13), QPointF(13, 21), QPointF(3, 12)])
    p.drawPolygon(poly)
    p.setBrush(QBrush(ACCENT))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawEllipse(QPointF(8, 9), 1.8, 1.8)


def codes(p: QPainter) -> None:
    pen(p)
    for x, y in ((3, 3), (14, 3), (3, 14)):
        p.drawRoundedRect(QRectF(x, y, 7, 7), 1.2, 1.2)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(INK))
    for x, y in ((5.2, 5.2), (16.2, 5.2), (5.2, 16.2)):
        p.drawRect(QRectF(x, y, 2.6, 2.6))
    p.setBrush(QBrush(ACCENT))
    for x, y in ((14, 14), (18, 14), (16, 17), (14, 19.5), (19, 19.5)):
        p.drawRect(QRectF(x, y, 2.5, 2.5))


def leaderboard(p: QPainter) -> None:
    pen(p)
    p.drawRect(QRectF(3, 12, 5, 9))
    p.drawRect(QRectF(16, 14.5, 5, 6.5))
    pen(p, ACCENT)
    p.drawRect(QRectF(9.5, 8, 5, 13))
    star = QPolygonF()
    for i in range(10):
        r = 2.6 if i % 2 == 0 else 1.1
        a = -math.pi / 2 + i * math.pi / 5
        star.append(QPointF(12 + r * math.cos(a), 4 + r * math.sin(a)))
    p.setBrush(QBrush(ACCENT))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawPolygon(star)


def campaigns(p: QPainter) -> None:
    pen(p)
    body = QPolygonF([QPointF(3, 10), QPointF(8, 10), QPointF(17, 5), QPointF(17, 19), QPointF(8, 14), QPointF(3, 14)])
    p.drawPolygon(body)
    p.drawLine(QPointF(6, 14), QPointF(7.5, 20))
    pen(p, ACCENT)
    p.drawLine(QPointF(19.5, 9.5), QPointF(21.5, 8.5))
    p.drawLine(QPointF(19.5, 12), QPointF(22, 12))
    p.drawLine(QPointF(19.5, 14.5), QPointF(21.5, 15.5))


def settings(p: QPainter) -> None:
    pen(p)
    outer = QPolygonF()
    teeth = 8
    for i in range(teeth * 4):
        a = i * 2 * math.pi / (teeth * 4)
        r = 9 if (i % 4) in (1, 2) else 7
        outer.append(QPointF(12 + r * math.cos(a), 12 + r * math.sin(a)))
    p.drawPolygon(outer)
    pen(p, ACCENT)
    p.drawEllipse(QPointF(12, 12), 3, 3)


def add(p: QPainter) -> None:
    pen(p, ACCENT, 2.2)
    p.drawLine(QPointF(12, 5), QPointF(12, 19))
    p.drawLine(QPointF(5, 12), QPointF(19, 12))


def search(p: QPainter) -> None:
    pen(p, INK, 2)
    p.drawEllipse(QPointF(10.5, 10.5), 6, 6)
    p.drawLine(QPointF(15, 15), QPointF(20.5, 20.5))


def import_(p: QPainter) -> None:
    pen(p)
    p.drawPolyline(QPolygonF([QPointF(4, 14), QPointF(4, 20), QPointF(20, 20), QPointF(20, 14)]))
    pen(p, ACCENT, 2)
    p.drawLine(QPointF(12, 3), QPointF(12, 15))
    p.drawPolyline(QPolygonF([QPointF(7.5, 10.5), QPointF(12, 15), QPointF(16.5, 10.5)]))


def export(p: QPainter) -> None:
    pen(p)
    p.drawPolyline(QPolygonF([QPointF(4, 14), QPointF(4, 20), QPointF(20, 20), QPointF(20, 14)]))
    pen(p, ACCENT, 2)
    p.drawLine(QPointF(12, 15), QPointF(12, 3))
    p.drawPolyline(QPolygonF([QPointF(7.5, 7.5), QPointF(12, 3), QPointF(16.5, 7.5)]))


def lock(p: QPainter) -> None:
    pen(p)
    p.drawRoundedRect(QRectF(5, 11, 14, 10), 2, 2)
    path = QPainterPath()
    path.moveTo(8, 11)
    path.lineTo(8, 8)
    path.arcTo(QRectF(8, 4, 8, 8), 180, -180)
    path.lineTo(16, 11)
    p.drawPath(path)
    p.setBrush(QBrush(ACCENT))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawEllipse(QPointF(12, 16), 1.6, 1.6)


def edit(p: QPainter) -> None:
    pen(p)
    body = QPolygonF([QPointF(15, 4), QPointF(20, 9), QPointF(9, 20), QPointF(4, 20), QPointF(4, 15)])
    p.drawPolygon(body)
    pen(p, ACCENT)
    p.drawLine(QPointF(13, 6), QPointF(18, 11))


def delete(p: QPainter) -> None:
    pen(p, DANGER)
    p.drawLine(QPointF(4, 6.5), QPointF(20, 6.5))
    p.drawPolyline(QPolygonF([QPointF(9, 6.5), QPointF(9.5, 3.5), QPointF(14.5, 3.5), QPointF(15, 6.5)]))
    p.drawPolyline(QPolygonF([QPointF(6, 6.5), QPointF(7, 20.5), QPointF(17, 20.5), QPointF(18, 6.5)]))
    p.drawLine(QPointF(10, 10), QPointF(10, 17))
    p.drawLine(QPointF(14, 10), QPointF(14, 17))


def reminder(p: QPainter) -> None:
    pen(p)
    path = QPainterPath()
    path.moveTo(5, 17)
    path.lineTo(6.5, 15)
    path.lineTo(6.5, 10.5)
    path.cubicTo(6.5, 4.5, 17.5, 4.5, 17.5, 10.5)
    path.lineTo(17.5, 15)
    path.lineTo(19, 17)
    path.closeSubpath()
    p.drawPath(path)
    pen(p, ACCENT)
    p.drawArc(QRectF(10, 17.5, 4, 3.5), 180 * 16, 180 * 16)


def empty_box(p: QPainter) -> None:
    pen(p, QColor("#9aa5b4"), 1.4)
    p.drawPolygon(QPolygonF([QPointF(3, 9), QPointF(12, 5), QPointF(21, 9), QPointF(12, 13)]))
    p.drawPolyline(QPolygonF([QPointF(3, 9), QPointF(3, 17), QPointF(12, 21), QPointF(21, 17), QPointF(21, 9)]))
    p.drawLine(QPointF(12, 13), QPointF(12, 21))


def chevron_down(p: QPainter) -> None:
    pen(p, INK, 2)
    p.drawPolyline(QPolygonF([QPointF(7, 10), QPointF(12, 15), QPointF(17, 10)]))


def chevron_up(p: QPainter) -> None:
    pen(p, INK, 2)
    p.drawPolyline(QPolygonF([QPointF(7, 14), QPointF(12, 9), QPointF(17, 14)]))


DRAWINGS: dict[str, Callable[[QPainter], None]] = {
    "customers": customers,
    "tags": tags,
    "codes": codes,
    "leaderboard": leaderboard,
    "campaigns": campaigns,
    "settings": settings,
    "add": add,
    "search": search,
    "import": import_,
    "export": export,
    "lock": lock,
    "edit": edit,
    "delete": delete,
    "reminder": reminder,
    "empty": empty_box,
    "chevron-down": chevron_down,
    "chevron-up": chevron_up,
}


def render(draw: Callable[[QPainter], None], size: int) -> QImage:
    img = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.scale(size / 24, size / 24)
    draw(p)
    p.end()
    return img


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    for name, draw in DRAWINGS.items():
        for suffix, size in SIZES.items():
            render(draw, size).save(str(HERE / f"{name}{suffix}.png"))
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
