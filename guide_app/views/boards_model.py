"""The table model of one leaderboard: rank, name, value, change against the previous period and the
previous rank; the caller's own row is bold on a tinted background."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from guide_app.services.boards import format_change, format_value
from guide_app.sync.protocol import LeaderboardRow
from guide_app.views.list_model import ListTableModel

COLUMNS = ("rank", "name", "value", "change", "prev_rank")
KEY_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's guide, store or region id
ME_BRUSH = QBrush(QColor("#fff3e0"))
UP, DOWN = QColor("#2e7d32"), QColor("#c62828")


class BoardModel(ListTableModel[LeaderboardRow]):
    columns = COLUMNS
    header_prefix = "boards.col."

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.metric = "new_customers"
        self._bold = QFont()
        self._bold.setBold(True)

    def set_board(self, metric: str, rows: list[LeaderboardRow]) -> None:
        self.beginResetModel()
        self.metric = metric
        self._rows = list(rows)
        self.endResetModel()

    def cell(self, r: LeaderboardRow, column: str, role: int) -> object:
        if role == Qt.ItemDataRole.DisplayRole:
            if column == "rank":
                return str(r.rank)
            if column == "name":
                return r.name
            if column == "value":
                text = format_value(self.metric, r.value)
                return f"{text}（{r.done}/{r.assigned}）" if r.assigned else text
            if column == "change":
                return format_change(self.metric, r.value, r.prev_value)
            return str(r.prev_rank) if r.prev_rank is not None else ""
        if role == Qt.ItemDataRole.TextAlignmentRole:
            left = column == "name"
            return int((Qt.AlignmentFlag.AlignLeft if left else Qt.AlignmentFlag.AlignRight)
                       | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and r.is_me:
            return self._bold
        if role == Qt.ItemDataRole.BackgroundRole and r.is_me:
            return ME_BRUSH
        if role == Qt.ItemDataRole.ForegroundRole and column == "change" and r.value is not None \
                and r.prev_value is not None and r.value != r.prev_value:
            return UP if r.value > r.prev_value else DOWN
        if role == KEY_ROLE:
            return r.key
        return None
