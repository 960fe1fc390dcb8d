"""Leaderboards (业绩榜) from the daily rollups of :mod:`hq.ledger`, and ``GET /v1/leaderboards``.

A board ranks guides, stores or regions of one scope (a store, a region, the company) by one metric
over one period, counted in the org's time zone. Ties share a rank (1, 1, 3). Every row carries the
previous period's value and rank and the gap to the rank above.

Who sees what: HQ sees every board. A regional manager sees the boards of their region and its
stores in full, and on company boards only their region's own rows (its place in the company). A
guide or store manager sees the boards of their stores in full, and on region or company boards only
their own rows (their rank). A board outside that is refused (403), never trimmed to nothing.
"""

import bisect
import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from guide_app.sync.protocol import (
    BoardMetric,
    BoardPeriod,
    BoardScope,
    BoardUnit,
    LeaderboardResponse,
    LeaderboardTrend,
    TrendPoint,
)
from hq import auth
from hq.errors import ApiError, error_responses
from hq.ledger import local_day, org_time_zone
from hq.messages import MESSAGES_ZH
from hq.models import (
    Account,
    AccountStore,
    CampaignPack,
    LedgerGuideDay,
    LedgerGuideMonth,
    LedgerStoreDay,
    LedgerStoreMonth,
    Region,
    Store,
)

MAX_CUSTOM_DAYS = 366
MAX_TREND_WEEKS = 26
UNITS: dict[str, tuple[str, ...]] = {"store": ("guide",), "region": ("guide", "store"),
                                     "company": ("guide", "store", "region")}
# the wire metric → the rollup metrics it is computed from
SUMMED: dict[str, str] = {"new_customers": "new_customers", "qr_adds": "qr_adds", "sales": "sales_cents",
                          "orders": "orders", "follow_ups": "follow_ups", "imports": "imports"}
RATE = "task_rate"
BOARD_ROLES = ("guide", "store_manager")  # the people who appear on boards of guides

MESSAGES_ZH.update({
    "board_forbidden": "无权查看该榜单",
    "board_bad_request": "榜单参数不正确：{problem}",
    "campaign_unknown": "找不到该活动",
})


class Clock:
    """"Now" for the boards; tests replace it through ``app.dependency_overrides[board_clock]``."""

    def __init__(self, now_ms: Callable[[], int] | None = None) -> None:
        self.now_ms = now_ms or (lambda: int(time.time() * 1000))


def board_clock() -> Clock:
    return Clock()


def _bad(detail: str, problem_zh: str) -> ApiError:
    """400 with an English detail for logs and the problem in Chinese for the person asking."""
    return ApiError(400, "board_bad_request", detail, problem=problem_zh)


# --- who is asking ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    account_id: str
    role: str
    home_store_id: str  # the store of the PC they are signed in on
    home_region_id: str
    store_ids: frozenset[str]  # stores they work in
    region_ids: frozenset[str]  # regions of those stores, or the region they manage
    managed_region: str = ""

    @property
    def is_hq(self) -> bool:
        return self.role == "hq_admin"


def viewer_of(session: Session, account_id: str, home_store_id: str) -> Viewer:
    account = session.get(Account, account_id)
    if account is None:
        raise ApiError(403, "board_forbidden", "unknown account")
    stores = frozenset(session.scalars(select(AccountStore.store_id).where(AccountStore.account_id == account_id)))
    regions = set(session.scalars(select(Store.region_id).where(Store.id.in_(stores)))) if stores else set()
    managed = account.region_id or "" if account.role == "region_manager" else ""
    if managed:
        regions.add(managed)
    home = session.get(Store, home_store_id)
    return Viewer(account_id, account.role, home_store_id, home.region_id if home else "", stores,
                  frozenset(regions), managed)


@dataclass(frozen=True)
class Access:
    full: bool

    def sees(self, viewer: Viewer, unit: str, row: "Member") -> bool:
        if self.full or viewer.is_hq:
            return True
        if unit == "guide":
            return row.key == viewer.account_id or (bool(viewer.managed_region) and row.region_id == viewer.managed_region)
        if unit == "store":
            return row.key in viewer.store_ids or (bool(viewer.managed_region) and row.region_id == viewer.managed_region)
        return row.key in viewer.region_ids


def access(session: Session, viewer: Viewer, scope: str, scope_id: str) -> Access:
    """Full view, own rows only, or 403."""
    if viewer.is_hq:
        return Access(full=True)
    if scope == "store":
        store = session.get(Store, scope_id)
        if store is None:
            raise ApiError(403, "board_forbidden", "store outside the caller's boards")
        if scope_id in viewer.store_ids or (viewer.managed_region and store.region_id == viewer.managed_region):
            return Access(full=True)
        raise ApiError(403, "board_forbidden", "store outside the caller's boards")
    if scope == "region":
        if viewer.managed_region and scope_id == viewer.managed_region:
            return Access(full=True)
        if scope_id in viewer.region_ids:
            return Access(full=False)
        raise ApiError(403, "board_forbidden", "region outside the caller's boards")
    return Access(full=False)


# --- periods ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def before(self) -> "Window":
        """The window of the same length just before this one."""
        end = self.start - dt.timedelta(days=1)
        return Window(end - dt.timedelta(days=self.days - 1), end)


def _month(day: dt.date) -> Window:
    first = day.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return Window(first, nxt - dt.timedelta(days=1))


def windows(period: str, today: dt.date, *, date_from: dt.date | None = None, date_to: dt.date | None = None,
            campaign: tuple[dt.date, dt.date] | None = None) -> tuple[Window, Window]:
    """The period's window and the previous period's, in org-local dates (weeks start on Monday)."""
    if period == "today":
        w = Window(today, today)
        return w, w.before()
    if period == "week":
        monday = today - dt.timedelta(days=today.weekday())
        w = Window(monday, monday + dt.timedelta(days=6))
        return w, w.before()
    if period == "month":
        w = _month(today)
        return w, _month(w.start - dt.timedelta(days=1))
    if period == "custom":
        if date_from is None or date_to is None:
            raise _bad("custom period needs from and to", "自定义时间需要填写开始和结束日期")
        if date_to < date_from:
            raise _bad("to is before from", "结束日期早于开始日期")
        w = Window(date_from, date_to)
        if w.days > MAX_CUSTOM_DAYS:
            raise _bad(f"at most {MAX_CUSTOM_DAYS} days", f"自定义时间最长 {MAX_CUSTOM_DAYS} 天")
        return w, w.before()
    if campaign is None:
        raise _bad("campaign period needs campaign", "请选择一个活动")
    w = Window(*campaign)
    return w, w.before()


def campaign_window(session: Session, campaign_id: str) -> tuple[dt.date, dt.date]:
    pack = session.scalar(select(CampaignPack).where(CampaignPack.id == campaign_id)
                          .order_by(CampaignPack.version.desc()).limit(1))
    if pack is None:
        raise ApiError(404, "campaign_unknown", f"no campaign {campaign_id}")
    try:
        return dt.date.fromisoformat(pack.valid_from), dt.date.fromisoformat(pack.valid_to)
    except ValueError as exc:
        raise _bad("campaign has no valid window", "该活动没有有效的起止日期") from exc


# --- values from the rollups -----------------------------------------------------------------------


@dataclass
class Tally:
    """A metric over one window, per row key: a sum, or done/assigned for the task rate."""

    sums: dict[str, int] = field(default_factory=dict)
    done: dict[str, int] = field(default_factory=dict)

    def value(self, metric: str, key: str) -> float | None:
        if metric != RATE:
            return float(self.sums.get(key, 0))
        assigned = self.sums.get(key, 0)
        return self.done.get(key, 0) / assigned if assigned else None


def split(w: Window) -> list[tuple[bool, int, int]]:
    """The window as (monthly?, first, last) ranges: whole calendar months from the monthly rollup
    (keyed by their first day), the days at the edges from the daily one."""
    parts: list[tuple[bool, int, int]] = []
    day = w.start
    while day <= w.end:
        first = day.replace(day=1)
        following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        last = following - dt.timedelta(days=1)
        if day == first and last <= w.end:
            if parts and parts[-1][0]:
                parts[-1] = (True, parts[-1][1], first.toordinal())
            else:
                parts.append((True, first.toordinal(), first.toordinal()))
            day = following
        else:
            end = min(last, w.end)
            parts.append((False, day.toordinal(), end.toordinal()))
            day = end + dt.timedelta(days=1)
    return parts


def _rollup_query(unit: str, scope: str, scope_id: str, stored: str, monthly: bool, lo: int, hi: int,
                  campaign_id: str) -> Select[str, int]:
    if unit == "guide":
        g: Any = LedgerGuideMonth if monthly else LedgerGuideDay
        when = g.month if monthly else g.day
        q = select(g.guide_id, func.sum(g.value)).where(g.metric == stored, when >= lo, when <= hi).group_by(g.guide_id)
        if scope == "store":
            q = q.where(g.store_id == scope_id)
        elif scope == "region":
            q = q.where(g.region_id == scope_id)
        return q.where(g.campaign_id == campaign_id) if campaign_id else q
    t: Any = LedgerStoreMonth if monthly else LedgerStoreDay
    when = t.month if monthly else t.day
    key = t.store_id if unit == "store" else t.region_id
    q = select(key, func.sum(t.value)).where(t.metric == stored, when >= lo, when <= hi).group_by(key)
    if scope == "region":
        q = q.where(t.region_id == scope_id)
    return q.where(t.campaign_id == campaign_id) if campaign_id else q


def tally(session: Session, unit: str, scope: str, scope_id: str, metric: str, w: Window,
          campaign_id: str = "") -> Tally:
    """Per-key totals of ``metric`` over ``w``: an index range scan of a rollup per part of the window."""
    result = Tally()
    targets = (("tasks_assigned", result.sums), ("tasks_done", result.done)) if metric == RATE else \
        ((SUMMED[metric], result.sums),)
    conn = session.connection()
    for stored, target in targets:
        for monthly, lo, hi in split(w):
            rows = conn.execute(_rollup_query(unit, scope, scope_id, stored, monthly, lo, hi, campaign_id)).all()
            for key, total in rows:
                target[key] = target.get(key, 0) + int(total or 0)
    return result


# --- who is on a board -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    key: str
    name: str
    store_id: str = ""
    region_id: str = ""


@dataclass(frozen=True)
class Roster:
    """The guides and store managers of a scope, first store each (stores in name order)."""

    active: dict[str, Member]
    left: dict[str, Member]  # disabled: shown only while they have figures in the period


_ROSTERS: dict[tuple[Any, ...], Roster] = {}
_ROSTER_CACHE_MAX = 512


def _org_fingerprint(session: Session) -> tuple[Any, ...]:
    """Changes whenever someone joins, leaves or is disabled (each bumps a store's org_version), or a
    store or region is added; cheap enough to ask on every board."""
    conn = session.connection()
    stores = conn.execute(select(func.count(), func.coalesce(func.sum(Store.org_version), 0), func.max(Store.id))).one()
    regions = conn.execute(select(func.count(), func.max(Region.id))).one()
    return (*stores, *regions)


def _roster(session: Session, scope: str, scope_id: str) -> Roster:
    """The scope's roster, cached per process while the org stays the same."""
    key = (scope, scope_id, *_org_fingerprint(session))
    cached = _ROSTERS.get(key)
    if cached is not None:
        return cached
    q = (select(Account.id, Account.display_name, Account.disabled_at, Store.id, Store.region_id)
         .join(AccountStore, AccountStore.account_id == Account.id).join(Store, Store.id == AccountStore.store_id)
         .where(Account.role.in_(BOARD_ROLES)))
    if scope == "store":
        q = q.where(Store.id == scope_id)
    elif scope == "region":
        q = q.where(Store.region_id == scope_id)
    roster = Roster({}, {})
    for account_id, name, disabled_at, store_id, region_id in session.connection().execute(
            q.order_by(Store.name, Account.id)).all():
        target = roster.active if disabled_at is None else roster.left
        if account_id not in target:
            target[account_id] = Member(account_id, name, store_id, region_id)
    if len(_ROSTERS) >= _ROSTER_CACHE_MAX:
        _ROSTERS.clear()
    _ROSTERS[key] = roster
    return roster


def members(session: Session, unit: str, scope: str, scope_id: str, extra_keys: Iterable[str]) -> list[Member]:
    """Everyone on the board, with or without a value: a guide with nothing yet still has a row."""
    if unit == "region":
        return [Member(i, n, "", i) for i, n in session.connection().execute(select(Region.id, Region.name))]
    if unit == "store":
        q = select(Store.id, Store.name, Store.region_id)
        if scope == "region":
            q = q.where(Store.region_id == scope_id)
        return [Member(i, n, i, r) for i, n, r in session.connection().execute(q)]
    roster = _roster(session, scope, scope_id)
    found = dict(roster.active)
    missing = set(extra_keys) - found.keys()
    for key in list(missing):
        if key in roster.left:  # a guide who left shows only while they still have figures in the period
            found[key] = roster.left[key]
            missing.discard(key)
    if missing:  # figures of someone no longer in the scope's stores (moved or made by HQ)
        for account_id, name in session.connection().execute(select(Account.id, Account.display_name)
                                                             .where(Account.id.in_(missing))):
            found[account_id] = Member(account_id, name, scope_id if scope == "store" else "", "")
        for key in missing - found.keys():
            found[key] = Member(key, key[:8])
    return list(found.values())


def rank(values: dict[str, float | None]) -> dict[str, int]:
    """Competition ranking, higher first; ties share a rank (1, 1, 3); no value ranks last."""
    order = sorted(values, key=lambda k: (values[k] is None, -(values[k] or 0.0)))
    ranks: dict[str, int] = {}
    previous: tuple[bool, float] | None = None
    current = 0
    for position, key in enumerate(order, start=1):
        v = values[key]
        marker = (v is None, v or 0.0)
        if marker != previous:
            current, previous = position, marker
        ranks[key] = current
    return ranks


def _gap(values: dict[str, float | None]) -> dict[str, float | None]:
    """How much each row needs to reach the next higher value on the board."""
    distinct = sorted({v for v in values.values() if v is not None})
    gaps: dict[str, float | None] = {}
    for key, v in values.items():
        i = bisect.bisect_right(distinct, v) if v is not None else len(distinct)
        gaps[key] = distinct[i] - v if v is not None and i < len(distinct) else None
    return gaps


# --- the board ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardQuery:
    scope: BoardScope
    metric: BoardMetric
    period: BoardPeriod
    unit: BoardUnit | None = None
    scope_id: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    campaign_id: str = ""


def _scope_of(session: Session, viewer: Viewer, q: BoardQuery) -> tuple[str, str, str]:
    """The scope id (defaulting to the caller's own store or region), its name, and the unit."""
    unit = q.unit or UNITS[q.scope][0 if q.scope != "company" else 1]
    if unit not in UNITS[q.scope]:
        raise _bad(f"a {q.scope} board lists {' or '.join(UNITS[q.scope])}s, not {unit}s", "该范围的榜单不能按这个对象排名")
    if q.scope == "company":
        return "", "", unit
    home = session.get(Store, viewer.home_store_id)
    if q.scope == "store":
        store = session.get(Store, q.scope_id or viewer.home_store_id)
        if store is None:
            raise ApiError(403, "board_forbidden", "unknown store")
        return store.id, store.name, unit
    region_id = q.scope_id or viewer.managed_region or (home.region_id if home else "")
    region = session.get(Region, region_id)
    if region is None:
        raise ApiError(403, "board_forbidden", "unknown region")
    return region.id, region.name, unit


def board(session: Session, viewer: Viewer, q: BoardQuery, now_ms: int) -> LeaderboardResponse:
    zone = org_time_zone(session)
    scope_id, scope_name, unit = _scope_of(session, viewer, q)
    acc = access(session, viewer, q.scope, scope_id)
    if q.metric not in SUMMED and q.metric != RATE:
        raise _bad(f"unknown metric {q.metric}", "不认识的指标")
    campaign = campaign_window(session, q.campaign_id) if q.period == "campaign" else None
    today = dt.date.fromordinal(local_day(now_ms, zone))
    w, prev_w = windows(q.period, today, date_from=q.date_from, date_to=q.date_to, campaign=campaign)
    campaign_id = q.campaign_id if q.period == "campaign" else ""
    now_t = tally(session, unit, q.scope, scope_id, q.metric, w, campaign_id)
    prev_t = tally(session, unit, q.scope, scope_id, q.metric, prev_w, campaign_id)
    keys_with_values = set(now_t.sums) | set(now_t.done) | set(prev_t.sums)
    people = members(session, unit, q.scope, scope_id, keys_with_values)
    values = {m.key: now_t.value(q.metric, m.key) for m in people}
    prev_values = {m.key: prev_t.value(q.metric, m.key) for m in people}
    ranks, prev_ranks, gaps = rank(values), rank(prev_values), _gap(values)
    shown = sorted((m for m in people if acc.sees(viewer, unit, m)), key=lambda m: (ranks[m.key], m.name, m.key))
    rate = q.metric == RATE
    visible = [
        {"key": m.key, "name": m.name, "store_id": m.store_id, "region_id": m.region_id, "value": values[m.key],
         "rank": ranks[m.key], "prev_value": prev_values[m.key], "prev_rank": prev_ranks[m.key],
         "gap_to_next": gaps[m.key], "done": now_t.done.get(m.key, 0) if rate else None,
         "assigned": now_t.sums.get(m.key, 0) if rate else None, "is_me": _is_me(viewer, unit, m)}
        for m in shown
    ]
    return LeaderboardResponse.model_validate(dict(  # validated in one pass of pydantic-core
        scope=q.scope, scope_id=scope_id, scope_name=scope_name, unit=unit, metric=q.metric,  # type: ignore[arg-type]
        period=q.period, start=w.start.isoformat(), end=w.end.isoformat(), prev_start=prev_w.start.isoformat(),
        prev_end=prev_w.end.isoformat(), campaign_id=campaign_id, time_zone=zone.key, as_of_ms=now_ms,
        total=len(people), complete=acc.full or viewer.is_hq, rows=visible,
    ))


def _is_me(viewer: Viewer, unit: str, m: Member) -> bool:
    if unit == "guide":
        return m.key == viewer.account_id
    if unit == "store":
        return m.key == viewer.home_store_id
    return m.key == (viewer.managed_region or viewer.home_region_id)


def trend(session: Session, viewer: Viewer, scope: BoardScope, scope_id: str, metric: BoardMetric, weeks: int,
          now_ms: int) -> LeaderboardTrend:
    """Week by week (Monday start) totals of one scope, oldest first, with the caller's own values."""
    zone = org_time_zone(session)
    sid, name, _unit = _scope_of(session, viewer, BoardQuery(scope=scope, metric=metric, period="week",
                                                              scope_id=scope_id))
    if not access(session, viewer, scope, sid).full:
        raise ApiError(403, "board_forbidden", "trend of a scope outside the caller's full view")
    today = dt.date.fromordinal(local_day(now_ms, zone))
    monday = today - dt.timedelta(days=today.weekday())
    starts = [monday - dt.timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    first, last = starts[0].toordinal(), (monday + dt.timedelta(days=6)).toordinal()
    stored = ("tasks_assigned", "tasks_done") if metric == RATE else (SUMMED[metric],)

    def weekly(t: type[LedgerStoreDay] | type[LedgerGuideDay], *only: ColumnElement[bool]) -> dict[tuple[str, int], int]:
        """The stored metrics' sums per (metric, week of the trend) in the scope, from one daily rollup."""
        q = select(t.metric, t.day, func.sum(t.value)).where(t.metric.in_(stored), t.day >= first, t.day <= last,
                                                             *only)
        if scope == "store":
            q = q.where(t.store_id == sid)
        elif scope == "region":
            q = q.where(t.region_id == sid)
        sums: dict[tuple[str, int], int] = {}
        for m, day, total in session.connection().execute(q.group_by(t.metric, t.day)):
            week = (day - first) // 7
            sums[(m, week)] = sums.get((m, week), 0) + int(total or 0)
        return sums

    totals = weekly(LedgerStoreDay)
    mine = weekly(LedgerGuideDay, LedgerGuideDay.guide_id == viewer.account_id)
    is_member = viewer.role in BOARD_ROLES
    points = []
    for i, start in enumerate(starts):
        points.append(TrendPoint(start=start.isoformat(), end=(start + dt.timedelta(days=6)).isoformat(),
                                 value=_point(metric, totals, i), mine=_point(metric, mine, i) if is_member else None))
    return LeaderboardTrend(scope=scope, scope_id=sid, scope_name=name, metric=metric, time_zone=zone.key,
                            as_of_ms=now_ms, points=points)


def _point(metric: str, totals: dict[tuple[str, int], int], week: int) -> float | None:
    if metric != RATE:
        return float(totals.get((SUMMED[metric], week), 0))
    assigned = totals.get(("tasks_assigned", week), 0)
    return totals.get(("tasks_done", week), 0) / assigned if assigned else None


# --- HTTP ----------------------------------------------------------------------------------------------


def _date(value: str | None, name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise _bad(f"{name} is not a date (YYYY-MM-DD)", "日期格式应为 年-月-日（如 2026-11-18）") from exc


def make_router(caller: Callable[..., auth.Caller]) -> APIRouter:
    """The leaderboard endpoints; ``caller`` is the app's authentication dependency (annotations in
    this module are evaluated eagerly, as FastAPI must see that closure variable)."""
    router = APIRouter(tags=["leaderboards"], responses=error_responses(400, 401, 403))

    @router.get("/leaderboards", response_model=LeaderboardResponse, responses=error_responses(404))
    def get_board(
        request: Request,
        who: Annotated[auth.Caller, Depends(caller)],
        clock: Annotated[Clock, Depends(board_clock)],
        scope: BoardScope,
        metric: BoardMetric,
        period: BoardPeriod,
        unit: BoardUnit | None = None,
        scope_id: Annotated[str, Query(max_length=36)] = "",
        date_from: Annotated[str | None, Query(alias="from", max_length=10)] = None,
        date_to: Annotated[str | None, Query(alias="to", max_length=10)] = None,
        campaign: Annotated[str, Query(max_length=64)] = "",
    ) -> LeaderboardResponse:
        """One board: rows ranked by the metric over the period, with the previous period beside them."""
        q = BoardQuery(scope=scope, metric=metric, period=period, unit=unit, scope_id=scope_id,
                       date_from=_date(date_from, "from"), date_to=_date(date_to, "to"), campaign_id=campaign)
        # a read transaction: on SQLite a plain session would take the write lock (BEGIN IMMEDIATE) and
        # every board would queue behind the pushes (p95 seconds under load, while pulls took 0.1 s)
        with request.app.state.hq.db.read() as session:
            return board(session, viewer_of(session, who.account_id, who.store_id), q, clock.now_ms())

    @router.get("/leaderboards/trend", response_model=LeaderboardTrend)
    def get_trend(
        request: Request,
        who: Annotated[auth.Caller, Depends(caller)],
        clock: Annotated[Clock, Depends(board_clock)],
        scope: BoardScope,
        metric: BoardMetric,
        scope_id: Annotated[str, Query(max_length=36)] = "",
        weeks: Annotated[int, Query(ge=1, le=MAX_TREND_WEEKS)] = 8,
    ) -> LeaderboardTrend:
        """Weekly totals of a store, region or the company over the last weeks."""
        with request.app.state.hq.db.read() as session:
            viewer = viewer_of(session, who.account_id, who.store_id)
            return trend(session, viewer, scope, scope_id, metric, weeks, clock.now_ms())

    return router
