"""The customer's record: all fields, tags, follow-ups, purchases and the history of changes.

Every change is made on the DB thread and then the record reloads, so what is shown is always what
was stored. ``changed`` tells the list to repaint its rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from guide_app.domain.acquisition import shown_source
from guide_app.domain.entities import FOLLOW_UP_KINDS
from guide_app.i18n import tr
from guide_app.services.book_records import CustomerDetail
from guide_app.services.tags import TagGroupInfo
from guide_app.tasks import TaskControl
from guide_app.views import formatting
from guide_app.views.app_services import AppServices
from guide_app.views.customer_form import CustomerFormDialog
from guide_app.views.detail_safety import install_detail_safety
from guide_app.views.tag_chips import chip_colors
from guide_app.views.theme import icon

_FIELDS = ("phone", "wechat_id", "gender", "birthday", "source", "owner", "preferences", "sizes", "notes",
           "consent_phone", "consent_sms", "consent_wechat", "created_at")


def _table(headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().hide()
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setAlternatingRowColors(True)
    t.verticalHeader().setDefaultSectionSize(32)
    t.horizontalHeader().setStretchLastSection(True)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return t


def _item(text: str, data: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if data:
        item.setData(Qt.ItemDataRole.UserRole, data)
    return item


def _records_page(table: QTableWidget, action: QPushButton, new_title: str, entry: QLayout) -> QWidget:
    """A tab of records: their table, the action on the selected one under it on the right, and the box
    that adds a new one."""
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.addWidget(table, 1)
    actions = QHBoxLayout()
    actions.addStretch(1)
    actions.addWidget(action)
    layout.addLayout(actions)
    box = QGroupBox(new_title)
    box.setLayout(entry)
    layout.addWidget(box)
    return page


class CustomerDetailDialog(QDialog):
    changed = Signal()
    deleted = Signal(str)

    def __init__(self, services: AppServices, customer_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.customer_id = customer_id
        self.detail: CustomerDetail | None = None
        self._guide_names: dict[str, str] = {}
        self.groups: list[TagGroupInfo] = []
        self.setWindowTitle(tr("ui.detail.title"))
        self.setMinimumSize(760, 560)
        self.resize(860, 640)

        self.heading = QLabel()
        self.heading.setObjectName("pageTitle")
        self.summary = QLabel()
        self.summary.setObjectName("muted")
        self.chips = QLabel()
        self.edit_button = QPushButton(icon("edit"), tr("ui.detail.edit"))
        self.edit_button.clicked.connect(self.edit)
        self.delete_button = QPushButton(icon("delete"), tr("ui.detail.delete"))
        self.delete_button.setProperty("danger", True)
        self.delete_button.clicked.connect(self.confirm_delete)
        self.close_button = QPushButton(tr("ui.close"))
        self.close_button.clicked.connect(self.accept)
        head = QHBoxLayout()
        names = QVBoxLayout()
        names.addWidget(self.heading)
        names.addWidget(self.summary)
        names.addWidget(self.chips)
        head.addLayout(names, 1)
        head.addWidget(self.edit_button, 0, Qt.AlignmentFlag.AlignTop)
        head.addWidget(self.delete_button, 0, Qt.AlignmentFlag.AlignTop)

        self.tabs = QTabWidget()
        self.tabs.addTab(self._info_tab(), tr("ui.detail.tab_info"))
        self.tabs.addTab(self._tags_tab(), tr("ui.detail.tab_tags"))
        self.tabs.addTab(self._follow_tab(), tr("ui.detail.tab_follow_ups"))
        self.tabs.addTab(self._purchase_tab(), tr("ui.detail.tab_purchases"))
        self.tabs.addTab(self._history_tab(), tr("ui.detail.tab_history"))

        self.message = QLabel()
        self.message.setObjectName("fieldError")
        self.message.setWordWrap(True)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(bottom)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self, self.confirm_delete)
        self._tag_timer = QTimer(self)
        self._tag_timer.setSingleShot(True)
        self._tag_timer.setInterval(120)
        self._tag_timer.timeout.connect(self._save_tags)
        install_detail_safety(self)  # reveal / copy the phone (audited), consent, erase for managers
        self.reload()

    # -- tabs --------------------------------------------------------------------------------
    def _info_tab(self) -> QWidget:
        page = QWidget()
        self.info_form = QFormLayout(page)
        self.info_form.setHorizontalSpacing(16)
        self.info_form.setVerticalSpacing(8)
        self.info_labels: dict[str, QLabel] = {}
        for name in _FIELDS:
            value = QLabel()
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.info_labels[name] = value
            key = "ui.detail.owner" if name == "owner" else f"field.{name}"
            self.info_form.addRow(tr(key), value)
        return page

    def _tags_tab(self) -> QWidget:
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        self.tags_body = QWidget()
        self.tags_layout = QVBoxLayout(self.tags_body)
        scroll.setWidget(self.tags_body)
        self.tag_inputs: dict[str, QCheckBox | QRadioButton] = {}
        self._tag_button_groups: list[QButtonGroup] = []
        return scroll

    def _follow_tab(self) -> QWidget:
        self.follow_table = _table([tr("ui.detail.fu_at"), tr("ui.detail.fu_kind"), tr("ui.detail.fu_note"),
                                    tr("ui.detail.fu_next"), tr("ui.detail.fu_by")])
        self.fu_kind = QComboBox()
        for kind in FOLLOW_UP_KINDS:
            self.fu_kind.addItem(tr(f"ui.followup.{kind}"), kind)
        self.fu_note = QLineEdit()
        self.fu_note.setPlaceholderText(tr("ui.detail.fu_note_placeholder"))
        self.fu_remind = QCheckBox(tr("ui.detail.fu_remind"))
        self.fu_date = QDateEdit(QDate.currentDate().addDays(7))
        self.fu_date.setCalendarPopup(True)
        self.fu_date.setDisplayFormat("yyyy-MM-dd")
        self.fu_date.setMinimumDate(QDate.currentDate())
        self.fu_date.setEnabled(False)
        self.fu_remind.toggled.connect(self.fu_date.setEnabled)
        self.fu_add = QPushButton(tr("ui.detail.fu_add"))
        self.fu_add.setProperty("primary", True)
        self.fu_add.clicked.connect(self.add_follow_up)
        self.fu_done = QPushButton(tr("ui.detail.fu_mark_done"))
        self.fu_done.setEnabled(False)
        self.fu_done.clicked.connect(self.mark_done)
        self.follow_table.itemSelectionChanged.connect(self._follow_selection)
        row = QGridLayout()
        row.addWidget(self.fu_kind, 0, 0)
        row.addWidget(self.fu_note, 0, 1, 1, 3)
        row.addWidget(self.fu_remind, 1, 0)
        row.addWidget(self.fu_date, 1, 1)
        row.addWidget(self.fu_add, 1, 3)
        row.setColumnStretch(2, 1)
        return _records_page(self.follow_table, self.fu_done, tr("ui.detail.fu_new"), row)

    def _purchase_tab(self) -> QWidget:
        self.purchase_table = _table([tr("ui.detail.p_at"), tr("ui.detail.p_amount"), tr("ui.detail.p_items"),
                                      tr("ui.detail.p_by")])
        self.p_amount = QLineEdit()
        self.p_amount.setPlaceholderText(tr("ui.detail.p_amount_placeholder"))
        self.p_items = QLineEdit()
        self.p_items.setPlaceholderText(tr("ui.detail.p_items_placeholder"))
        self.p_date = QDateEdit(QDate.currentDate())
        self.p_date.setCalendarPopup(True)
        self.p_date.setDisplayFormat("yyyy-MM-dd")
        self.p_date.setMaximumDate(QDate.currentDate())
        self.p_add = QPushButton(tr("ui.detail.p_add"))
        self.p_add.setProperty("primary", True)
        self.p_add.clicked.connect(self.add_purchase)
        self.p_delete = QPushButton(icon("delete"), tr("ui.detail.p_delete"))
        self.p_delete.setEnabled(False)
        self.p_delete.clicked.connect(self.delete_purchase)
        self.purchase_table.itemSelectionChanged.connect(
            lambda: self.p_delete.setEnabled(bool(self.purchase_table.selectedItems())))
        row = QHBoxLayout()
        row.addWidget(QLabel(tr("ui.detail.p_amount")))
        row.addWidget(self.p_amount)
        row.addWidget(self.p_items, 2)
        row.addWidget(self.p_date)
        row.addWidget(self.p_add)
        return _records_page(self.purchase_table, self.p_delete, tr("ui.detail.p_new"), row)

    def _history_tab(self) -> QWidget:
        page = QWidget()
        self.history_table = _table([tr("ui.detail.h_at"), tr("ui.detail.h_kind"), tr("ui.detail.h_field"),
                                     tr("ui.detail.h_change"), tr("ui.detail.h_by")])
        self.history_empty = QLabel(tr("ui.detail.no_history"))
        self.history_empty.setObjectName("hint")
        self.history_empty.setWordWrap(True)
        self.history_empty.hide()
        layout = QVBoxLayout(page)
        layout.addWidget(self.history_empty)
        layout.addWidget(self.history_table, 1)
        return page

    # -- loading -----------------------------------------------------------------------------
    def reload(self) -> None:
        query, tags, org, cid = self.services.query, self.services.tags, self.services.org, self.customer_id

        def load(_: TaskControl) -> tuple[CustomerDetail, list[TagGroupInfo], dict[str, str]]:
            guides = {g.id: g.name for g in org.guides(include_inactive=True)}
            return query.detail(cid), tags.groups(with_counts=False), guides

        self.services.runner.run_db(load, on_done=self._show, on_error=self._failed_load, owner=self)

    def _failed_load(self, exc: BaseException) -> None:
        self.message.setText(formatting.error_text(exc))
        for w in (self.edit_button, self.delete_button, self.tabs):
            w.setEnabled(False)

    def _show(self, loaded: tuple[CustomerDetail, list[TagGroupInfo], dict[str, str]]) -> None:
        d, groups, self._guide_names = loaded
        self.detail = d
        self.groups = groups
        self.setWindowTitle(tr("ui.detail.title_named", name=d.name))
        self.heading.setText(d.name)
        parts = [formatting.stage(d.stage)]
        if d.order_count:
            parts.append(tr("ui.detail.totals", orders=d.order_count, total=formatting.money(d.total_spent_cents),
                            last=formatting.day(d.last_purchase_at)))
        else:
            parts.append(tr("ui.detail.no_purchases"))
        self.summary.setText("  ·  ".join(parts))
        self.chips.setText(" ".join(
            f'<span style="background:{chip_colors(t.color)[0].name(QColor.NameFormat.HexArgb)};'
            f'color:{chip_colors(t.color)[1].name()};">&nbsp;{t.name}&nbsp;</span>' for t in d.tags))
        values = {
            "phone": formatting.masked(d.phone), "wechat_id": d.wechat_id, "gender": tr(f"gender.{d.gender}"),
            "birthday": d.birthday, "source": shown_source(d.source), "owner": d.owner_name, "preferences": d.preferences,
            "sizes": d.sizes, "notes": d.notes, "consent_phone": tr(f"ui.consent.{d.consent_phone}"),
            "consent_sms": tr(f"ui.consent.{d.consent_sms}"), "consent_wechat": tr(f"ui.consent.{d.consent_wechat}"),
            "created_at": formatting.day_time(d.created_at),
        }
        for name, label in self.info_labels.items():
            label.setText(values.get(name) or "—")
        self._fill_tags(d, groups)
        self._fill_follow_ups(d)
        self._fill_purchases(d)
        self._fill_history(d)

    def _fill_tags(self, d: CustomerDetail, groups: list[TagGroupInfo]) -> None:
        while self.tags_layout.count():
            item = self.tags_layout.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.deleteLater()
        self.tag_inputs.clear()
        self._tag_button_groups.clear()
        carried = {t.tag_id for t in d.tags}
        for g in groups:
            if not g.tags:
                continue
            mode = tr("ui.tags.multi") if g.multi else tr("ui.tags.single")
            box = QGroupBox(f"{g.name}  ·  {mode}")
            flow = QGridLayout(box)
            buttons = QButtonGroup(box) if not g.multi else None
            if buttons is not None:
                none = QRadioButton(tr("ui.detail.tag_none"))
                none.setChecked(not any(t.id in carried for t in g.tags))
                buttons.addButton(none)
                flow.addWidget(none, 0, 0)
                none.toggled.connect(self._tags_edited)
                self._tag_button_groups.append(buttons)
            for i, tag in enumerate(g.tags, start=1 if buttons is not None else 0):
                widget: QCheckBox | QRadioButton = QRadioButton(tag.name) if buttons is not None else QCheckBox(tag.name)
                widget.setChecked(tag.id in carried)
                if buttons is not None:
                    buttons.addButton(widget)
                widget.toggled.connect(self._tags_edited)
                flow.addWidget(widget, i // 4, i % 4)
                self.tag_inputs[tag.id] = widget
            self.tags_layout.addWidget(box)
        if not self.tag_inputs:
            empty = QLabel(tr("ui.detail.no_tag_groups"))
            empty.setObjectName("muted")
            empty.setWordWrap(True)
            self.tags_layout.addWidget(empty)
        self.tags_layout.addStretch(1)

    def _fill_follow_ups(self, d: CustomerDetail) -> None:
        t = self.follow_table
        t.setRowCount(0)
        for f in d.follow_ups:
            r = t.rowCount()
            t.insertRow(r)
            t.setItem(r, 0, _item(formatting.day_time(f.at), f.id))
            t.setItem(r, 1, _item(tr(f"ui.followup.{f.kind}")))
            t.setItem(r, 2, _item(f.note))
            nxt = ""
            if f.next_at:
                nxt = f.next_at + ("  " + tr("ui.detail.fu_done") if f.done else "")
            t.setItem(r, 3, _item(nxt, "open" if f.next_at and not f.done else ""))
            t.setItem(r, 4, _item(f.guide_name))

    def _fill_purchases(self, d: CustomerDetail) -> None:
        t = self.purchase_table
        t.setRowCount(0)
        for p in d.purchases:
            r = t.rowCount()
            t.insertRow(r)
            t.setItem(r, 0, _item(formatting.day(p.at), p.id))
            amount = _item(formatting.money(p.amount_cents))
            amount.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            t.setItem(r, 1, amount)
            t.setItem(r, 2, _item(p.items))
            t.setItem(r, 3, _item(p.guide_name if p.origin == "guide" else tr("ui.detail.p_from_hq")))

    def _fill_history(self, d: CustomerDetail) -> None:
        t = self.history_table
        t.setRowCount(0)
        for h in d.history:
            r = t.rowCount()
            t.insertRow(r)
            t.setItem(r, 0, _item(formatting.day_time(h.at)))
            kind = _item(tr(f"ui.history.{h.kind}"))
            if h.kind == "conflict":
                kind.setForeground(QColor("#b26a00"))
                kind.setToolTip(tr("ui.history.conflict_hint"))
            t.setItem(r, 1, kind)
            t.setItem(r, 2, _item(tr(f"field.{h.field}") if h.field else ""))
            if h.field:
                old, new = self._value(h.field, h.old_value), self._value(h.field, h.new_value)
                t.setItem(r, 3, _item(f"{old} → {new}"))
            t.setItem(r, 4, _item(h.by_name or self._guide_names.get(h.by_guide_id, "")))
        self.history_empty.setVisible(not d.history)

    def _value(self, field: str, value: str | None) -> str:
        """A stored value as the guide reads it: names for guide ids, words for codes, masked phones."""
        if value in (None, ""):
            return "—"
        text = str(value)
        if field == "owner_guide_id":
            return self._guide_names.get(text, text)
        if field == "phone":
            return formatting.masked(text)
        if field == "gender":
            return tr(f"gender.{text}")
        if field == "stage":
            return formatting.stage(text)
        if field.startswith("consent_"):
            return tr(f"ui.consent.{text}")
        return text

    # -- actions -----------------------------------------------------------------------------
    def _run(self, fn: Callable[[TaskControl], object], then: Callable[[], None] | None = None) -> None:
        """Make a change on the DB thread; once it is saved, ``then`` (e.g. empty the entry row) and reload."""
        def finished(_: object) -> None:
            if then is not None:
                then()
            self.message.setText("")
            self.changed.emit()
            self.reload()

        self.services.runner.run_db(fn, on_done=finished, on_error=self._show_error, owner=self)

    def _show_error(self, exc: BaseException) -> None:
        self.message.setText(formatting.error_text(exc))

    def _tags_edited(self) -> None:
        self._tag_timer.start()

    def _save_tags(self) -> None:
        wanted = [tid for tid, w in self.tag_inputs.items() if w.isChecked()]
        tags, cid = self.services.tags, self.customer_id
        self._run(lambda _c: tags.set_tags(cid, wanted))

    def add_follow_up(self) -> None:
        kind = str(self.fu_kind.currentData())
        note = self.fu_note.text()
        when = self.fu_date.date().toString("yyyy-MM-dd") if self.fu_remind.isChecked() else None
        svc, cid = self.services.follow_ups, self.customer_id

        def added() -> None:
            self.fu_note.clear()
            self.fu_remind.setChecked(False)

        self._run(lambda _c: svc.add(cid, kind, note, when), added)

    def _follow_selection(self) -> None:
        row = self.follow_table.currentRow()
        item = self.follow_table.item(row, 3) if row >= 0 else None
        self.fu_done.setEnabled(bool(item is not None and item.data(Qt.ItemDataRole.UserRole) == "open"))

    def mark_done(self) -> None:
        row = self.follow_table.currentRow()
        if row < 0:
            return
        item = self.follow_table.item(row, 0)
        if item is None:
            return
        fid = str(item.data(Qt.ItemDataRole.UserRole))
        svc = self.services.follow_ups
        self._run(lambda _c: svc.mark_done(fid))

    def add_purchase(self) -> None:
        amount, items = self.p_amount.text(), self.p_items.text()
        day = self.p_date.date().toPython()
        assert isinstance(day, dt.date)
        svc, cid = self.services.purchases, self.customer_id

        def added() -> None:
            self.p_amount.clear()
            self.p_items.clear()

        self._run(lambda _c: svc.record(cid, amount, items, day), added)

    def delete_purchase(self) -> None:
        row = self.purchase_table.currentRow()
        if row < 0:
            return
        first, second = self.purchase_table.item(row, 0), self.purchase_table.item(row, 1)
        if first is None or second is None:
            return
        pid = str(first.data(Qt.ItemDataRole.UserRole))
        amount = second.text()
        answer = QMessageBox.question(self, tr("ui.detail.p_delete"), tr("ui.detail.p_delete_confirm", amount=amount))
        if answer != QMessageBox.StandardButton.Yes:
            return
        svc = self.services.purchases
        self._run(lambda _c: svc.delete(pid))

    def edit(self) -> None:
        form = CustomerFormDialog(self.services, self.customer_id, parent=self)
        form.saved.connect(self._edited)
        form.open()

    def _edited(self, _customer_id: str) -> None:
        self.changed.emit()
        self.reload()

    def confirm_delete(self) -> None:
        if self.detail is None:
            return
        answer = QMessageBox.question(self, tr("ui.detail.delete"),
                                      tr("ui.customers.delete_confirm", name=self.detail.name))
        if answer != QMessageBox.StandardButton.Yes:
            return
        svc, cid = self.services.customers, self.customer_id

        def deleted(_: object) -> None:
            self.deleted.emit(cid)
            self.changed.emit()
            self.accept()

        self.services.runner.run_db(lambda _c: svc.delete(cid), on_done=deleted, on_error=self._show_error,
                                    owner=self)
