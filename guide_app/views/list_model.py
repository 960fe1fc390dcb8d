"""A read-only table model over a list of loaded rows: one table row per item, one column per name.

The tables of views/ that show a list the page loaded through the task runner (audit log, due follow-ups,
a leaderboard, the 活码 list) share their row and column counts, headers and index checks here, and
each says only what its cells show."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from guide_app.i18n import tr

RowT = TypeVar("RowT")
Index = QModelIndex | QPersistentModelIndex


class ListTableModel(QAbstractTableModel, Generic[RowT]):
    """``columns`` name the columns; a column's header is the catalog text ``header_prefix + name``.
    ``cell`` answers for a valid index only, so it never checks bounds itself."""

    columns: ClassVar[tuple[str, ...]] = ()
    header_prefix: ClassVar[str] = ""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[RowT] = []

    def set_rows(self, rows: Iterable[RowT]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[RowT]:
        return list(self._rows)

    def row_at(self, row: int) -> RowT | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self.columns):
            return tr(self.header_prefix + self.columns[section])
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows) \
                or not 0 <= index.column() < len(self.columns):
            return None
        return self.cell(self._rows[index.row()], self.columns[index.column()], role)

    def cell(self, row: RowT, column: str, role: int) -> Any:
        """What ``row`` shows in ``column`` for ``role``; None shows nothing (the base shows no cells)."""
        return None
