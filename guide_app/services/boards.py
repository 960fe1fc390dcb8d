"""业绩榜 on the counter PC: boards fetched from HQ, each kept in ``leaderboard_snapshot`` with its "as
of" time, so the last copy opens offline and says how old it is; the guide's own acquisitions still in
the outbox are shown beside the board as pending, never added to HQ's figures.

Also the Qt-free parts of the page: value formatting per metric and export of a board to CSV/XLSX.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from guide_app.db.models import CampaignPack, Outbox
from guide_app.domain.acquisition import is_import
from guide_app.domain.errors import UserError
from guide_app.i18n import tr
from guide_app.services import audit
from guide_app.services.context import AppContext, wall_ms
from guide_app.services.hq_copies import CopyLabel, HqCopies
from guide_app.services.sync_service import SyncService
from guide_app.sync.boards import BoardRequest, fetch_board, fetch_trend
from guide_app.sync.protocol import (
    BoardMetric,
    BoardPeriod,
    BoardScope,
    LeaderboardResponse,
    LeaderboardRow,
    LeaderboardTrend,
)

METRICS: tuple[BoardMetric, ...] = ("new_customers", "qr_adds", "sales", "orders", "follow_ups", "task_rate",
                                    "imports")
CARD_METRICS: tuple[BoardMetric, ...] = METRICS[:6]  # the guide's own figures at the top of the page
PERIODS: tuple[BoardPeriod, ...] = ("today", "week", "month", "custom", "campaign")
TREND_WEEKS = 8


@dataclass(frozen=True)
class BoardView:
    board: LeaderboardResponse
    fetched_at: int
    offline: bool  # True: HQ did not answer; this is the copy saved at ``fetched_at``
    problem: str = ""  # why (in the user's language), when offline
    pending: int = 0  # the guide's own new customers not yet synced: shown, not counted

    @property
    def as_of_ms(self) -> int:
        return self.board.as_of_ms

    def mine(self) -> LeaderboardRow | None:
        return next((r for r in self.board.rows if r.is_me), None)


@dataclass(frozen=True)
class TrendView:
    trend: LeaderboardTrend
    fetched_at: int
    offline: bool
    problem: str = ""


@dataclass(frozen=True)
class MyFigure:
    """One card of the guide's view: my value and rank on my store's board, and the gap to the next."""

    metric: BoardMetric
    value: float | None
    rank: int | None
    total: int
    gap: float | None
    prev_value: float | None
    offline: bool
    as_of_ms: int


def format_value(metric: str, value: float | None) -> str:
    if value is None:
        return "—"
    if metric == "sales":
        return f"¥{value / 100:,.2f}"
    if metric == "task_rate":
        return f"{value * 100:.0f}%"
    return f"{int(value):,}"


def format_change(metric: str, value: float | None, prev: float | None) -> str:
    if value is None or prev is None:
        return ""
    diff = value - prev
    if metric == "task_rate":
        text = f"{abs(diff) * 100:.0f}%"
    elif metric == "sales":
        text = f"¥{abs(diff) / 100:,.2f}"
    else:
        text = f"{abs(int(diff)):,}"
    return "±0" if not diff else ("+" if diff > 0 else "−") + text


def format_as_of(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")


class BoardService:
    """Fetch-and-cache of boards for the signed-in account (``sync`` None: cache only)."""

    def __init__(self, ctx: AppContext, sync: SyncService | None, now_ms: Callable[[], int] = wall_ms) -> None:
        self.ctx = ctx
        self.sync = sync
        self.now_ms = now_ms
        self.copies = HqCopies(ctx, sync, now_ms)

    @property
    def account_id(self) -> str:
        return self.ctx.actor.guide_id

    def _key(self, kind: str) -> str:
        return f"{self.account_id}|{kind}"[:300]

    # --- boards ---------------------------------------------------------------------------------
    def board(self, request: BoardRequest) -> BoardView:
        """HQ's board, saved for offline use; HQ unreachable: the last saved copy, marked offline."""
        got = self.copies.fetch(
            self._key(request.cache_key()), LeaderboardResponse, lambda client: fetch_board(client, request),
            CopyLabel(request.scope, request.metric, request.period),
            refused="boards.error.refused", no_copy="boards.error.no_copy")
        return BoardView(got.answer, got.fetched_at, got.offline, got.problem, self.pending_acquisitions())

    def trend(self, scope: BoardScope, scope_id: str, metric: BoardMetric, weeks: int = TREND_WEEKS) -> TrendView:
        got = self.copies.fetch(
            self._key(f"trend|{scope}|{scope_id}|{metric}|{weeks}"), LeaderboardTrend,
            lambda client: fetch_trend(client, scope, scope_id, metric, weeks), CopyLabel(scope, metric, "trend"),
            refused="boards.error.refused", no_copy="boards.error.no_copy")
        return TrendView(got.answer, got.fetched_at, got.offline, got.problem)

    def my_figures(self, request: BoardRequest) -> list[MyFigure]:
        """My value, rank and gap on my store's board for every card metric, over ``request``'s period."""
        figures = []
        for metric in CARD_METRICS:
            req = BoardRequest(scope="store", metric=metric, period=request.period, date_from=request.date_from,
                               date_to=request.date_to, campaign_id=request.campaign_id)
            try:
                view = self.board(req)
            except UserError:
                figures.append(MyFigure(metric, None, None, 0, None, None, True, 0))
                continue
            me = view.mine()
            figures.append(MyFigure(metric, me.value if me else None, me.rank if me else None, view.board.total,
                                    me.gap_to_next if me else None, me.prev_value if me else None, view.offline,
                                    view.as_of_ms))
        return figures

    def pending_acquisitions(self) -> int:
        """My new customers still waiting in the outbox (HQ has not counted them yet; imports aside)."""
        me = self.account_id
        with self.ctx.db.read() as s:
            rows = s.execute(select(Outbox.entity_id, Outbox.fields).where(
                Outbox.status == "pending", Outbox.entity == "customer")).all()
        new = {entity_id for entity_id, fields in rows
               if "created_at" in (fields or {}) and (fields.get("owner_guide_id") or me) == me
               and not is_import(str(fields.get("source") or ""))}
        return len(new)

    # --- export (managers; logged like any export) -------------------------------------------------
    def export(self, board: LeaderboardResponse, path: Path | str) -> Path:
        """Write ``board`` to a .csv or .xlsx file and log it in the audit log."""
        path = Path(path)
        self._require_manager()
        written = export_xlsx(board, path) if path.suffix.lower() == ".xlsx" else export_csv(board, path)
        self.log_export(board, written)
        return written

    def log_export(self, board: LeaderboardResponse, path: Path) -> None:
        """The audit entry of an export (the page writes PNGs itself, then logs them here)."""
        self._require_manager()
        with self.ctx.write() as w:
            # no "rows" in the detail: a board is not customers, and must not eat the customer export limit
            audit.record(w, "export", board_title(board), what="leaderboard", format=path.suffix.lstrip(".").lower(),
                         lines=len(board.rows), file=path.name)

    def _require_manager(self) -> None:
        if not self.ctx.actor.is_manager:
            raise UserError("boards.error.managers_only")

    def campaigns(self) -> list[tuple[str, str]]:
        """(id, title) of the campaigns installed on this PC, newest window first."""
        with self.ctx.db.read() as s:
            return [(i, t) for i, t in s.execute(select(CampaignPack.id, CampaignPack.title)
                                                   .order_by(CampaignPack.valid_from.desc()))]


# --- export ------------------------------------------------------------------------------------


def board_title(board: LeaderboardResponse) -> str:
    return tr("boards.export.title", scope=board.scope_name or tr("boards.scope.company"),
              metric=tr(f"boards.metric.{board.metric}"), start=board.start, end=board.end)


def _table(board: LeaderboardResponse) -> tuple[list[str], list[list[object]]]:
    headers = [tr("boards.col.rank"), tr("boards.col.name"), tr("boards.col.value"), tr("boards.col.prev_value"),
               tr("boards.col.prev_rank")]
    rows: list[list[object]] = []
    for r in board.rows:
        rows.append([r.rank, r.name, _cell(board.metric, r.value), _cell(board.metric, r.prev_value),
                     r.prev_rank if r.prev_rank is not None else ""])
    return headers, rows


def _cell(metric: str, value: float | None) -> object:
    if value is None:
        return ""
    if metric == "sales":
        return round(value / 100, 2)
    if metric == "task_rate":
        return round(value, 4)
    return int(value)


def export_csv(board: LeaderboardResponse, path: Path | str) -> Path:
    """UTF-8 with BOM, so Excel on a Chinese Windows opens the names right."""
    path = Path(path)
    headers, rows = _table(board)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([board_title(board), tr("boards.as_of", time=format_as_of(board.as_of_ms))])
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def export_xlsx(board: LeaderboardResponse, path: Path | str) -> Path:
    from openpyxl import Workbook  # loaded on export only: it is slow to import

    path = Path(path)
    headers, rows = _table(board)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = tr("boards.export.sheet")[:31]
    ws.append([board_title(board)])
    ws.append([tr("boards.as_of", time=format_as_of(board.as_of_ms))])
    ws.append(headers)
    for row in rows:
        ws.append(row)
    number_format = {"sales": "#,##0.00", "task_rate": "0%"}.get(board.metric)
    if number_format:
        for col in ("C", "D"):
            for cell in ws[col][3:]:
                cell.number_format = number_format
    ws.column_dimensions["B"].width = 24
    wb.save(path)
    return path
