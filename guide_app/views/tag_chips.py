"""Tags drawn as small coloured chips (in the list's tag column and on the record page)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from guide_app.views.customer_table_model import TAGS_ROLE

CHIP_PAD_X = 7
CHIP_GAP = 4
CHIP_HEIGHT = 20


def chip_colors(color: str) -> tuple[QColor, QColor]:
    """A light fill of the group colour with text in the colour itself, readable on white."""
    base = QColor(color) if QColor.isValidColorName(color) else QColor("#607d8b")
    fill = QColor(base)
    fill.setAlpha(38)
    text = base.darker(135)
    return fill, text


def paint_chips(painter: QPainter, rect: QRect, tags: list[tuple[str, str]], metrics: QFontMetrics) -> None:
    x = rect.left() + 4
    top = rect.top() + (rect.height() - CHIP_HEIGHT) // 2
    for name, color in tags:
        width = metrics.horizontalAdvance(name) + 2 * CHIP_PAD_X
        if x + width > rect.right() - 2:
            painter.setPen(QColor("#616e7c"))
            painter.drawText(QRect(x, top, rect.right() - x, CHIP_HEIGHT), Qt.AlignmentFlag.AlignVCenter, "…")
            break
        fill, text = chip_colors(color)
        chip = QRectF(x, top, width, CHIP_HEIGHT)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawRoundedRect(chip, CHIP_HEIGHT / 2, CHIP_HEIGHT / 2)
        painter.setPen(text)
        painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, name)
        x += width + CHIP_GAP


class TagChipDelegate(QStyledItemDelegate):
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        tags: Any = index.data(TAGS_ROLE)
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        if not tags:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = option.font  # type: ignore[attr-defined]
        font.setPointSizeF(max(8.0, font.pointSizeF() - 1))
        painter.setFont(font)
        paint_chips(painter, option.rect, list(tags), QFontMetrics(font))  # type: ignore[attr-defined]
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        base = super().sizeHint(option, index)
        return QSize(max(base.width(), 160), max(base.height(), CHIP_HEIGHT + 10))
