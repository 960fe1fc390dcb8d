"""Table model of a campaign's target customers: name, masked phone, owner guide, then one column
per task showing its outcome (or 未完成)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from guide_app.domain.packs import Task
from guide_app.i18n import tr
from guide_app.services.campaigns import Target

ID_ROLE = Qt.ItemDataRole.UserRole + 1
_FIXED = ("name", "phone", "owner")

Index = QModelIndex | QPersistentModelIndex


def task_state_text(target: Target, task_id: str) -> str:
    state = target.tasks.get(task_id)
    if state is None or state.status != "done":
        return tr("campaign.ui.open")
    return tr(f"campaign.outcome.{state.outcome}")


class TargetsModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Target] = []
        self._tasks: list[Task] = []
        self._guides: dict[str, str] = {}

    def set_rows(self, rows: list[Target], tasks: list[Task], guides: dict[str, str]) -> None:
        self.beginResetModel()
        self._rows, self._tasks, self._guides = rows, tasks, guides
        self.endResetModel()

    def target(self, row: int) -> Target | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, customer_id: str) -> int:
        for i, t in enumerate(self._rows):
            if t.customer_id == customer_id:
                return i
        return -1

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(_FIXED) + len(self._tasks)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        if 0 <= section < len(_FIXED):
            return tr(f"campaign.ui.col.{_FIXED[section]}")
        if 0 <= section - len(_FIXED) < len(self._tasks):
            return self._tasks[section - len(_FIXED)].title
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        t = self._rows[index.row()]
        col = index.column()
        if role == ID_ROLE:
            return t.customer_id
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return t.name
            if col == 1:
                return t.phone_masked
            if col == 2:
                return self._guides.get(t.owner_guide_id, "")
            task = self._task(col)
            return task_state_text(t, task.id) if task else None
        if role == Qt.ItemDataRole.ToolTipRole and col >= len(_FIXED):
            task = self._task(col)
            state = t.tasks.get(task.id) if task else None
            return state.note or None if state else None
        return None

    def _task(self, col: int) -> Task | None:
        i = col - len(_FIXED)
        return self._tasks[i] if 0 <= i < len(self._tasks) else None
