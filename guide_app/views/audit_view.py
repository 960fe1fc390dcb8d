"""The audit log for managers: who revealed, copied, exported, transferred, erased or recorded
consent for what, newest first. Read-only: there is no edit or clear."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from guide_app.i18n import tr
from guide_app.services.audit import ACTIONS, AuditEntry, AuditService
from guide_app.views.app_services import AppServices
from guide_app.views.formatting import day_time, error_text
from guide_app.views.list_model import ListTableModel

COLUMNS = ("at", "actor", "action", "detail")


def describe(entry: AuditEntry) -> str:
    d = entry.detail
    if entry.action in ("export", "export_refused"):
        return tr("security.audit.detail_export", rows=d.get("rows", 0), file=d.get("file", ""))
    if entry.action == "transfer":
        return tr("security.audit.detail_transfer", count=d.get("customers", 0), note=d.get("note", ""))
    if entry.action == "consent":
        return tr("security.audit.detail_consent", channel=tr(f"security.channel.{d.get('channel', 'phone')}"),
                  value=tr(f"ui.consent.{d.get('value', 'unknown')}"))
    if entry.action == "erase":
        return tr("security.audit.detail_erase", reason=d.get("reason", ""))
    return tr("security.audit.detail_customer")


class AuditModel(ListTableModel[AuditEntry]):
    columns = COLUMNS
    header_prefix = "security.audit.col."

    def cell(self, e: AuditEntry, column: str, role: int) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if column == "at":
            return day_time(e.at)
        if column == "actor":
            return e.actor_name or e.actor_id
        if column == "action":
            return tr(f"security.audit.action.{e.action}")
        return describe(e)


class AuditDialog(QDialog):
    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.audit = AuditService(services.ctx)
        self.setWindowTitle(tr("security.ui.audit_log"))
        self.resize(760, 480)
        self.action = QComboBox()
        self.action.addItem(tr("security.audit.all_actions"), "")
        for action in ACTIONS:
            self.action.addItem(tr(f"security.audit.action.{action}"), action)
        self.action.currentIndexChanged.connect(self.reload)
        self.model = AuditModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.note = QLabel(tr("security.audit.note"))
        self.note.setObjectName("muted")
        self.note.setWordWrap(True)
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        close = QPushButton(tr("ui.close"))
        close.clicked.connect(self.accept)
        top = QHBoxLayout()
        top.addWidget(QLabel(tr("security.audit.filter")))
        top.addWidget(self.action)
        top.addStretch(1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.note, 1)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.error)
        layout.addLayout(bottom)
        self.reload()

    def reload(self) -> None:
        action = str(self.action.currentData() or "")
        self.services.runner.run_db(lambda _c: self.audit.entries(action=action), on_done=self.model.set_rows,
                                    on_error=lambda exc: self.error.setText(error_text(exc)), owner=self)
