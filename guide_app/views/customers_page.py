"""客户: search while typing, filters, the lazy list, multi-select tagging, and 今日待跟进.

Each keystroke restarts a short timer; when it fires, the ids of the matching customers are fetched
on the DB thread under one task key, so only the latest query's result reaches the table.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from guide_app.i18n import tr
from guide_app.services.customer_query import CustomerFilter
from guide_app.services.tags import TagGroupInfo
from guide_app.tasks import TaskControl
from guide_app.views.app_services import AppServices
from guide_app.views.customer_detail import CustomerDetailDialog
from guide_app.views.customer_form import CustomerFormDialog
from guide_app.views.customer_table_model import COL, ID_ROLE, CustomerTableModel
from guide_app.views.due_today import DueTodayPanel
from guide_app.views.filter_panel import FilterPanel
from guide_app.views.formatting import error_text
from guide_app.views.tag_chips import TagChipDelegate
from guide_app.views.theme import icon

SEARCH_DEBOUNCE_MS = 150
SORTS = ("name", "last_purchase", "created")


class CustomersPage(QWidget):
    status = Signal(str)  # a short message for the status bar
    import_requested = Signal()
    export_requested = Signal()

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.groups: list[TagGroupInfo] = []
        self._dialogs: list[QWidget] = []

        title = QLabel(tr("ui.nav.customers"))
        title.setObjectName("pageTitle")
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setClearButtonEnabled(True)
        self.search.setPlaceholderText(tr("ui.customers.search_placeholder"))
        self.search.setFixedHeight(36)
        self.search.textChanged.connect(self._search_edited)
        self.new_button = QPushButton(tr("ui.customers.new"))
        self.new_button.setProperty("primary", True)
        self.new_button.setToolTip(tr("ui.customers.new_tip"))
        self.new_button.clicked.connect(self.new_customer)
        self.import_button = QPushButton(icon("import"), tr("ui.customers.import"))
        self.import_button.clicked.connect(self.import_requested)
        self.export_button = QPushButton(icon("export"), tr("ui.customers.export"))
        self.export_button.clicked.connect(self.export_requested)
        top = QHBoxLayout()
        top.addWidget(title)
        top.addSpacing(12)
        top.addWidget(self.search, 1)
        top.addWidget(self.new_button)
        top.addWidget(self.import_button)
        top.addWidget(self.export_button)

        # list toolbar: count, sort, tag the selection
        self.count_label = QLabel()
        self.count_label.setObjectName("count")
        self.sort = QComboBox()
        for s in SORTS:
            self.sort.addItem(tr(f"ui.customers.sort.{s}"), s)
        self.sort.setAccessibleName(tr("ui.customers.sort"))
        self.sort.currentIndexChanged.connect(self.refresh)
        self.descending = QToolButton()
        self.descending.setCheckable(True)
        self.descending.toggled.connect(self._order_toggled)
        self._order_toggled(False)
        self.tag_button = QToolButton()
        self.tag_button.setText(tr("ui.customers.tag_selection"))
        self.tag_button.setIcon(icon("tags"))
        self.tag_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.tag_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.tag_menu = QMenu(self.tag_button)
        self.tag_button.setMenu(self.tag_menu)
        self.tag_button.setEnabled(False)
        bar = QHBoxLayout()
        bar.addWidget(self.count_label)
        bar.addStretch(1)
        bar.addWidget(self.tag_button)
        bar.addSpacing(12)
        bar.addWidget(QLabel(tr("ui.customers.sort")))
        bar.addWidget(self.sort)
        bar.addWidget(self.descending)

        self.model = CustomerTableModel(services.query, services.runner, self)
        self.table = QTableView()
        self.table.setObjectName("customerTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(36)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for col, width in (("name", 110), ("phone", 120), ("wechat", 140), ("stage", 64), ("owner", 80),
                           ("last_purchase", 100), ("total", 100)):
            self.table.setColumnWidth(COL[col], width)
        header.setSectionResizeMode(COL["tags"], QHeaderView.ResizeMode.Stretch)
        self.table.setItemDelegateForColumn(COL["tags"], TagChipDelegate(self.table))
        # activated: Enter/Return on a row, and a double click (once; doubleClicked would repeat it)
        self.table.activated.connect(self._open_index)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.empty_hint = QLabel()
        self.empty_hint.setObjectName("emptyBody")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setWordWrap(True)
        self.empty_hint.hide()

        list_page = QWidget()
        list_layout = QVBoxLayout(list_page)
        list_layout.setContentsMargins(8, 8, 8, 8)
        list_layout.addLayout(bar)
        list_layout.addWidget(self.table, 1)
        list_layout.addWidget(self.empty_hint, 1)

        self.due = DueTodayPanel(services)
        self.due.count_changed.connect(self._due_count)
        self.due.open_customer.connect(self.open_customer)
        self.due.changed.connect(self.model.refresh_rows)
        self.tabs = QTabWidget()
        self.tabs.addTab(list_page, tr("ui.customers.tab_list"))
        self.tabs.addTab(self.due, icon("reminder"), tr("ui.customers.tab_due", count=0))

        self.filters = FilterPanel()
        self.filters.setMinimumWidth(190)
        self.filters.setMaximumWidth(280)
        self.filters.changed.connect(self.refresh)
        split = QSplitter()
        split.addWidget(self.filters)
        split.addWidget(self.tabs)
        split.setStretchFactor(1, 1)
        split.setSizes([220, 900])
        split.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(top)
        layout.addWidget(split, 1)

        self._due_after_list = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DEBOUNCE_MS)
        self._timer.timeout.connect(self.refresh)
        for keys, slot in ((QKeySequence.StandardKey.Find, self.focus_search),
                           (QKeySequence.StandardKey.New, self.new_customer)):
            QShortcut(QKeySequence(keys), self, slot, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self.search, self.search.clear,
                  context=Qt.ShortcutContext.WidgetShortcut)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.table, self.delete_selected,
                  context=Qt.ShortcutContext.WidgetShortcut)
        self.search.returnPressed.connect(self._search_enter)
        self.setTabOrder(self.search, self.new_button)
        self.setTabOrder(self.new_button, self.import_button)
        self.setTabOrder(self.import_button, self.export_button)
        self.setTabOrder(self.export_button, self.table)

        self.reload_all()

    # -- loading -----------------------------------------------------------------------------
    def reload_all(self) -> None:
        self.reload_tags()
        self._due_after_list = True  # the due list waits for the list's first page (one DB thread)
        self.refresh()

    def _load_due_after_list(self) -> None:
        if self._due_after_list:
            self._due_after_list = False
            self.due.reload()

    def reload_tags(self) -> None:
        tags = self.services.tags
        self.services.runner.run_db(lambda _c: tags.groups(), on_done=self._groups_loaded, owner=self,
                                    key="customers-tag-groups")

    def _groups_loaded(self, groups: list[TagGroupInfo]) -> None:
        self.groups = groups
        self.filters.set_groups(groups)
        self._build_tag_menu()

    def current_filter(self) -> CustomerFilter:
        return CustomerFilter(
            text=self.search.text(), tags=self.filters.tag_filter(), stage=self.filters.stage_value(),
            owner_guide_id=self.services.ctx.actor.guide_id if self.filters.mine_only() else "",
            sort=self.sort.currentData(), descending=self.descending.isChecked(),
        )

    def _search_edited(self) -> None:
        self._timer.start()

    def _order_toggled(self, descending: bool) -> None:
        self.descending.setText(tr("ui.customers.descending") if descending else tr("ui.customers.ascending"))
        if hasattr(self, "model"):
            self.refresh()

    def refresh(self) -> None:
        self._timer.stop()
        f = self.current_filter()
        query = self.services.query

        def find(_: TaskControl) -> list[int]:
            return query.ids(f)

        self.services.runner.run_db(find, on_done=self._ids_loaded, on_error=self._query_failed, owner=self,
                                    key="customer-ids")

    def _ids_loaded(self, ids: list[int]) -> None:
        if ids == self.model.ids():
            self.model.refresh_rows()  # same list (e.g. after a sync round): keep selection and scroll
        else:
            self._replace_ids(ids)
        filtered = bool(self.search.text().strip()) or self.filters.tag_filter().active or bool(
            self.filters.stage_value()) or self.filters.mine_only()
        self.count_label.setText(tr("ui.customers.count_filtered" if filtered else "ui.customers.count",
                                    count=len(ids)))
        self.empty_hint.setText(tr("ui.customers.no_match") if filtered else tr("ui.customers.empty_book"))
        self.table.setVisible(bool(ids))
        self.empty_hint.setVisible(not ids)
        self._selection_changed()
        if ids:
            self.model.row_at(0)  # queue the first page now, ahead of the due list: it is what the guide sees
        self._load_due_after_list()

    def _replace_ids(self, ids: list[int]) -> None:
        """Show a new result, keeping the selected customers selected and the first visible one in
        view when they are still in it (a background sync must not make the guide lose her place)."""
        selected = self.selected_pks()[:1000]
        top = self.table.rowAt(0)
        top_pk = self.model.pk_at(top) if 0 <= top < self.model.rowCount() else None
        self.model.set_ids(ids)
        if not selected and top_pk is None:
            return
        row_of = {pk: row for row, pk in enumerate(ids)}
        selection = self.table.selectionModel()
        flags = selection.SelectionFlag.Select | selection.SelectionFlag.Rows
        for pk in selected:
            row = row_of.get(pk)
            if row is not None:
                selection.select(self.model.index(row, 0), flags)
        if top_pk is not None and top_pk in row_of:
            self.table.scrollTo(self.model.index(row_of[top_pk], 0), QAbstractItemView.ScrollHint.PositionAtTop)

    def _query_failed(self, exc: BaseException) -> None:
        self.count_label.setText(error_text(exc))
        self._load_due_after_list()

    def _due_count(self, n: int) -> None:
        self.tabs.setTabText(1, tr("ui.customers.tab_due", count=n))

    # -- selection and actions ---------------------------------------------------------------
    def selected_pks(self) -> list[int]:
        """The selection as list keys: always known, even for rows whose page is not loaded."""
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [self.model.pk_at(r) for r in rows if 0 <= r < self.model.rowCount()]

    def selected_ids(self) -> list[str]:
        """Customer ids of the selected rows that are loaded (for display-only uses)."""
        ids = []
        for index in self.table.selectionModel().selectedRows():
            cid = self.model.data(index, ID_ROLE)
            if cid:
                ids.append(str(cid))
        return ids

    def _ids_of(self, pks: list[int]) -> list[str]:
        """Runs on the DB thread: customer ids for list keys."""
        return [r.id for r in self.services.query.rows(pks)]

    def _selection_changed(self) -> None:
        n = len(self.table.selectionModel().selectedRows()) if self.table.selectionModel() else 0
        self.tag_button.setEnabled(n > 0 and bool(self.groups))
        self.tag_button.setText(tr("ui.customers.tag_selection_n", count=n) if n else tr("ui.customers.tag_selection"))

    def _build_tag_menu(self) -> None:
        self.tag_menu.clear()
        for group in self.groups:
            if not group.tags:
                continue
            sub = self.tag_menu.addMenu(group.name)
            for tag in group.tags:
                tag_sub = sub.addMenu(tag.name)
                tag_sub.addAction(tr("ui.customers.add_tag"), partial(self.tag_selection, tag.id, True))
                tag_sub.addAction(tr("ui.customers.remove_tag"), partial(self.tag_selection, tag.id, False))
        self._selection_changed()

    def tag_selection(self, tag_id: str, add: bool) -> None:
        pks = self.selected_pks()
        if not pks:
            return
        tags = self.services.tags

        def apply(_: TaskControl) -> int:
            ids = self._ids_of(pks)
            return tags.assign(ids, tag_id) if add else tags.unassign(ids, tag_id)

        def done(n: int) -> None:
            self.status.emit(tr("ui.customers.tagged" if add else "ui.customers.untagged", count=n))
            self.model.refresh_rows()
            self.reload_tags()

        self.services.runner.run_db(apply, on_done=done, on_error=self._show_error, owner=self)

    def _show_error(self, exc: BaseException) -> None:
        QMessageBox.warning(self, tr("ui.error.title"), error_text(exc))

    def focus_search(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.search.setFocus()
        self.search.selectAll()

    def _search_enter(self) -> None:
        if self._timer.isActive():
            self.refresh()
        if self.model.rowCount() > 0:
            self.table.setFocus()
            self.table.selectRow(0)

    def _open_index(self, index: QModelIndex) -> None:
        if index.isValid():
            self._open_pk(self.model.pk_at(index.row()))

    def _open_pk(self, pk: int) -> None:
        def opened(ids: list[str]) -> None:
            if ids:
                self.open_customer(ids[0])

        self.services.runner.run_db(lambda _c: self._ids_of([pk]), on_done=opened, owner=self)

    def open_selected(self) -> None:
        pks = self.selected_pks()
        if pks:
            self._open_pk(pks[0])

    def open_customer(self, customer_id: str) -> CustomerDetailDialog:
        dialog = CustomerDetailDialog(self.services, customer_id, self)
        dialog.changed.connect(self._after_change)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _after_change(self) -> None:
        self.refresh()
        self.reload_tags()
        self.due.reload()

    def new_customer(self) -> CustomerFormDialog:
        form = CustomerFormDialog(self.services, parent=self)
        form.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        form.saved.connect(self._created)
        form.open_existing.connect(self.open_customer)
        form.open()
        return form

    def _created(self, customer_id: str) -> None:
        self.status.emit(tr("ui.customers.created"))
        self._after_change()

    def delete_selected(self) -> None:
        pks = self.selected_pks()
        if not pks:
            return
        first = self.model.row_at(self.table.selectionModel().selectedRows()[0].row())
        if len(pks) == 1 and first is not None:
            text = tr("ui.customers.delete_confirm", name=first.name)
        else:
            text = tr("ui.customers.delete_many_confirm", count=len(pks))
        answer = QMessageBox.question(self, tr("ui.customers.delete"), text)
        if answer != QMessageBox.StandardButton.Yes:
            return
        svc = self.services.customers

        def delete(_: TaskControl) -> int:
            ids = self._ids_of(pks)
            for cid in ids:
                svc.delete(cid)
            return len(ids)

        def done(n: int) -> None:
            self.status.emit(tr("ui.customers.deleted", count=n))
            self._after_change()

        self.services.runner.run_db(delete, on_done=done, on_error=self._show_error, owner=self)
