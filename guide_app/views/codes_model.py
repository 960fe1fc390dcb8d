"""Item models of the 活码 page: the list of codes (with a text filter) and a code's daily figures.

A store has tens to a few thousand codes, so the list model holds the loaded :class:`CodeInfo`
rows; it never queries the database itself (the page loads rows through the task runner).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

from guide_app.domain.codes import ORG_TZ
from guide_app.i18n import tr
from guide_app.services.code_export import channel_name
from guide_app.services.codes import (
    CHANGES_PENDING,
    DISABLED,
    EXPIRED,
    PENDING,
    REJECTED,
    SYNCED,
    CodeInfo,
    StatDay,
)
from guide_app.views.list_model import ListTableModel

Index = QModelIndex | QPersistentModelIndex
ID_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
FILTER_ROLE = Qt.ItemDataRole.UserRole + 3

CODE_COLUMNS = ("label", "channel", "guide", "state", "expires", "scans", "new_customers")
STATE_COLOURS = {
    PENDING: "#b26a00", REJECTED: "#c62828", CHANGES_PENDING: "#2e7d32", SYNCED: "#2e7d32",
    DISABLED: "#757575", EXPIRED: "#757575",
}


def state_text(info: CodeInfo) -> str:
    return tr(f"code.state.{info.state}")


def state_hint(info: CodeInfo) -> str:
    if not info.url:
        return tr("code.hint.no_url")
    if info.state == REJECTED:
        return tr("code.hint.rejected", reason=info.reject_reason)
    return tr(f"code.hint.{info.state}")


def expiry_text(expires_at: int | None) -> str:
    if expires_at is None:
        return tr("code.expires.never")
    return dt.datetime.fromtimestamp(expires_at / 1000, ORG_TZ).strftime("%Y-%m-%d")


class CodesTableModel(ListTableModel[CodeInfo]):
    columns = CODE_COLUMNS
    header_prefix = "code.col."

    def info(self, row: int) -> CodeInfo:
        return self._rows[row]

    def row_of(self, code_id: str) -> int:
        for i, r in enumerate(self._rows):
            if r.id == code_id:
                return i
        return -1

    def cell(self, info: CodeInfo, col: str, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(info, col)
        if role == ID_ROLE:
            return info.id
        if role == SORT_ROLE:
            if col in ("scans", "new_customers"):
                return getattr(info, col)
            if col == "expires":
                return info.expires_at if info.expires_at is not None else 2**62
            return self._display(info, col)
        if role == FILTER_ROLE:
            return " ".join((info.label, channel_name(info.channel), info.guide_name, info.code)).casefold()
        if role == Qt.ItemDataRole.ToolTipRole and col == "state":
            return state_hint(info)
        if role == Qt.ItemDataRole.ForegroundRole and col == "state":
            return QBrush(QColor(STATE_COLOURS[info.state]))
        if role == Qt.ItemDataRole.TextAlignmentRole and col in ("scans", "new_customers"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _display(info: CodeInfo, col: str) -> str | int:
        if col == "label":
            return info.label
        if col == "channel":
            return channel_name(info.channel)
        if col == "guide":
            return info.guide_name
        if col == "state":
            return state_text(info)
        if col == "expires":
            return expiry_text(info.expires_at)
        return int(getattr(info, col))


class CodesFilterModel(QSortFilterProxyModel):
    """Case-insensitive substring filter over name, channel, guide and code text."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._needle = ""
        self.setSortRole(SORT_ROLE)

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self._needle = text.strip().casefold()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if not self._needle:
            return True
        model = self.sourceModel()
        hay = model.data(model.index(source_row, 0, source_parent), FILTER_ROLE)
        return isinstance(hay, str) and self._needle in hay


STAT_COLUMNS = ("day", "scans", "leads", "new", "existing", "conversion")


def conversion_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


class CodeStatsModel(QAbstractTableModel):
    """A code's days, newest first, with a total row at the end when there are any."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._days: list[StatDay] = []
        self._total: StatDay | None = None

    def set_days(self, days: Sequence[StatDay], total: StatDay | None) -> None:
        self.beginResetModel()
        self._days = list(reversed(days))
        self._total = total if days else None
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid():
            return 0
        return len(self._days) + (1 if self._total is not None else 0)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(STAT_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(STAT_COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return tr(f"code.stats.{STAT_COLUMNS[section]}")
            if role == Qt.ItemDataRole.ToolTipRole and STAT_COLUMNS[section] == "conversion":
                return tr("code.stats.conversion_tip")
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self.rowCount():
            return None
        is_total = index.row() == len(self._days)
        d = self._total if is_total else self._days[index.row()]
        if d is None:
            return None
        col = STAT_COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            if col == "day":
                return tr("code.stats.total") if is_total else d.day
            if col == "conversion":
                return conversion_text(d.conversion)
            return {"scans": d.scans, "leads": d.leads, "new": d.new_customers,
                    "existing": d.existing_customers}[col]
        if role == Qt.ItemDataRole.TextAlignmentRole and col != "day":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
