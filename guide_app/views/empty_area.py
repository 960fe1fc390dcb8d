"""An area whose data comes from HQ (活码, 业绩榜, 活动) before any has arrived: it says what the area
will hold and what makes it fill, instead of showing an empty table."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from guide_app.i18n import tr
from guide_app.views.theme import icon


def centred_column(widgets: list[QWidget], width: int = 580) -> QHBoxLayout:
    """Widgets stacked in a column of fixed width, centred: word-wrapped labels then get the height
    their text needs at that width (a label added with an alignment flag would not)."""
    column = QWidget()
    column.setFixedWidth(width)
    inner = QVBoxLayout(column)
    inner.setContentsMargins(0, 0, 0, 0)
    inner.setSpacing(12)
    for w in widgets:
        inner.addWidget(w)
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(column)
    row.addStretch(1)
    return row


class EmptyAreaPage(QWidget):
    def __init__(self, area: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.area = area
        title = QLabel(tr(f"ui.nav.{area}"))
        title.setObjectName("pageTitle")
        picture = QLabel()
        picture.setPixmap(icon(area).pixmap(72, 72))
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.heading = QLabel(tr(f"ui.empty.{area}.title"))
        self.heading.setObjectName("emptyTitle")
        self.heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body = QLabel(tr(f"ui.empty.{area}.body"))
        self.body.setObjectName("emptyBody")
        self.body.setWordWrap(True)
        self.body.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.next_step = QLabel(tr(f"ui.empty.{area}.how"))
        self.next_step.setObjectName("hint")
        self.next_step.setWordWrap(True)
        self.next_step.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(title)
        layout.addStretch(2)
        layout.addLayout(centred_column([picture, self.heading, self.body, self.next_step]))
        layout.addStretch(3)
