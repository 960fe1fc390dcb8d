"""Small helpers the 活码 views share: user-facing error text and painting a poster with QPainter."""

from __future__ import annotations

import logging

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QDialogButtonBox

from guide_app.domain.errors import UserError
from guide_app.i18n import tr
from guide_app.services.code_posters import MM_TO_PT, PosterLayout
from guide_app.services.code_render import QUIET_ZONE, logo_box

log = logging.getLogger(__name__)
POSTER_FONT_FAMILIES = ["WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "SimHei"]


def message_of(exc: BaseException) -> str:
    """A UserError in the UI language; anything else a plain sentence (details go to the log)."""
    if isinstance(exc, UserError):
        return tr(exc.key, **exc.params)
    log.error("unexpected error in the codes page", exc_info=exc)
    return tr("code.unexpected_error", error=type(exc).__name__)


def name_buttons(box: QDialogButtonBox) -> None:
    """OK/Cancel in the UI language even where Qt's own catalog is not loaded."""
    for which, key in ((QDialogButtonBox.StandardButton.Ok, "code.ok"),
                       (QDialogButtonBox.StandardButton.Cancel, "code.cancel")):
        button = box.button(which)
        if button is not None:
            button.setText(tr(key))


def paint_poster(painter: QPainter, layout: PosterLayout, target: QRectF) -> None:
    """Draw ``layout`` (millimetres) centred in ``target`` (device units), keeping its proportions:
    the same layout the PDF export draws, so a printed poster matches the exported one."""
    scale = min(target.width() / layout.width_mm, target.height() / layout.height_mm)
    ox = target.x() + (target.width() - layout.width_mm * scale) / 2
    oy = target.y() + (target.height() - layout.height_mm * scale) / 2
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    painter.fillRect(QRectF(ox, oy, layout.width_mm * scale, layout.height_mm * scale), QColor("white"))
    for t in layout.texts:
        font = QFont()
        font.setFamilies(POSTER_FONT_FAMILIES)
        size_mm = t.size_pt / MM_TO_PT
        font.setPixelSize(max(1, round(size_mm * scale)))
        painter.setFont(font)
        painter.setPen(QColor("#595959" if t.grey else "black"))
        box = QRectF(ox, oy + t.y_mm * scale, layout.width_mm * scale, size_mm * 1.25 * scale)
        painter.drawText(box, int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop), t.text)
    n = layout.matrix.size
    module = layout.qr_side_mm * scale / n
    qx, qy = ox + layout.qr_x_mm * scale, oy + layout.qr_y_mm * scale
    black = QColor("black")
    for x, y, length in layout.matrix.runs():
        # a hair of overlap so printer rounding never leaves white seams between modules
        painter.fillRect(QRectF(qx + x * module, qy + y * module, length * module + 0.5, module + 0.5), black)
    if layout.logo_png is not None:
        side = layout.qr_side_mm * scale
        offset, pad_side, inset = logo_box(side, module * QUIET_ZONE)
        painter.fillRect(QRectF(qx + offset, qy + offset, pad_side, pad_side), QColor("white"))
        image = QImage.fromData(layout.logo_png)
        logo_side = pad_side - 2 * inset
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(QRectF(qx + offset + inset, qy + offset + inset, logo_side, logo_side), image)
    painter.restore()
