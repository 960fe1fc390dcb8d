"""业绩榜: the guide's own figures (value, rank in the store, gap to the next rank, per metric), the
board with a period switcher, and for managers the region → store → guide drill-down, a weekly trend
chart and export to CSV/XLSX/PNG. Boards come from HQ off the GUI thread and are kept on this PC, so
offline the last copy opens with its "as of" time said plainly."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCharts import QCategoryAxis, QChart, QChartView, QLineSeries, QValueAxis
from PySide6.QtCore import QDate, QMargins, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from guide_app.domain.errors import UserError
from guide_app.i18n import tr
from guide_app.services.boards import (
    CARD_METRICS,
    METRICS,
    PERIODS,
    BoardService,
    BoardView,
    MyFigure,
    TrendView,
    format_as_of,
    format_value,
)
from guide_app.sync.boards import BoardRequest
from guide_app.sync.protocol import BoardMetric, BoardPeriod, BoardScope, BoardUnit
from guide_app.tasks import TaskControl
from guide_app.views.app_services import AppServices
from guide_app.views.boards_model import BoardModel
from guide_app.views.formatting import error_text

MANAGERS = ("store_manager", "region_manager", "hq_admin")
ON_BOARDS = ("guide", "store_manager")  # roles that have a row of their own on boards of guides
UNITS: dict[str, tuple[BoardUnit, ...]] = {"store": ("guide",), "region": ("store", "guide"),
                                           "company": ("region", "store", "guide")}
OFFLINE_STYLE = "color: #e65100;"
ERROR_STYLE = "color: #c62828;"


@dataclass(frozen=True)
class Level:
    """One step of the drill-down: a scope, its id ("" = the caller's own) and name, and what it lists."""

    scope: BoardScope
    scope_id: str
    unit: BoardUnit
    name: str = ""


@dataclass(frozen=True)
class Loaded:
    view: BoardView
    trend: TrendView | None
    own: list[str]  # "区域排名：第 3 名 / 共 40 名" lines for a guide


class MetricCard(QFrame):
    def __init__(self, metric: BoardMetric, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.metric_box = metric
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(2)
        self.title = QLabel(tr(f"boards.metric.{metric}"))
        self.value = QLabel("—")
        font = self.value.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.value.setFont(font)
        self.rank = QLabel(tr("boards.card.no_rank"))
        self.gap = QLabel("")
        self.gap.setObjectName("hint")
        for w in (self.title, self.value, self.rank, self.gap):
            layout.addWidget(w)

    def show_figure(self, f: MyFigure) -> None:
        self.value.setText(format_value(f.metric, f.value))
        if f.rank is None or f.value is None:  # not on the board, or a rate with no tasks in the period
            self.rank.setText(tr("boards.card.no_rank") if f.rank is None else tr("boards.card.no_tasks"))
            self.gap.setText(tr("boards.card.offline") if f.offline else "")
            return
        self.rank.setText(tr("boards.card.rank", rank=f.rank, total=f.total))
        gap = (tr("boards.card.top") if f.value else "") if f.rank == 1 else (
            tr("boards.card.gap", gap=format_value(f.metric, f.gap)) if f.gap is not None else "")
        extra = [gap, tr("boards.card.prev", value=format_value(f.metric, f.prev_value))]
        if f.offline:
            extra.append(tr("boards.card.offline"))
        self.gap.setText(" · ".join(x for x in extra if x))


class BoardsPage(QWidget):
    status = Signal(str)

    def __init__(self, services: AppServices, boards: BoardService | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = services.runner
        sync = services.sync.service if services.sync is not None else None
        self.boards = boards or BoardService(services.ctx, sync)
        self.role = services.ctx.actor.role
        self.is_manager = self.role in MANAGERS
        self.levels: list[Level] = [self._home_level()]
        self.view: BoardView | None = None
        self.loaded_once = False

        title = QLabel(tr("ui.nav.leaderboard"))
        title.setObjectName("pageTitle")
        self.metric_box = QComboBox()
        for m in METRICS:
            self.metric_box.addItem(tr(f"boards.metric.{m}"), m)
        self.period_box = QComboBox()
        for p in PERIODS:
            self.period_box.addItem(tr(f"boards.period.{p}"), p)
        self.period_box.setCurrentIndex(PERIODS.index("week"))
        today = QDate.currentDate()
        self.date_from = QDateEdit(today.addDays(-6))
        self.date_to = QDateEdit(today)
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.from_label, self.to_label = QLabel(tr("boards.ui.from")), QLabel(tr("boards.ui.to"))
        self.campaign = QComboBox()
        self.campaign_label = QLabel(tr("boards.ui.campaign"))
        self.unit = QComboBox()
        self.unit_label = QLabel(tr("boards.ui.unit"))
        self.refresh_button = QPushButton(tr("boards.ui.refresh"))
        self.refresh_button.clicked.connect(self.refresh)

        controls = QHBoxLayout()
        controls.addWidget(title)
        controls.addSpacing(16)
        w: QWidget
        for w in (QLabel(tr("boards.ui.metric")), self.metric_box, QLabel(tr("boards.ui.period")), self.period_box,
                  self.from_label, self.date_from, self.to_label, self.date_to, self.campaign_label, self.campaign,
                  self.unit_label, self.unit):
            controls.addWidget(w)
        controls.addStretch(1)
        controls.addWidget(self.refresh_button)

        self.state = QLabel(tr("boards.ui.loading"))
        self.state.setWordWrap(True)
        self.pending = QLabel("")
        self.pending.setObjectName("hint")
        self.pending.hide()

        self.cards = {m: MetricCard(m) for m in CARD_METRICS}
        self.cards_title = QLabel("")
        cards_grid = QGridLayout()
        for i, m in enumerate(CARD_METRICS):
            cards_grid.addWidget(self.cards[m], i // 3, i % 3)
        self.own_ranks = QLabel("")
        self.cards_box = QWidget()
        cards_layout = QVBoxLayout(self.cards_box)
        cards_layout.setContentsMargins(0, 0, 0, 0)
        cards_layout.addWidget(self.cards_title)
        cards_layout.addLayout(cards_grid)

        self.back = QPushButton(tr("boards.ui.back"))
        self.back.clicked.connect(self.go_up)
        self.crumbs = QLabel("")
        self.drill_hint = QLabel(tr("boards.ui.drill_hint"))
        self.drill_hint.setObjectName("hint")
        nav = QHBoxLayout()
        nav.addWidget(self.back)
        nav.addWidget(self.crumbs, 1)
        nav.addWidget(self.drill_hint)

        # the board with its caption: exported as a picture as it looks
        self.board_panel = QWidget()
        panel = QVBoxLayout(self.board_panel)
        panel.setContentsMargins(0, 0, 0, 0)
        self.caption = QLabel("")
        self.caption.setObjectName("emptyTitle")
        self.window_text = QLabel("")
        self.window_text.setObjectName("hint")
        self.scope_note = QLabel("")
        self.scope_note.setObjectName("hint")
        self.model = BoardModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(self.drill)
        for w in (self.caption, self.window_text, self.scope_note, self.table):
            panel.addWidget(w)

        self.chart = QChart()
        self.chart.setMargins(QMargins(2, 2, 16, 2))  # room for the last date label
        self.chart.setBackgroundRoundness(0)
        self.chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.chart_view = QChartView(self.chart)
        self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_view.setMinimumWidth(320)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.board_panel)
        split.addWidget(self.chart_view)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)

        self.export_buttons = QWidget()
        exports = QHBoxLayout(self.export_buttons)
        exports.setContentsMargins(0, 0, 0, 0)
        self.export_note = QLabel("")
        self.export_note.setObjectName("hint")
        exports.addWidget(self.export_note)
        exports.addStretch(1)
        for kind in ("csv", "xlsx", "png"):
            button = QPushButton(tr(f"boards.ui.export_{kind}"))
            button.clicked.connect(lambda _=False, kind=kind: self.ask_export(kind))
            exports.addWidget(button)
        self.export_buttons.setEnabled(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(controls)
        layout.addWidget(self.state)
        layout.addWidget(self.pending)
        layout.addWidget(self.cards_box)
        layout.addWidget(self.own_ranks)
        layout.addLayout(nav)
        layout.addWidget(split, 1)
        layout.addWidget(self.export_buttons)
        # after the layout has parented them: a parentless widget made visible opens as a window
        self.cards_box.setVisible(self.role in ON_BOARDS)
        self.export_buttons.setVisible(self.is_manager)

        self._fill_units()
        self._period_changed()
        self.metric_box.currentIndexChanged.connect(self.refresh)
        self.period_box.currentIndexChanged.connect(self._period_changed)
        self.period_box.currentIndexChanged.connect(self.refresh)
        self.date_from.dateChanged.connect(self._custom_changed)
        self.date_to.dateChanged.connect(self._custom_changed)
        self.campaign.currentIndexChanged.connect(self._campaign_changed)
        self.unit.currentIndexChanged.connect(self._unit_changed)
        self.runner.run_db(lambda _c: self.boards.campaigns(), on_done=self._show_campaigns, owner=self)
        if services.sync is not None:
            services.sync.synced.connect(self._synced)

    def _synced(self) -> None:
        """A sync may have counted my pending customers: an open board asks HQ again."""
        if self.isVisible() and self.loaded_once:
            self.refresh()

    # --- what to ask for ------------------------------------------------------------------------
    def _home_level(self) -> Level:
        if self.role == "hq_admin":
            return Level("company", "", "region", tr("boards.scope.company"))
        if self.role == "region_manager":
            return Level("region", "", "store", tr("boards.scope.region"))
        return Level("store", "", "guide", self.services.store_name or tr("boards.scope.store"))

    def request(self) -> BoardRequest:
        level = self.levels[-1]
        period: BoardPeriod = self.period_box.currentData()
        return BoardRequest(
            scope=level.scope, metric=self.metric_box.currentData(), period=period, unit=level.unit,
            scope_id=level.scope_id,
            date_from=self.date_from.date().toPython() if period == "custom" else None,  # type: ignore[arg-type]
            date_to=self.date_to.date().toPython() if period == "custom" else None,  # type: ignore[arg-type]
            campaign_id=str(self.campaign.currentData() or "") if period == "campaign" else "",
        )

    def _fill_units(self) -> None:
        level = self.levels[-1]
        self.unit.blockSignals(True)
        self.unit.clear()
        for u in UNITS[level.scope]:
            self.unit.addItem(tr(f"boards.unit.{u}"), u)
        self.unit.setCurrentIndex(max(0, self.unit.findData(level.unit)))
        self.unit.blockSignals(False)
        many = len(UNITS[level.scope]) > 1 and self.is_manager
        self.unit.setVisible(many)
        self.unit_label.setVisible(many)
        self.back.setVisible(len(self.levels) > 1)
        self.crumbs.setText(" › ".join(lv.name for lv in self.levels if lv.name))
        self.crumbs.setVisible(len(self.levels) > 1)
        self.drill_hint.setVisible(self.is_manager and level.unit != "guide")

    def _period_changed(self) -> None:
        period = self.period_box.currentData()
        custom: tuple[QWidget, ...] = (self.from_label, self.date_from, self.to_label, self.date_to)
        for w in custom:
            w.setVisible(period == "custom")
        for c in (self.campaign_label, self.campaign):
            c.setVisible(period == "campaign")

    def _custom_changed(self) -> None:
        if self.period_box.currentData() == "custom":
            self.refresh()

    def _campaign_changed(self) -> None:
        if self.period_box.currentData() == "campaign":
            self.refresh()

    def _unit_changed(self) -> None:
        level = self.levels[-1]
        self.levels[-1] = Level(level.scope, level.scope_id, self.unit.currentData(), level.name)
        self._fill_units()
        self.refresh()

    def _show_campaigns(self, campaigns: list[tuple[str, str]]) -> None:
        self.campaign.blockSignals(True)
        self.campaign.clear()
        for cid, title in campaigns:
            self.campaign.addItem(title, cid)
        if not campaigns:
            self.campaign.addItem(tr("boards.ui.no_campaign"), "")
        self.campaign.setEnabled(bool(campaigns))
        self.campaign.blockSignals(False)

    # --- drill-down -----------------------------------------------------------------------------
    def drill(self, index: QModelIndex) -> None:
        row = self.model.row_at(index.row())
        level = self.levels[-1]
        if row is None or not self.is_manager or self.view is None or not self.view.board.complete:
            return
        if level.unit == "region":
            self.levels.append(Level("region", row.key, "store", row.name))
        elif level.unit == "store":
            self.levels.append(Level("store", row.key, "guide", row.name))
        else:
            return
        self._fill_units()
        self.refresh()

    def go_up(self) -> None:
        if len(self.levels) > 1:
            self.levels.pop()
            self._fill_units()
            self.refresh()

    # --- loading --------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self.loaded_once:
            self.refresh()

    def refresh(self) -> None:
        self.loaded_once = True
        request = self.request()
        level = self.levels[-1]
        if request.period == "campaign" and not request.campaign_id:
            self.state.setStyleSheet(ERROR_STYLE)
            self.state.setText(tr("boards.ui.no_campaign"))
            return
        self.state.setStyleSheet("")
        self.state.setText(tr("boards.ui.loading"))
        self.refresh_button.setEnabled(False)
        own_rows = self.role in ON_BOARDS
        # where my rows stand on boards I see only partly: a guide in region and company, a regional
        # manager's region in the company
        places: list[tuple[BoardScope, BoardUnit, str]] = (
            [("region", "guide", "boards.ui.region_rank"), ("company", "guide", "boards.ui.company_rank")]
            if own_rows else [("company", "region", "boards.ui.region_place")] if self.role == "region_manager"
            else [])

        def work(_: TaskControl) -> Loaded:
            view = self.boards.board(request)
            trend = None
            try:
                trend = self.boards.trend(level.scope, view.board.scope_id, request.metric)
            except UserError:
                trend = None  # a board the caller sees only partly has no trend for them
            own = []
            for scope, unit, key in places:
                try:
                    other = self.boards.board(BoardRequest(
                        scope=scope, metric=request.metric, period=request.period, unit=unit,
                        date_from=request.date_from, date_to=request.date_to, campaign_id=request.campaign_id))
                except UserError:
                    continue
                mine = other.mine()
                if mine is not None:
                    own.append(tr(key, rank=mine.rank, total=other.board.total))
            return Loaded(view, trend, own)

        self.runner.run_net(work, on_done=self._show, on_error=self._failed, owner=self, key="boards-main")
        if own_rows:
            self.cards_title.setText(tr("boards.ui.my_title", period=self.period_box.currentText()))
            self.runner.run_net(lambda _c: self.boards.my_figures(request), on_done=self._show_figures,
                                on_error=lambda _e: None, owner=self, key="boards-me")

    def _failed(self, exc: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        self.state.setStyleSheet(ERROR_STYLE)
        self.state.setText(error_text(exc))
        self.model.set_board(self.model.metric, [])
        self.export_buttons.setEnabled(False)

    def _show(self, loaded: Loaded) -> None:
        self.refresh_button.setEnabled(True)
        view = self.view = loaded.view
        board = view.board
        if view.offline:
            self.state.setStyleSheet(OFFLINE_STYLE)
            self.state.setText(tr("boards.offline", time=format_as_of(view.fetched_at),
                                  as_of=format_as_of(view.as_of_ms), reason=view.problem))
        else:
            self.state.setStyleSheet("")
            self.state.setText(tr("boards.as_of", time=format_as_of(view.as_of_ms)))
        self.pending.setVisible(view.pending > 0)
        self.pending.setText(tr("boards.pending", count=view.pending))
        level = self.levels[-1]
        name = board.scope_name or tr("boards.scope.company")
        if level.name != name and board.scope_name:
            self.levels[-1] = Level(level.scope, board.scope_id, level.unit, name)
            self.crumbs.setText(" › ".join(lv.name for lv in self.levels if lv.name))
        self.caption.setText(tr("boards.ui.board_caption", scope=name, unit=tr(f"boards.unit.{board.unit}"))
                             + " · " + tr(f"boards.metric.{board.metric}"))
        self.window_text.setText(tr("boards.ui.window", start=board.start, end=board.end,
                                    prev_start=board.prev_start, prev_end=board.prev_end))
        self.scope_note.setVisible(not board.complete)
        self.scope_note.setText(tr("boards.ui.own_only", total=board.total))
        self.model.set_board(board.metric, board.rows)
        self.own_ranks.setText("　".join(loaded.own))
        self.export_buttons.setEnabled(bool(board.rows))
        self._show_trend(loaded.trend, board.metric)
        self.status.emit(self.state.text())

    def _show_figures(self, figures: list[MyFigure]) -> None:
        for f in figures:
            self.cards[f.metric].show_figure(f)

    def _show_trend(self, trend: TrendView | None, metric: str) -> None:
        self.chart.removeAllSeries()
        for axis in self.chart.axes():
            self.chart.removeAxis(axis)
        points = trend.trend.points if trend is not None else []
        self.chart.setTitle(tr("boards.ui.trend", weeks=len(points), metric=tr(f"boards.metric.{metric}"))
                            if points else tr("boards.ui.trend_empty"))
        if trend is None or not points:
            return
        scale = 100.0 if metric == "task_rate" else (0.01 if metric == "sales" else 1.0)
        total = QLineSeries()
        total.setName(tr("boards.ui.trend_scope", name=trend.trend.scope_name or tr("boards.scope.company")))
        total.setPen(QPen(QColor("#1565c0"), 2))
        mine = QLineSeries()
        mine.setName(tr("boards.ui.trend_mine"))
        mine.setPen(QPen(QColor("#ef6c00"), 2))
        top = 0.0
        for i, p in enumerate(points):
            value = (p.value or 0.0) * scale
            total.append(i, value)
            top = max(top, value)
            if p.mine is not None:
                mine.append(i, p.mine * scale)
        self.chart.addSeries(total)
        if mine.count():
            self.chart.addSeries(mine)
        x = QCategoryAxis()
        x.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
        # a label every other week, counted back from this one: eight dates side by side get cut short
        for i, p in enumerate(points):
            if (len(points) - 1 - i) % 2 == 0:
                x.append(dt.date.fromisoformat(p.start).strftime("%m-%d"), i)
        x.setRange(0, max(1, len(points) - 1))
        y = QValueAxis()
        y.setRange(0, max(1.0, top))
        y.applyNiceNumbers()  # ticks on round values, so a label never reads 3 where the line is at 3.4
        y.setLabelFormat("%.0f")
        self.chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
        self.chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
        for series in self.chart.series():
            series.attachAxis(x)
            series.attachAxis(y)

    # --- export ---------------------------------------------------------------------------------
    def ask_export(self, kind: str) -> None:
        if self.view is None:
            return
        board = self.view.board
        suggested = f"{tr('boards.export.sheet')}_{board.metric}_{board.start}_{board.end}.{kind}"
        path, _ = QFileDialog.getSaveFileName(self, tr("boards.ui.export_caption"),
                                              str(Path.home() / suggested), tr(f"boards.ui.filter_{kind}"))
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        """Write the board on screen to ``path``: .csv and .xlsx off the GUI thread, .png as it looks."""
        if self.view is None:
            return
        board = self.view.board
        kind = path.suffix.lower().lstrip(".")
        if kind == "png":
            self.board_panel.grab().save(str(path), "PNG")

            def log(_: TaskControl) -> Path:
                self.boards.log_export(board, path)
                return path

            self.runner.run_db(log, on_done=self._exported, on_error=self._export_failed, owner=self)
            return
        self.runner.run_db(lambda _c: self.boards.export(board, path), on_done=self._exported,
                           on_error=self._export_failed, owner=self)

    def _exported(self, path: Path) -> None:
        self.export_note.setText(tr("boards.ui.exported", path=str(path)))
        self.status.emit(self.export_note.text())

    def _export_failed(self, exc: BaseException) -> None:
        self.export_note.setText(error_text(exc))
