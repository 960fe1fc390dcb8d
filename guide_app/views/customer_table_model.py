"""The customer list as a lazy table model: it holds only the ordered ids of the current result and
fetches display rows a page at a time (by id, on the DB thread), keeping a small LRU of pages.

A 100k-customer book therefore costs one list of ints in memory; scrolling asks for the pages it
paints. A new result (``set_ids``) bumps a generation number so late pages of an old result are
ignored.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from guide_app.i18n import tr
from guide_app.services.book_records import CustomerRow
from guide_app.services.customer_query import CustomerQuery
from guide_app.tasks import TaskControl, TaskRunner
from guide_app.views import formatting

PAGE_SIZE = 100
MAX_PAGES = 12  # rows kept in memory: at most PAGE_SIZE * MAX_PAGES

COLUMNS = ("name", "phone", "wechat", "stage", "tags", "owner", "last_purchase", "total")
COL = {name: i for i, name in enumerate(COLUMNS)}

ID_ROLE = Qt.ItemDataRole.UserRole + 1
TAGS_ROLE = Qt.ItemDataRole.UserRole + 2
ROW_ROLE = Qt.ItemDataRole.UserRole + 3

AnyIndex = QModelIndex | QPersistentModelIndex
STAGE_COLORS = {"new": "#1e6fd9", "active": "#1e8a4c", "sleeping": "#b26a00", "lost": "#8a94a0"}


class CustomerTableModel(QAbstractTableModel):
    def __init__(self, query: CustomerQuery, runner: TaskRunner, parent: Any = None) -> None:
        super().__init__(parent)
        self._query = query
        self._runner = runner
        self._ids: list[int] = []
        self._pages: OrderedDict[int, dict[int, CustomerRow]] = OrderedDict()
        self._loading: set[int] = set()
        self._generation = 0

    # -- contents --------------------------------------------------------------------------
    def set_ids(self, ids: list[int]) -> None:
        self.beginResetModel()
        self._ids = list(ids)
        self._drop_cache()
        self.endResetModel()

    def refresh_rows(self) -> None:
        """Forget loaded rows (after an edit) and repaint; visible pages load again."""
        self._drop_cache()
        if self._ids:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._ids) - 1, len(COLUMNS) - 1))

    def _drop_cache(self) -> None:
        self._generation += 1
        self._pages.clear()
        self._loading.clear()

    def ids(self) -> list[int]:
        return list(self._ids)

    def pk_at(self, row: int) -> int:
        return self._ids[row]

    def cached_pages(self) -> int:
        return len(self._pages)

    def row_at(self, row: int) -> CustomerRow | None:
        """The loaded row, or None (and a page request) when it is not in memory yet."""
        if not 0 <= row < len(self._ids):
            return None
        page_no = row // PAGE_SIZE
        page = self._pages.get(page_no)
        if page is None:
            self._request(page_no)
            return None
        self._pages.move_to_end(page_no)
        return page.get(self._ids[row])

    def _request(self, page_no: int) -> None:
        if page_no in self._loading:
            return
        self._loading.add(page_no)
        generation = self._generation
        pks = self._ids[page_no * PAGE_SIZE:(page_no + 1) * PAGE_SIZE]
        query = self._query

        def load(_: TaskControl) -> list[CustomerRow]:
            return query.rows(pks)

        self._runner.run_db(
            load, owner=self,
            on_done=lambda rows: self._page_loaded(generation, page_no, rows),
            on_error=lambda _exc: self._loading.discard(page_no),
        )

    def _page_loaded(self, generation: int, page_no: int, rows: list[CustomerRow]) -> None:
        if generation != self._generation:
            return
        self._loading.discard(page_no)
        self._pages[page_no] = {r.pk: r for r in rows}
        self._pages.move_to_end(page_no)
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)
        first = page_no * PAGE_SIZE
        last = min(first + PAGE_SIZE, len(self._ids)) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))

    # -- Qt model API ----------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return tr(f"ui.customers.col.{COLUMNS[section]}")
            if role == Qt.ItemDataRole.TextAlignmentRole and COLUMNS[section] == "total":
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._ids)) or not (0 <= index.column() < len(COLUMNS)):
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if COLUMNS[index.column()] == "total":
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.ForegroundRole,
                        ID_ROLE, TAGS_ROLE, ROW_ROLE):
            return None
        row = self.row_at(index.row())
        if row is None:
            return tr("ui.loading") if role == Qt.ItemDataRole.DisplayRole and index.column() == 0 else None
        if role == ID_ROLE:
            return row.id
        if role == ROW_ROLE:
            return row
        if role == TAGS_ROLE:
            return row.tags
        col = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor(STAGE_COLORS[row.stage]) if col == "stage" and row.stage in STAGE_COLORS else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return "、".join(name for name, _ in row.tags) if col == "tags" and row.tags else None
        return _display(row, col)


def _display(row: CustomerRow, col: str) -> str:
    if col == "name":
        return row.name
    if col == "phone":
        return formatting.masked(row.phone)
    if col == "wechat":
        return row.wechat_id
    if col == "stage":
        return formatting.stage(row.stage)
    if col == "tags":
        return "、".join(name for name, _ in row.tags)
    if col == "owner":
        return row.owner_name
    if col == "last_purchase":
        return formatting.day(row.last_purchase_at)
    return formatting.money(row.total_spent_cents) if row.order_count else ""
