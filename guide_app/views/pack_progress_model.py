"""Table model of a campaign's progress: one row per store (门店, 区域 when there are several, 导购数,
目标客户, 完成率, then done/targets per task) or one row per guide of a store (导购, 目标客户, 完成率,
per task, and the outcomes recorded)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from guide_app.i18n import tr
from guide_app.sync.protocol import PackProgressRow, PackProgressStore, PackProgressTask

STORE_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's store id (drill-down)
Index = QModelIndex | QPersistentModelIndex
Row = PackProgressStore | PackProgressRow


def percent(value: float) -> str:
    return f"{value:.0%}"


def outcomes_text(outcomes: dict[str, int]) -> str:
    """"已触达 3 · 已购买 1", most first; a done task saved without an outcome is left out."""
    items = sorted(((n, k) for k, n in outcomes.items() if k and n), key=lambda x: (-x[0], x[1]))
    return " · ".join(f"{tr(f'campaign.outcome.{k}')} {n}" for n, k in items)


class ProgressModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Row] = []
        self._tasks: list[PackProgressTask] = []
        self._task_of: dict[str, PackProgressTask] = {}  # "task:<id>" column -> its task
        self._columns: tuple[str, ...] = ()
        self.level = "guides"  # stores | guides

    def set_stores(self, stores: list[PackProgressStore], tasks: list[PackProgressTask]) -> None:
        several_regions = len({s.region_id for s in stores}) > 1
        fixed = ("store", "region", "guides") if several_regions else ("store", "guides")
        self._set("stores", list(stores), tasks, (*fixed, "targets", "completion"), ("outcomes",))

    def set_guides(self, rows: list[PackProgressRow], tasks: list[PackProgressTask]) -> None:
        self._set("guides", list(rows), tasks, ("guide", "targets", "completion"), ("outcomes",))

    def _set(self, level: str, rows: list[Row], tasks: list[PackProgressTask], fixed: tuple[str, ...],
             after: tuple[str, ...]) -> None:
        self.beginResetModel()
        self.level, self._rows, self._tasks = level, rows, list(tasks)
        self._task_of = {f"task:{t.id}": t for t in tasks}
        self._columns = (*fixed, *(f"task:{t.id}" for t in tasks), *after)
        self.endResetModel()

    def row_at(self, row: int) -> Row | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def column_of(self, name: str) -> int:
        return self._columns.index(name) if name in self._columns else -1

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not (0 <= section < len(self._columns)):
            return None
        column = self._columns[section]
        task = self._task_of.get(column)
        if role == Qt.ItemDataRole.DisplayRole:
            return task.title if task is not None else tr(f"campaign.progress.col.{column}")
        if role == Qt.ItemDataRole.ToolTipRole and task is not None:
            return tr("campaign.progress.task_tip", title=task.title, due=task.due)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)) \
                or not (0 <= index.column() < len(self._columns)):
            return None
        r = self._rows[index.row()]
        column = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(r, column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            left = column in ("store", "region", "guide", "outcomes")
            return int((Qt.AlignmentFlag.AlignLeft if left else Qt.AlignmentFlag.AlignRight)
                       | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column in self._task_of and r.targets:
            return percent(r.done.get(self._task_of[column].id, 0) / r.targets)
        if role == STORE_ROLE:
            return r.store_id
        return None

    def _text(self, r: Row, column: str) -> str:
        if column == "store":
            return r.store_name
        if column == "region" and isinstance(r, PackProgressStore):
            return r.region_name
        if column == "guides" and isinstance(r, PackProgressStore):
            return str(r.guides)
        if column == "guide" and isinstance(r, PackProgressRow):
            return r.guide_name or r.guide_id
        if column == "targets":
            return str(r.targets)
        if column == "completion":
            return percent(r.completion(len(self._tasks))) if r.targets else "—"
        if column == "outcomes":
            return outcomes_text(r.outcomes)
        return f"{r.done.get(self._task_of[column].id, 0)}/{r.targets}"
