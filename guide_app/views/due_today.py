"""今日待跟进: open follow-up reminders due today or earlier, oldest first."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from guide_app.i18n import tr
from guide_app.services.book_records import FollowUpRecord
from guide_app.tasks import TaskControl
from guide_app.views.app_services import AppServices
from guide_app.views.list_model import Index, ListTableModel

DUE_COLUMNS = ("next_at", "customer", "kind", "note", "by")


class DueModel(ListTableModel[FollowUpRecord]):
    columns = DUE_COLUMNS
    header_prefix = "ui.due.col."

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def cell(self, rec: FollowUpRecord, column: str, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and column == "next_at" and rec.next_at < dt.date.today().isoformat():
            return QColor("#c62828")  # overdue
        if role == Qt.ItemDataRole.UserRole:
            return rec
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if column == "next_at":
            return rec.next_at
        if column == "customer":
            return rec.customer_name
        if column == "kind":
            return tr(f"ui.followup.{rec.kind}")
        if column == "note":
            return rec.note
        return rec.guide_name


class DueTodayPanel(QWidget):
    count_changed = Signal(int)
    open_customer = Signal(str)
    changed = Signal()

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.model = DueModel(self)
        self.view = QTableView()
        self.view.setObjectName("dueTable")
        self.view.setModel(self.model)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(34)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setAlternatingRowColors(True)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.doubleClicked.connect(lambda _i: self._open())
        self.mine = QCheckBox(tr("ui.due.mine_only"))
        self.mine.toggled.connect(self.reload)
        self.open_button = QPushButton(tr("ui.due.open"))
        self.open_button.clicked.connect(self._open)
        self.done_button = QPushButton(tr("ui.due.mark_done"))
        self.done_button.setProperty("primary", True)
        self.done_button.clicked.connect(self._mark_done)
        self.empty = QLabel(tr("ui.due.empty"))
        self.empty.setObjectName("emptyBody")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        top = QHBoxLayout()
        hint = QLabel(tr("ui.due.hint"))
        hint.setObjectName("hint")
        top.addWidget(hint, 1)
        top.addWidget(self.mine)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.done_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.empty, 1)
        layout.addLayout(buttons)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self._update_buttons()

    def reload(self) -> None:
        svc, mine = self.services.follow_ups, self.mine.isChecked()

        def load(_: TaskControl) -> list[FollowUpRecord]:
            return svc.due_today(mine_only=mine)

        self.services.runner.run_db(load, on_done=self._loaded, owner=self, key="due-today")

    def _loaded(self, records: list[FollowUpRecord]) -> None:
        self.model.set_rows(records)
        self.view.setVisible(bool(records))
        self.empty.setVisible(not records)
        self._update_buttons()
        self.count_changed.emit(len(records))

    def selected(self) -> FollowUpRecord | None:
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return None
        rec = self.model.data(rows[0], Qt.ItemDataRole.UserRole)
        return rec if isinstance(rec, FollowUpRecord) else None

    def _update_buttons(self) -> None:
        has = self.selected() is not None
        self.open_button.setEnabled(has)
        self.done_button.setEnabled(has)

    def _open(self) -> None:
        rec = self.selected()
        if rec is not None:
            self.open_customer.emit(rec.customer_id)

    def _mark_done(self) -> None:
        rec = self.selected()
        if rec is None:
            return
        svc = self.services.follow_ups

        def done(_: object) -> None:
            self.changed.emit()
            self.reload()

        self.services.runner.run_db(lambda _c: svc.mark_done(rec.id), on_done=done, owner=self)
