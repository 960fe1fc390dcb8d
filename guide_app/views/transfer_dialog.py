"""离职继承 / 在职转接 for managers: pick the guide whose customers move, tick the customers (all by
default), pick who takes each one — shared out evenly with one click, or by hand per row — add a
handover note, and transfer. Phones are shown masked."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from guide_app.i18n import tr
from guide_app.services.customer_query import CustomerFilter, CustomerRow
from guide_app.services.org import GuideInfo
from guide_app.services.privacy import masked
from guide_app.services.transfer import NOTE_MAX, TransferResult, TransferService, split_evenly
from guide_app.tasks import TaskControl
from guide_app.views.app_services import AppServices
from guide_app.views.formatting import error_text

_Index = QModelIndex | QPersistentModelIndex


class GuideChoiceDelegate(QStyledItemDelegate):
    """Edits the "to" cell with a combo of the receiving guides; the guide id is the item's data."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.choices: list[tuple[str, str]] = []

    def name_of(self, guide_id: str) -> str:
        return dict(self.choices).get(guide_id, tr("security.transfer_ui.choose"))

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: _Index) -> QWidget:
        combo = QComboBox(parent)
        combo.addItem(tr("security.transfer_ui.choose"), "")
        for gid, name in self.choices:
            combo.addItem(name, gid)
        return combo

    def setEditorData(self, editor: QWidget, index: _Index) -> None:
        if isinstance(editor, QComboBox):
            editor.setCurrentIndex(max(0, editor.findData(index.data(Qt.ItemDataRole.UserRole) or "")))

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: _Index) -> None:
        if isinstance(editor, QComboBox):
            gid = str(editor.currentData() or "")
            model.setData(index, gid, Qt.ItemDataRole.UserRole)
            model.setData(index, self.name_of(gid), Qt.ItemDataRole.DisplayRole)


class TransferDialog(QDialog):
    transferred = Signal(object)  # TransferResult

    def __init__(self, services: AppServices, *, from_guide_id: str = "", selected: Sequence[int] = (),
                 parent: QWidget | None = None) -> None:
        """``selected``: list keys of customers picked in the customer list (its search, tag and stage
        filters make the selection); only those are ticked, and their owner is the default guide."""
        super().__init__(parent)
        self.services = services
        self.transfers = TransferService(services.ctx)
        self.guides: list[GuideInfo] = []
        self.rows: list[CustomerRow] = []
        self._wanted_from = from_guide_id
        self._preselected: set[str] | None = None
        self.setWindowTitle(tr("security.ui.transfer"))
        self.resize(760, 560)
        self.from_guide = QComboBox()
        self.from_guide.currentIndexChanged.connect(self._load_customers)
        self.targets = QListWidget()
        self.targets.setMaximumHeight(120)
        self.even_button = QPushButton(tr("security.transfer_ui.even"))
        self.even_button.clicked.connect(self.share_evenly)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels([tr("field.name"), tr("field.phone"), tr("security.transfer_ui.to")])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        # one combo editor at a time (a departing guide may own thousands of customers)
        self.delegate = GuideChoiceDelegate(self.table)
        self.table.setItemDelegateForColumn(2, self.delegate)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
        self.note = QLineEdit()
        self.note.setMaxLength(NOTE_MAX)
        self.note.setPlaceholderText(tr("security.transfer_ui.note_placeholder"))
        self.summary = QLabel()
        self.summary.setObjectName("muted")
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.transfer_button = QPushButton(tr("security.transfer_ui.do_transfer"))
        self.transfer_button.setProperty("primary", True)
        self.transfer_button.clicked.connect(self.submit)
        cancel = QPushButton(tr("ui.cancel"))
        cancel.clicked.connect(self.reject)
        form = QFormLayout()
        form.addRow(tr("security.transfer_ui.from"), self.from_guide)
        targets_row = QHBoxLayout()
        targets_row.addWidget(self.targets, 1)
        targets_row.addWidget(self.even_button, 0, Qt.AlignmentFlag.AlignTop)
        form.addRow(tr("security.transfer_ui.targets"), targets_row)
        form.addRow(tr("field.handover_note"), self.note)
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.transfer_button)
        layout = QVBoxLayout(self)
        hint = QLabel(tr("security.transfer_ui.hint"))
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addLayout(form)
        ticks = QHBoxLayout()
        for key, ticked in (("security.transfer_ui.tick_all", True), ("security.transfer_ui.tick_none", False)):
            button = QPushButton(tr(key))
            button.clicked.connect(lambda _=False, t=ticked: self.tick_all(t))
            ticks.addWidget(button)
        ticks.addStretch(1)
        layout.addLayout(ticks)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        picked = list(selected)

        def load(_: TaskControl) -> tuple[list[GuideInfo], list[CustomerRow]]:
            return services.org.guides(include_inactive=True), services.query.rows(picked) if picked else []

        services.runner.run_db(load, on_done=self._guides_loaded, owner=self)

    # --- loading ------------------------------------------------------------------------------
    def _guides_loaded(self, loaded: tuple[list[GuideInfo], list[CustomerRow]]) -> None:
        guides, picked = loaded
        self.guides = guides
        if picked:
            self._preselected = {r.id for r in picked}
            owners = [r.owner_guide_id for r in picked]
            self._wanted_from = self._wanted_from or max(set(owners), key=owners.count)
        self.from_guide.blockSignals(True)
        for g in guides:
            label = g.name if g.active else tr("security.transfer_ui.departed", name=g.name)
            self.from_guide.addItem(label, g.id)
        self.from_guide.setCurrentIndex(max(0, self.from_guide.findData(self._wanted_from)))
        self.from_guide.blockSignals(False)
        self._load_customers()

    def from_id(self) -> str:
        return str(self.from_guide.currentData() or "")

    def _receivers(self) -> list[GuideInfo]:
        return [g for g in self.guides if g.active and g.id != self.from_id()]

    def _load_customers(self) -> None:
        gid = self.from_id()
        self.targets.clear()
        for g in self._receivers():
            item = QListWidgetItem(g.name)
            item.setData(Qt.ItemDataRole.UserRole, g.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.targets.addItem(item)
        query = self.services.query

        def load(_: TaskControl) -> list[CustomerRow]:
            return query.rows(query.ids(CustomerFilter(owner_guide_id=gid))) if gid else []

        self.services.runner.run_db(load, on_done=self._customers_loaded, owner=self)

    def _customers_loaded(self, rows: list[CustomerRow]) -> None:
        self.rows = rows
        self.table.setRowCount(0)
        receivers = self._receivers()
        for r, row in enumerate(rows):
            self.table.insertRow(r)
            name = QTableWidgetItem(row.name)
            name.setFlags((name.flags() | Qt.ItemFlag.ItemIsUserCheckable) & ~Qt.ItemFlag.ItemIsEditable)
            ticked = self._preselected is None or row.id in self._preselected
            name.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
            self.table.setItem(r, 0, name)
            phone = QTableWidgetItem(masked(row.phone))
            phone.setFlags(phone.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.table.setItem(r, 1, phone)
            to = QTableWidgetItem(tr("security.transfer_ui.choose"))
            to.setData(Qt.ItemDataRole.UserRole, "")
            to.setFlags(to.flags() | Qt.ItemFlag.ItemIsEditable)
            self.table.setItem(r, 2, to)
        self.delegate.choices = [(g.id, g.name) for g in receivers]
        self.summary.setText(tr("security.transfer_ui.count", count=len(rows)))

    def tick_all(self, ticked: bool) -> None:
        state = Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked
        for r in range(self.table.rowCount()):
            item = self.table.item(r, 0)
            if item is not None:
                item.setCheckState(state)

    # --- choosing -----------------------------------------------------------------------------
    def checked_targets(self) -> list[str]:
        out = []
        for i in range(self.targets.count()):
            item = self.targets.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return out

    def set_target(self, r: int, guide_id: str) -> None:
        item = self.table.item(r, 2)
        if item is not None:
            item.setData(Qt.ItemDataRole.UserRole, guide_id)
            item.setText(self.delegate.name_of(guide_id))

    def target_of(self, r: int) -> str:
        item = self.table.item(r, 2)
        return str(item.data(Qt.ItemDataRole.UserRole) or "") if item is not None else ""

    def _checked_rows(self) -> list[int]:
        return [r for r in range(self.table.rowCount())
                if (item := self.table.item(r, 0)) is not None and item.checkState() == Qt.CheckState.Checked]

    def share_evenly(self) -> None:
        targets = self.checked_targets()
        if not targets:
            self.error.setText(tr("security.transfer.no_target"))
            return
        self.error.clear()
        rows = self._checked_rows()
        plan = split_evenly([str(r) for r in rows], targets)
        for r in rows:
            self.set_target(r, plan[str(r)])

    def assignment(self) -> dict[str, str]:
        out = {}
        for r in self._checked_rows():
            to = self.target_of(r)
            if to:
                out[self.rows[r].id] = to
        return out

    def submit(self) -> None:
        rows = self._checked_rows()
        plan = self.assignment()
        if rows and len(plan) < len(rows):
            self.error.setText(tr("security.transfer_ui.unassigned", count=len(rows) - len(plan)))
            return
        from_id, note = self.from_id(), self.note.text()
        self.transfer_button.setEnabled(False)

        def work(_: TaskControl) -> TransferResult:
            return self.transfers.transfer(from_id, plan, note)

        def failed(exc: BaseException) -> None:
            self.transfer_button.setEnabled(True)
            self.error.setText(error_text(exc))

        self.services.runner.run_db(work, on_done=self._done, on_error=failed, owner=self)

    def _done(self, result: TransferResult) -> None:
        self.transferred.emit(result)
        self.accept()
