"""The table model of one leaderboard: rank, name, value, change against the previous period and the
previous rank; the caller's own row is bold on a tinted background."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from guide_app.i18n import tr
from guide_app.services.boards import format_change, format_value
from guide_app.sync.protocol import LeaderboardRow

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("rank", "name", "value", "change", "prev_rank")
KEY_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's guide, store or region id
ME_BRUSH = QBrush(QColor("#fff3e0"))
UP, DOWN = QColor("#2e7d32"), QColor("#c62828")


class BoardModel(QAbstractTableModel):
    def __init__(self, parent: object = None) -> None:
        super().__init__(parent)  # type: ignore[arg-type]
        self.metric = "new_customers"
        self._rows: list[LeaderboardRow] = []
        self._bold = QFont()
        self._bold.setBold(True)

    def set_board(self, metric: str, rows: list[LeaderboardRow]) -> None:
        self.beginResetModel()
        self.metric = metric
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> LeaderboardRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(COLUMNS):
            return tr(f"boards.col.{COLUMNS[section]}")
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)) or not (0 <= index.column() < len(COLUMNS)):
            return None
        r = self._rows[index.row()]
        column = COLUMNS[index.column()]
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
