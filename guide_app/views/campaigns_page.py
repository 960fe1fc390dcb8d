"""The 活动 page: running campaign packs, history (ended and withdrawn), and refused packs with reasons.

For the selected campaign: validity and description, its target customers (the guide's own, or the
whole store for a manager) with each task marked done with an outcome and a note, materials (copy a
script with the selected customer's name filled in, save an image, copy a link), offers (the code
for the selected customer) and progress: every user sees their own line; managers see HQ's completion
per store (regional manager, HQ) with a drill-down to the guides of a store, or per guide of their
store (store manager), saved on this PC so it opens offline with its "as of" time.

Regional managers and HQ also get a 区域活动进度 (全公司活动进度) list: every campaign HQ sent to a store of
their scope, from ``GET /v1/packs/progress``, also the ones their PC never installs (it installs only
its own store's). Picking one that is installed shows it in full with the progress tab open; picking
one that is not shows only its progress, and says so. Enter in the list moves on to the progress;
Backspace in the store summary comes back to the list.

Mount it in the main window with one line:
``CampaignsPage(services.ctx, services.runner, packs_dir=services.data_dir / "packs", sync=...)``.
Book reads run on the runner's DB thread, the progress fetch on its network thread. Call
:meth:`synced` after a sync round; the page also reloads whenever it is shown.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from guide_app.domain.entities import CAMPAIGN_OUTCOMES
from guide_app.domain.packs import Material
from guide_app.i18n import tr
from guide_app.services.campaigns import CampaignService, Target
from guide_app.services.context import AppContext
from guide_app.services.pack_progress import OverviewView, PackProgressService, ProgressView
from guide_app.services.packs import InstalledPack, PackService, Refusal
from guide_app.services.sync_service import SyncService
from guide_app.sync.protocol import (
    OVERVIEW_ENDED_DAYS,
    PackOverviewItem,
    PackProgressRow,
    PackProgressStore,
    completion,
)
from guide_app.tasks import TaskRunner
from guide_app.views.campaign_overview import (
    OpenList,
    facts_text,
    has_overview,
    item_text,
    overview_name,
    state_text,
)
from guide_app.views.campaign_targets_model import ID_ROLE, TargetsModel
from guide_app.views.formatting import day_time, error_text
from guide_app.views.pack_progress_model import STORE_ROLE, ProgressModel, percent

LISTS = ("running", "history", "refused")  # then "overview" for regional managers and HQ
PACK_ROLE = Qt.ItemDataRole.UserRole + 1
OFFLINE_STYLE = "color: #e65100;"
ERROR_STYLE = "color: #c62828;"


@dataclass(frozen=True)
class PackLists:
    running: list[InstalledPack]
    history: list[InstalledPack]
    refused: list[Refusal]


@dataclass(frozen=True)
class PackDetail:
    pack: InstalledPack
    targets: list[Target]
    guides: dict[str, str]
    unknown_tags: list[str]


def has_own_customers(role: str) -> bool:
    return role in ("guide", "store_manager")


class DrillTable(QTableView):
    """Keyboard first: Enter opens the selected row (as a double-click does), Backspace goes back up."""

    drill = Signal(QModelIndex)
    back = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.drill.emit(self.currentIndex())
            event.accept()
        elif event.key() == Qt.Key.Key_Backspace:
            self.back.emit()
            event.accept()
        else:
            super().keyPressEvent(event)


class CampaignsPage(QWidget):
    def __init__(self, ctx: AppContext, runner: TaskRunner, *, packs_dir: Path | None = None,
                 sync: SyncService | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.runner = runner
        self.packs = PackService(ctx, packs_dir)
        self.campaigns = CampaignService(ctx, self.packs)
        self.progress_service = PackProgressService(ctx, sync, self.campaigns)
        self._is_manager = bool(ctx.actor.is_manager)
        self._has_overview = has_overview(ctx.actor.role)
        self._overview: OverviewView | None = None  # HQ's campaigns of the scope (or the saved copy)
        self._remote: PackOverviewItem | None = None  # the overview's campaign shown, not installed here
        self._lists = PackLists([], [], [])
        self._detail: PackDetail | None = None
        self._select_after_load: str | None = None
        self._progress: ProgressView | None = None
        self._progress_pack: str | None = None  # the pack whose progress is shown or on its way
        self._progress_store: str | None = None  # the store drilled into (None: the stores)
        self.loads_done = 0  # list loads delivered (tests wait on it)
        self.details_done = 0  # detail loads delivered
        self.progress_loads = 0  # progress answers (or failures) delivered
        self.overview_loads = 0  # overview answers (or failures) delivered

        # -- left: which list, the list, install -------------------------------------------
        self.which = QComboBox()
        for name in LISTS:
            self.which.addItem(tr(f"campaign.ui.list.{name}"), name)
        if self._has_overview:
            self.which.addItem(overview_name(ctx.actor.role), "overview")
        self.which.currentIndexChanged.connect(self._list_changed)
        self.list = OpenList()
        self.list.currentItemChanged.connect(lambda _cur, _prev: self._pack_selected())
        self.list.opened.connect(self._open_from_list)
        self.overview_state = QLabel()
        self.overview_state.setWordWrap(True)
        self.overview_state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.overview_refresh = QPushButton(tr("campaign.progress.refresh"))
        self.overview_refresh.clicked.connect(self.load_overview)
        self.install_button = QPushButton(tr("campaign.ui.install_file"))
        self.install_button.setToolTip(tr("campaign.ui.install_file_hint"))
        self.install_button.clicked.connect(self._choose_file)
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        left = QWidget()
        left.setMinimumWidth(260)
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.which)
        lv.addWidget(self.list, 1)
        lv.addWidget(self.overview_state)
        lv.addWidget(self.overview_refresh)
        lv.addWidget(self.install_button)

        # -- right: nothing selected / a pack / a refusal -----------------------------------
        self.detail_stack = QStackedWidget()
        self.empty = QLabel(tr("campaign.ui.none_running"))
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.refusal_text = QLabel()
        self.refusal_text.setWordWrap(True)
        self.refusal_text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.refusal_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail_stack.addWidget(self.empty)
        self.detail_stack.addWidget(self._build_detail())
        self.detail_stack.addWidget(self.refusal_text)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.detail_stack)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([280, 900])
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)
        self._show_list_tools()
        self._update_actions()

    # ------------------------------------------------------------------ building
    def _build_detail(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        self.title = QLabel()
        self.title.setObjectName("pageTitle")
        self.title.setWordWrap(True)
        self.facts = QLabel()
        self.facts.setWordWrap(True)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.remote_note = QLabel(tr("campaign.overview.not_installed"))  # an overview campaign not on this PC
        self.remote_note.setWordWrap(True)
        self.remote_note.setStyleSheet(OFFLINE_STYLE)
        for lab in (self.title, self.facts, self.description, self.remote_note):
            v.addWidget(lab)
        self.remote_note.setVisible(False)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_targets(), tr("campaign.ui.tab.targets"))
        self.tabs.addTab(self._build_materials(), tr("campaign.ui.tab.materials"))
        self.tabs.addTab(self._build_offers(), tr("campaign.ui.tab.offers"))
        self.progress_tab = self._build_progress()
        self.tabs.addTab(self.progress_tab, tr("campaign.ui.tab.progress"))
        self.tabs.currentChanged.connect(lambda _i: self._maybe_load_progress())
        v.addWidget(self.tabs, 1)
        return w

    def _build_targets(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        self.scope = QComboBox()
        self.scope.addItem(tr("campaign.ui.scope.mine"), False)
        self.scope.addItem(tr("campaign.ui.scope.store"), True)
        self.scope.setVisible(self._is_manager)
        if not has_own_customers(self.ctx.actor.role):
            self.scope.setCurrentIndex(1)  # no customers of their own: the store's, not an empty list
        self.scope.currentIndexChanged.connect(lambda _i: self._load_detail())
        self.target_hint = QLabel()
        self.target_hint.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.scope)
        top.addWidget(self.target_hint, 1)
        v.addLayout(top)
        self.targets_model = TargetsModel(self)
        self.table = QTableView()
        self.table.setModel(self.targets_model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(lambda _s, _d: self._target_selected())
        v.addWidget(self.table, 1)

        self.task_choice = QComboBox()
        self.task_choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.outcome = QComboBox()
        for outcome in CAMPAIGN_OUTCOMES:
            if outcome:
                self.outcome.addItem(tr(f"campaign.outcome.{outcome}"), outcome)
        self.note = QLineEdit()
        self.note.setPlaceholderText(tr("campaign.ui.note_placeholder"))
        self.note.setMaxLength(2000)
        self.mark_button = QPushButton(tr("campaign.ui.mark_done"))
        self.mark_button.clicked.connect(self.mark_done)
        self.reopen_button = QPushButton(tr("campaign.ui.reopen"))
        self.reopen_button.clicked.connect(self.reopen)
        row = QHBoxLayout()
        row.addWidget(QLabel(tr("campaign.ui.task")))
        row.addWidget(self.task_choice)
        row.addWidget(QLabel(tr("campaign.ui.outcome")))
        row.addWidget(self.outcome)
        row.addWidget(self.note, 1)
        row.addWidget(self.mark_button)
        row.addWidget(self.reopen_button)
        v.addLayout(row)
        return w

    def _build_materials(self) -> QWidget:
        w = QWidget()
        h = QHBoxLayout(w)
        self.materials = QListWidget()
        self.materials.currentItemChanged.connect(lambda _c, _p: self._material_selected())
        h.addWidget(self.materials, 1)
        right = QVBoxLayout()
        self.material_text = QPlainTextEdit()
        self.material_text.setReadOnly(True)
        self.material_image = QLabel()
        self.material_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.material_image.setMinimumSize(240, 160)
        self.material_hint = QLabel()
        self.material_hint.setWordWrap(True)
        self.copy_script_button = QPushButton(tr("campaign.ui.copy_script"))
        self.copy_script_button.clicked.connect(self.copy_script)
        self.save_image_button = QPushButton(tr("campaign.ui.save_image"))
        self.save_image_button.clicked.connect(self._choose_image_target)
        self.copy_link_button = QPushButton(tr("campaign.ui.copy_link"))
        self.copy_link_button.clicked.connect(self.copy_link)
        right.addWidget(self.material_text, 1)
        right.addWidget(self.material_image, 1)
        right.addWidget(self.material_hint)
        buttons = QHBoxLayout()
        for b in (self.copy_script_button, self.save_image_button, self.copy_link_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        right.addLayout(buttons)
        h.addLayout(right, 2)
        return w

    def _build_offers(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        self.offers = QTableWidget(0, 3)
        self.offers.setHorizontalHeaderLabels(
            [tr("campaign.ui.offer.title"), tr("campaign.ui.offer.description"), tr("campaign.ui.offer.code")])
        self.offers.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.offers.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.offers.verticalHeader().hide()
        self.offers.horizontalHeader().setStretchLastSection(True)
        self.offers_hint = QLabel()
        self.offers_hint.setWordWrap(True)
        self.copy_code_button = QPushButton(tr("campaign.ui.copy_code"))
        self.copy_code_button.clicked.connect(self.copy_offer_code)
        self.offers.itemSelectionChanged.connect(self._update_actions)
        v.addWidget(self.offers, 1)
        v.addWidget(self.offers_hint)
        row = QHBoxLayout()
        row.addWidget(self.copy_code_button)
        row.addStretch(1)
        v.addLayout(row)
        return w

    def _build_progress(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        self.progress_summary = QLabel()  # my own line, from this PC's book
        self.progress_summary.setWordWrap(True)
        v.addWidget(self.progress_summary)

        self.manager_progress = QWidget()
        mv = QVBoxLayout(self.manager_progress)
        mv.setContentsMargins(0, 0, 0, 0)
        self.progress_state = QLabel()
        self.progress_state.setWordWrap(True)
        self.progress_refresh = QPushButton(tr("campaign.progress.refresh"))
        self.progress_refresh.clicked.connect(self.load_progress)
        top = QHBoxLayout()
        top.addWidget(self.progress_state, 1)
        top.addWidget(self.progress_refresh)
        self.progress_back = QPushButton(tr("campaign.progress.back"))
        self.progress_back.setToolTip(tr("campaign.progress.back_tip"))
        self.progress_back.clicked.connect(self.progress_up)
        self.progress_crumbs = QLabel()
        self.progress_crumbs.setObjectName("emptyTitle")  # the heading of what the table lists
        self.progress_hint = QLabel(tr("campaign.progress.drill_hint"))
        self.progress_hint.setObjectName("hint")
        nav = QHBoxLayout()
        nav.addWidget(self.progress_back)
        nav.addWidget(self.progress_crumbs, 1)
        nav.addWidget(self.progress_hint)
        self.progress_totals = QLabel()
        self.progress_totals.setWordWrap(True)
        self.progress_model = ProgressModel(self)
        self.progress = DrillTable()
        self.progress.setModel(self.progress_model)
        self.progress.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.progress.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.progress.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.progress.verticalHeader().hide()
        self.progress.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.progress.horizontalHeader().setStretchLastSection(True)
        self.progress.doubleClicked.connect(self.progress_drill)
        self.progress.drill.connect(self.progress_drill)
        self.progress.back.connect(self.progress_up)
        mv.addLayout(top)
        mv.addLayout(nav)
        mv.addWidget(self.progress_totals)
        mv.addWidget(self.progress, 1)
        v.addWidget(self.manager_progress, 1)
        if not self._is_manager:
            v.addStretch(1)
        # after the layout has parented them: a parentless widget made visible opens as a window
        self.manager_progress.setVisible(self._is_manager)
        # regional managers and HQ own no customers: no line of their own
        self.progress_summary.setVisible(has_own_customers(self.ctx.actor.role))
        self.progress_back.setVisible(False)
        self.progress_hint.setVisible(False)
        return w

    # ------------------------------------------------------------------ loading
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._progress_pack = None  # HQ's figures may have moved on while the page was away
        self.reload()
        if self._overview_mode():
            self.load_overview()

    def synced(self) -> None:
        """A sync round finished: packs may have come or gone, and HQ's progress moved on."""
        self._progress_pack = None
        if self.isVisible():
            self.reload()
            if self._overview_mode():
                self.load_overview()

    def reload(self) -> None:
        if self._select_after_load is None and self._detail is not None:
            self._select_after_load = self._detail.pack.id

        def load(_c: Any) -> PackLists:
            return PackLists(self.packs.packs(), self.packs.packs(statuses=("expired", "withdrawn")),
                             self.packs.refusals())

        self.runner.run_db(load, on_done=self._lists_loaded, on_error=self._show_error, owner=self,
                           key=f"campaigns.lists.{id(self)}")

    def _lists_loaded(self, lists: PackLists) -> None:
        self.loads_done += 1
        self._lists = lists
        self._fill_list()

    def _fill_list(self) -> None:
        which = self.which.currentData()
        keep = self._select_after_load or self.current_pack_id()
        self._select_after_load = None
        self.list.blockSignals(True)
        self.list.clear()
        if which == "refused":
            for r in self._lists.refused:
                name = f"{r.title} v{r.version}" if r.pack_id else r.source
                item = QListWidgetItem(tr("campaign.ui.refused_item", name=name, at=day_time(r.at)))
                item.setData(PACK_ROLE, r)
                item.setToolTip(error_text(r.error))
                self.list.addItem(item)
        elif which == "overview":
            installed = self._installed_ids()
            for o in self._overview.answer.packs if self._overview is not None else []:
                item = QListWidgetItem(item_text(o, o.pack_id in installed))
                item.setData(PACK_ROLE, o.pack_id)
                item.setToolTip(facts_text(o))
                self.list.addItem(item)
                if o.pack_id == keep:
                    self.list.setCurrentItem(item)
        else:
            packs = self._lists.running if which == "running" else self._lists.history
            for p in packs:
                item = QListWidgetItem(tr("campaign.ui.pack_item", title=p.title, start=p.valid_from.isoformat(),
                                          end=p.valid_to.isoformat(), status=tr(f"pack.status.{p.status}")))
                item.setData(PACK_ROLE, p.id)
                self.list.addItem(item)
                if p.id == keep:
                    self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)
        self._pack_selected()

    def current_pack_id(self) -> str | None:
        item = self.list.currentItem()
        data = item.data(PACK_ROLE) if item is not None else None
        return data if isinstance(data, str) else None

    def _pack_selected(self) -> None:
        item = self.list.currentItem()
        data = item.data(PACK_ROLE) if item is not None else None
        remote = self._overview_item(data) if isinstance(data, str) and data not in self._installed_ids() else None
        self._show_remote(remote)
        if remote is not None:
            self.detail_stack.setCurrentIndex(1)
            self._detail = None
            self._update_actions()
            self._maybe_load_progress()
            return
        if isinstance(data, str) and self._overview_mode():
            self.tabs.setCurrentWidget(self.progress_tab)  # the overview is about progress
        if isinstance(data, Refusal):
            self.refusal_text.setText(tr("campaign.ui.refused_detail", name=data.title or data.source,
                                         version=data.version, at=day_time(data.at), reason=error_text(data.error)))
            self.detail_stack.setCurrentIndex(2)
        elif isinstance(data, str):
            self.detail_stack.setCurrentIndex(1)
            self._load_detail()
            return
        else:
            self.empty.setText(self._empty_text())
            self.detail_stack.setCurrentIndex(0)
        self._detail = None
        self._update_actions()

    def _load_detail(self, select_customer: str | None = None) -> None:
        pack_id = self.current_pack_id()
        if pack_id is None:
            return
        whole_store = bool(self.scope.currentData()) and self._is_manager
        owner = None if whole_store else self.ctx.actor.guide_id
        keep_customer = select_customer or self.selected_customer_id()

        def load(_c: Any) -> PackDetail:
            pack = self.packs.get(pack_id)
            guides = self.campaigns.guide_names()
            return PackDetail(pack, self.campaigns.targets(pack_id, owner_guide_id=owner), guides,
                              self.campaigns.unknown_tags(pack_id))

        self.runner.run_db(load, on_done=lambda d: self._detail_loaded(d, keep_customer), on_error=self._show_error,
                           owner=self, key=f"campaigns.detail.{id(self)}")

    def _detail_loaded(self, d: PackDetail, keep_customer: str | None) -> None:
        self.details_done += 1
        if d.pack.id != self.current_pack_id():
            return  # another campaign was picked meanwhile (one of the overview's, not on this PC)
        self._detail = d
        m = d.pack.manifest
        self.title.setText(f"{m.title}  v{m.version}")
        self.facts.setText(tr("campaign.ui.facts", start=m.valid_from.isoformat(), end=m.valid_to.isoformat(),
                              status=tr(f"pack.status.{d.pack.status}"), targets=len(d.targets)))
        seen_from_overview = self._overview_item(d.pack.id)
        if seen_from_overview is not None:  # HQ's figures for the manager's stores, as in the list
            self.facts.setText(facts_text(seen_from_overview))
        self.description.setText(m.description)
        self.description.setVisible(bool(m.description))
        self.targets_model.set_rows(d.targets, list(m.tasks), d.guides)
        hints = []
        if not d.targets:
            hints.append(tr("campaign.ui.no_targets"))
        if d.unknown_tags:
            hints.append(tr("campaign.ui.unknown_tags", tags="、".join(d.unknown_tags)))
        self.target_hint.setText(" ".join(hints))
        self.target_hint.setVisible(bool(hints))  # an empty wrapped label would still take a line
        current_task = self.task_choice.currentData()
        self.task_choice.clear()
        for task in m.tasks:
            self.task_choice.addItem(tr("campaign.ui.task_item", title=task.title, due=m.task_due(task).isoformat()),
                                     task.id)
        if current_task is not None:
            self.task_choice.setCurrentIndex(max(0, self.task_choice.findData(current_task)))
        row = self.targets_model.row_of(keep_customer) if keep_customer else -1
        if row >= 0:
            self.table.selectRow(row)
        self._fill_materials()
        self._fill_offers()
        self._fill_progress()
        self._update_actions()
        self._maybe_load_progress()

    # ------------------------------------------------------------------ targets and tasks
    def selected_customer_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        value = rows[0].data(ID_ROLE)
        return value if isinstance(value, str) else None

    def _selected_target(self) -> Target | None:
        rows = self.table.selectionModel().selectedRows()
        return self.targets_model.target(rows[0].row()) if rows else None

    def _target_selected(self) -> None:
        target = self._selected_target()
        task_id = self.task_choice.currentData()
        if target is not None and task_id is not None:
            state = target.tasks.get(task_id)
            self.note.setText(state.note if state else "")
            if state is not None and state.outcome:
                self.outcome.setCurrentIndex(max(0, self.outcome.findData(state.outcome)))
        self._fill_offers()
        self._material_selected()
        self._update_actions()

    def mark_done(self) -> None:
        pack_id, customer_id, task_id = self.current_pack_id(), self.selected_customer_id(), self.task_choice.currentData()
        if pack_id is None or customer_id is None or task_id is None:
            return
        outcome, note = self.outcome.currentData(), self.note.text()
        self.runner.run_db(lambda _c: self.campaigns.mark_done(pack_id, task_id, customer_id, outcome, note),
                           on_done=lambda _r: self._task_saved(customer_id, "campaign.ui.marked"),
                           on_error=self._show_error, owner=self)

    def reopen(self) -> None:
        pack_id, customer_id, task_id = self.current_pack_id(), self.selected_customer_id(), self.task_choice.currentData()
        if pack_id is None or customer_id is None or task_id is None:
            return
        self.runner.run_db(lambda _c: self.campaigns.reopen(pack_id, task_id, customer_id),
                           on_done=lambda _r: self._task_saved(customer_id, "campaign.ui.reopened"),
                           on_error=self._show_error, owner=self)

    def _task_saved(self, customer_id: str, message: str) -> None:
        self.status.setText(tr(message))
        self._load_detail(select_customer=customer_id)

    # ------------------------------------------------------------------ materials
    def _fill_materials(self) -> None:
        current = self._current_material()
        self.materials.blockSignals(True)
        self.materials.clear()
        if self._detail is not None:
            for m in self._detail.pack.manifest.materials:
                item = QListWidgetItem(tr(f"campaign.ui.material.{m.kind}", title=m.title))
                item.setData(PACK_ROLE, m.id)
                self.materials.addItem(item)
                if current is not None and m.id == current.id:
                    self.materials.setCurrentItem(item)
        self.materials.blockSignals(False)
        if self.materials.currentItem() is None and self.materials.count():
            self.materials.setCurrentRow(0)
        self._material_selected()

    def _current_material(self) -> Material | None:
        item = self.materials.currentItem()
        if item is None or self._detail is None:
            return None
        material_id = item.data(PACK_ROLE)
        return next((m for m in self._detail.pack.manifest.materials if m.id == material_id), None)

    def _material_selected(self) -> None:
        m = self._current_material()
        files = self._detail is not None and self._detail.pack.status != "withdrawn"
        self.material_text.setVisible(m is not None and m.kind in ("script", "link"))
        self.material_image.setVisible(m is not None and m.kind == "image")
        self.material_hint.setText("")
        if m is None or self._detail is None:
            self.material_text.setPlainText("")
            self._update_actions()
            return
        if m.kind == "link":
            self.material_text.setPlainText(m.url)
        elif m.kind == "image":
            path = self._detail.pack.path / m.asset
            pixmap = QPixmap(str(path)) if files and path.is_file() else QPixmap()
            if pixmap.isNull():
                self.material_image.setText(tr("campaign.ui.files_gone"))
            else:
                self.material_image.setPixmap(pixmap.scaled(
                    320, 240, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        else:
            pack_id, material_id = self._detail.pack.id, m.id
            customer_id = self.selected_customer_id()

            def load(_c: Any) -> str:
                if customer_id is not None:
                    return self.campaigns.script_for(pack_id, material_id, customer_id)
                return self.packs.script_text(pack_id, material_id)

            self.runner.run_db(load, on_done=self.material_text.setPlainText, on_error=self._material_error,
                               owner=self, key=f"campaigns.script.{id(self)}")
            if customer_id is None:
                self.material_hint.setText(tr("campaign.ui.pick_customer_for_script"))
        self._update_actions()

    def _material_error(self, exc: BaseException) -> None:
        self.material_text.setPlainText("")
        self.material_hint.setText(tr("campaign.ui.files_gone") if isinstance(exc, OSError) else error_text(exc))

    def copy_script(self) -> None:
        m = self._current_material()
        customer_id = self.selected_customer_id()
        if m is None or self._detail is None or customer_id is None:
            return
        pack_id = self._detail.pack.id

        def done(text: str) -> None:
            QGuiApplication.clipboard().setText(text)
            self.status.setText(tr("campaign.ui.script_copied"))

        self.runner.run_db(lambda _c: self.campaigns.script_for(pack_id, m.id, customer_id), on_done=done,
                           on_error=self._show_error, owner=self)

    def copy_link(self) -> None:
        m = self._current_material()
        if m is not None and m.kind == "link":
            QGuiApplication.clipboard().setText(m.url)
            self.status.setText(tr("campaign.ui.link_copied"))

    def _choose_image_target(self) -> None:
        m = self._current_material()
        if m is None or self._detail is None or m.kind != "image":
            return
        suggested = str(Path.home() / Path(m.asset).name)
        target, _f = QFileDialog.getSaveFileName(self, tr("campaign.ui.save_image"), suggested)
        if target:
            self.save_image(Path(target))

    def save_image(self, target: Path) -> None:
        m = self._current_material()
        if m is None or self._detail is None:
            return
        source = self._detail.pack.path / m.asset

        def done(_r: object) -> None:
            self.status.setText(tr("campaign.ui.image_saved", path=str(target)))

        def failed(exc: BaseException) -> None:
            self.status.setText(tr("campaign.ui.image_not_saved", reason=getattr(exc, "strerror", None) or str(exc)))

        self.runner.run_db(lambda _c: shutil.copyfile(source, target), on_done=done, on_error=failed, owner=self)

    # ------------------------------------------------------------------ offers and progress
    def _fill_offers(self) -> None:
        self.offers.setRowCount(0)
        if self._detail is None:
            return
        customer_id = self.selected_customer_id()
        for offer in self._detail.pack.manifest.offers:
            r = self.offers.rowCount()
            self.offers.insertRow(r)
            code = offer.code if offer.code else (offer.code_for(customer_id) if customer_id
                                                  else tr("campaign.ui.offer.per_customer"))
            for c, text in enumerate((offer.title, offer.description, code)):
                self.offers.setItem(r, c, QTableWidgetItem(text))
        personal = any(o.code_template for o in self._detail.pack.manifest.offers)
        self.offers_hint.setText(tr("campaign.ui.offer.pick_customer") if personal and not customer_id else "")
        self._update_actions()

    def copy_offer_code(self) -> None:
        if self._detail is None:
            return
        row = self.offers.currentRow()
        offers = self._detail.pack.manifest.offers
        customer_id = self.selected_customer_id()
        if not (0 <= row < len(offers)):
            return
        offer = offers[row]
        if offer.code_template and customer_id is None:
            return
        QGuiApplication.clipboard().setText(offer.code_for(customer_id or ""))
        self.status.setText(tr("campaign.ui.code_copied"))

    def _fill_progress(self) -> None:
        """My own line, from this PC's book (what I did shows at once, before it syncs)."""
        d = self._detail
        if d is None:
            return
        tasks = d.pack.manifest.tasks
        mine = [t for t in d.targets if t.owner_guide_id == self.ctx.actor.guide_id]
        done = sum(1 for t in mine for task in tasks if t.done(task.id))
        total = len(mine) * len(tasks)
        self.progress_summary.setText(tr("campaign.ui.my_progress", done=done, total=total,
                                         pct=f"{(done / total if total else 0):.0%}"))

    # ------------------------------------------------------------------ progress from HQ (managers)
    def _maybe_load_progress(self) -> None:
        """Ask HQ when a manager looks at the progress tab of a pack not asked for yet."""
        shown = self._detail.pack.id if self._detail is not None else self._remote.pack_id if self._remote else None
        if (self._is_manager and shown is not None and self.tabs.currentWidget() is self.progress_tab
                and self._progress_pack != shown):
            self.load_progress()

    def load_progress(self) -> None:
        pack_id = self.current_pack_id()
        if pack_id is None or not self._is_manager:
            return
        if self._progress is not None and self._progress.answer.pack_id != pack_id:
            self._progress_store = None
        self._progress_pack = pack_id
        self.progress_state.setStyleSheet("")
        self.progress_state.setText(tr("campaign.progress.loading"))
        self.progress_refresh.setEnabled(False)
        self.runner.run_net(lambda _c: self.progress_service.progress(pack_id),
                            on_done=self._progress_loaded, on_error=self._progress_failed, owner=self,
                            key=f"campaigns.progress.{id(self)}")

    def _progress_loaded(self, view: ProgressView) -> None:
        self.progress_loads += 1
        self.progress_refresh.setEnabled(True)
        self._progress = view
        a = view.answer
        if view.source == "hq":
            self.progress_state.setStyleSheet("")
            self.progress_state.setText(tr("campaign.progress.as_of", time=day_time(a.as_of_ms)))
        else:
            self.progress_state.setStyleSheet(OFFLINE_STYLE)
            self.progress_state.setText(
                tr("campaign.progress.offline_saved", time=day_time(view.fetched_at), as_of=day_time(a.as_of_ms),
                   reason=view.problem) if view.source == "saved"
                else tr("campaign.progress.offline_local", reason=view.problem))
        ids = [st.store_id for st in a.stores]
        if not self._several_stores():
            self._progress_store = ids[0] if ids else None
        elif self._progress_store not in ids:
            self._progress_store = None
        self._show_progress_level()

    def _progress_failed(self, exc: BaseException) -> None:
        self.progress_loads += 1
        self.progress_refresh.setEnabled(True)
        self._progress = None
        self.progress_state.setStyleSheet(ERROR_STYLE)
        self.progress_state.setText(error_text(exc))
        self.progress_model.set_guides([], [])
        self.progress_totals.setText("")
        self.progress_crumbs.setText("")
        self.progress_back.setVisible(False)
        self.progress_hint.setVisible(False)

    def _several_stores(self) -> bool:
        a = self._progress.answer if self._progress is not None else None
        return a is not None and (a.scope in ("region", "company") or len(a.stores) > 1)

    def _scope_name(self) -> str:
        assert self._progress is not None
        a = self._progress.answer
        if a.scope == "company":
            return tr("campaign.progress.company")
        regions = list(dict.fromkeys(st.region_name for st in a.stores if st.region_name))
        return "、".join(regions) if a.scope == "region" and regions else tr("campaign.progress.all_stores")

    def _show_progress_level(self) -> None:
        if self._progress is None:
            return
        a = self._progress.answer
        several = self._several_stores()
        tasks = len(a.tasks)
        store = next((st for st in a.stores if st.store_id == self._progress_store), None)
        if store is None:
            self.progress_model.set_stores(a.stores, a.tasks)
            self.progress_crumbs.setText(self._scope_name())
            self.progress_totals.setText(self._totals_text(a.stores, tasks))
        else:
            rows = [r for r in a.rows if r.store_id == store.store_id]
            self.progress_model.set_guides(rows, a.tasks)
            self.progress_crumbs.setText(f"{self._scope_name()} › {store.store_name}" if several else store.store_name)
            self.progress_totals.setText(self._guides_text(store, rows, tasks))
        self.progress_back.setVisible(several and store is not None)
        self.progress_hint.setVisible(several and store is None and bool(a.stores))
        self.progress_hint.setText(tr("campaign.progress.drill_hint_overview" if self._overview_mode()
                                      else "campaign.progress.drill_hint"))
        if self.progress_model.rowCount():
            self.progress.selectRow(0)

    @staticmethod
    def _totals_text(stores: list[PackProgressStore], tasks: int) -> str:
        done: dict[str, int] = {}
        for st in stores:
            for k, n in st.done.items():
                done[k] = done.get(k, 0) + n
        targets = sum(st.targets for st in stores)
        return tr("campaign.progress.totals", stores=len(stores), guides=sum(st.guides for st in stores),
                  targets=targets, pct=percent(completion(done, targets, tasks)))

    @staticmethod
    def _guides_text(store: PackProgressStore, rows: list[PackProgressRow], tasks: int) -> str:
        if not rows:
            return tr("campaign.progress.store_empty")
        return tr("campaign.progress.store_totals", guides=len(rows), targets=store.targets,
                  pct=percent(store.completion(tasks)))

    def progress_drill(self, index: QModelIndex) -> None:
        """From a store's row to its guides."""
        if self.progress_model.level != "stores" or not index.isValid():
            return
        store_id = self.progress_model.data(self.progress_model.index(index.row(), 0), STORE_ROLE)
        if isinstance(store_id, str):
            self._progress_store = store_id
            self._show_progress_level()
            self.progress.setFocus()

    def progress_up(self) -> None:
        """From a store's guides back to the stores, with that store selected; from the stores back to
        the overview's list of campaigns."""
        if self._progress_store is None or not self._several_stores():
            if self._overview_mode():
                self.list.setFocus()
            return
        came_from, self._progress_store = self._progress_store, None
        self._show_progress_level()
        for row in range(self.progress_model.rowCount()):
            if self.progress_model.data(self.progress_model.index(row, 0), STORE_ROLE) == came_from:
                self.progress.selectRow(row)
        self.progress.setFocus()

    # ------------------------------------------------------------------ the overview (regional managers, HQ)
    def _overview_mode(self) -> bool:
        return self.which.currentData() == "overview"

    def _installed_ids(self) -> set[str]:
        return {p.id for p in (*self._lists.running, *self._lists.history) if p.status != "withdrawn"}

    def _overview_item(self, pack_id: str) -> PackOverviewItem | None:
        if not self._overview_mode() or self._overview is None:
            return None
        return next((o for o in self._overview.answer.packs if o.pack_id == pack_id), None)

    def _list_changed(self) -> None:
        self._show_list_tools()
        self._fill_list()
        if self._overview_mode():
            self.load_overview()

    def _show_list_tools(self) -> None:
        overview = self._overview_mode()
        self.overview_state.setVisible(overview)
        self.overview_refresh.setVisible(overview)
        self.install_button.setVisible(not overview)
        self.list.setSpacing(4 if overview else 0)  # several two-line campaigns read as one block otherwise

    def _empty_text(self) -> str:
        which = self.which.currentData()
        if which == "overview" and self._overview is None:
            return self.overview_state.text()  # on its way, or why there is no list
        text = tr(f"campaign.ui.none_{which}", days=OVERVIEW_ENDED_DAYS)
        if self._has_overview and which in ("running", "history"):
            text += "\n\n" + tr("campaign.ui.see_overview", list=overview_name(self.ctx.actor.role))
        return text

    def load_overview(self) -> None:
        """Ask HQ for the campaigns of the scope (on the network thread)."""
        if not self._has_overview:
            return
        self.overview_state.setStyleSheet("")
        self.overview_state.setText(tr("campaign.overview.loading"))
        self.overview_refresh.setEnabled(False)
        self.runner.run_net(lambda _c: self.progress_service.overview(), on_done=self._overview_loaded,
                            on_error=self._overview_failed, owner=self, key=f"campaigns.overview.{id(self)}")

    def _overview_loaded(self, view: OverviewView) -> None:
        self.overview_loads += 1
        self.overview_refresh.setEnabled(True)
        self._overview = view
        self.overview_state.setStyleSheet("" if view.source == "hq" else OFFLINE_STYLE)
        self.overview_state.setText(state_text(view))
        if self._overview_mode():
            self._progress_pack = None  # the campaign shown: its figures may have moved on too
            self._fill_list()

    def _overview_failed(self, exc: BaseException) -> None:
        self.overview_loads += 1
        self.overview_refresh.setEnabled(True)
        self._overview = None
        self.overview_state.setStyleSheet(ERROR_STYLE)
        self.overview_state.setText(error_text(exc))
        if self._overview_mode():
            self._fill_list()

    def _show_remote(self, item: PackOverviewItem | None) -> None:
        """A campaign of the overview that this PC does not have: its facts and progress, nothing else."""
        self._remote = item
        for tab in range(self.tabs.count()):
            self.tabs.setTabVisible(tab, item is None or self.tabs.widget(tab) is self.progress_tab)
        self.remote_note.setVisible(item is not None)
        if item is None:
            return
        self.tabs.setCurrentWidget(self.progress_tab)
        self.title.setText(f"{item.title}  v{item.version}")
        self.facts.setText(facts_text(item))
        self.description.setVisible(False)

    def _open_from_list(self) -> None:
        """Enter on a campaign of the overview: on to its store summary."""
        if self._overview_mode() and self.detail_stack.currentIndex() == 1:
            self.tabs.setCurrentWidget(self.progress_tab)
            self.progress.setFocus()

    # ------------------------------------------------------------------ install from a file
    def _choose_file(self) -> None:
        path, _f = QFileDialog.getOpenFileName(self, tr("campaign.ui.install_file"), str(Path.home()),
                                               tr("campaign.ui.file_filter"))
        if path:
            self.install_path(Path(path))

    def install_path(self, path: Path) -> None:
        """Verify and install a pack file (HQ may hand one over when the network is down)."""
        self.status.setText(tr("campaign.ui.installing", name=path.name))
        self.install_button.setEnabled(False)

        def done(pack: InstalledPack) -> None:
            self.install_button.setEnabled(True)
            self.status.setText(tr("campaign.ui.installed", title=pack.title, version=pack.version))
            self._select_after_load = pack.id
            self.which.setCurrentIndex(LISTS.index("running"))
            self.reload()

        def failed(exc: BaseException) -> None:
            self.install_button.setEnabled(True)
            self.status.setText(tr("campaign.ui.install_refused", reason=error_text(exc)))
            self.which.setCurrentIndex(LISTS.index("refused"))
            self.reload()

        self.runner.run_db(lambda _c: self.packs.install_file(path), on_done=done, on_error=failed, owner=self)

    # ------------------------------------------------------------------ state
    def _show_error(self, exc: BaseException) -> None:
        self.status.setText(error_text(exc))

    def _update_actions(self) -> None:
        d = self._detail
        running = d is not None and d.pack.status == "installed"
        has_customer = self.selected_customer_id() is not None
        self.mark_button.setEnabled(running and has_customer)
        self.reopen_button.setEnabled(running and has_customer)
        self.note.setEnabled(running)
        self.outcome.setEnabled(running)
        m = self._current_material()
        files = d is not None and d.pack.status != "withdrawn"
        self.copy_script_button.setEnabled(m is not None and m.kind == "script" and has_customer and files)
        self.save_image_button.setEnabled(m is not None and m.kind == "image" and files)
        self.copy_link_button.setEnabled(m is not None and m.kind == "link")
        self.copy_script_button.setVisible(m is None or m.kind == "script")
        self.save_image_button.setVisible(m is not None and m.kind == "image")
        self.copy_link_button.setVisible(m is not None and m.kind == "link")
        row = self.offers.currentRow()
        offers = d.pack.manifest.offers if d is not None else []
        self.copy_code_button.setEnabled(
            0 <= row < len(offers) and (bool(offers[row].code) or has_customer))
