"""The leaderboard ledger: what each synced row counts for, kept as events arrive.

Every write HQ applies to a customer, purchase, follow-up or campaign task passes through
:func:`record_row`. The row's contribution (``counts``: metric → value), its guide, store and org-local
day are compared with what the row counted for before (:class:`LedgerItem`); each difference is one
append-only :class:`LedgerEvent` and one increment of the daily rollups per guide and per store, so a
board is a range scan of the rollups, never a pass over raw rows.

Anti-gaming rules, applied here:

- a customer counts for the guide who first acquired it, on the day it was created; a later owner (a
  transfer, 离职继承) never gets it;
- a phone already in the store (a live customer, or one that counted) is a re-add and counts nothing;
- two records merged into one count once, for whichever was acquired first;
- a customer deleted within 7 days of its creation stops counting (the event reverses on its day);
- imported customers count as ``imports``, never as new customers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Table, delete, func, insert, literal, select, update
from sqlalchemy.orm import Session

from guide_app.domain.acquisition import QR_PREFIX, is_import
from guide_app.domain.hlc import parse_ms
from hq.models import (
    Device,
    LedgerEvent,
    LedgerGuideDay,
    LedgerGuideMonth,
    LedgerItem,
    LedgerStoreDay,
    LedgerStoreMonth,
    OrgSetting,
    Store,
    SyncRow,
)

DEFAULT_TIME_ZONE = "Asia/Shanghai"
TIME_ZONE_SETTING = "time_zone"
DELETE_GRACE_MS = 7 * 24 * 3600 * 1000
# what rows count for; "tasks_*" are per campaign (the rollups carry the campaign id)
STORED_METRICS = ("new_customers", "qr_adds", "imports", "sales_cents", "orders", "follow_ups",
                  "tasks_assigned", "tasks_done")
COUNTED_FOLLOW_UP_KINDS = frozenset({"call", "message", "visit"})  # a note is not a contact


class PushScope(Protocol):
    """What the ledger needs of a push transaction (hq.sync_push.PushContext)."""

    session: Session
    store: Store
    device: Device
    now: int


# --- the org's time zone -----------------------------------------------------------------------


def org_time_zone(session: Session) -> ZoneInfo:
    cached = session.info.get("org_tz")
    if isinstance(cached, ZoneInfo):
        return cached
    name = session.scalar(select(OrgSetting.value).where(OrgSetting.name == TIME_ZONE_SETTING))
    zone = ZoneInfo(name or DEFAULT_TIME_ZONE)
    session.info["org_tz"] = zone
    return zone


def check_time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as Asia/Shanghai)") from exc


def set_org_time_zone(session: Session, name: str) -> None:
    """Set the zone days are counted in, and re-bucket every event and rollup into it."""
    zone = check_time_zone(name)
    setting = session.get(OrgSetting, TIME_ZONE_SETTING)
    if setting is None:
        session.add(OrgSetting(name=TIME_ZONE_SETTING, value=zone.key))
    else:
        setting.value = zone.key
    session.info["org_tz"] = zone
    session.flush()
    rows = session.execute(select(LedgerEvent.id, LedgerEvent.at)).all()
    for chunk in _chunks(rows, 5000):
        session.execute(update(LedgerEvent), [{"id": i, "day": local_day(at, zone)} for i, at in chunk])
    items = session.execute(select(LedgerItem.entity, LedgerItem.id, LedgerItem.at)).all()
    for chunk in _chunks(items, 5000):
        session.execute(update(LedgerItem), [{"entity": e, "id": i, "day": local_day(at, zone)} for e, i, at in chunk])
    rebuild_rollups(session)


def _chunks(rows: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def local_day(ms: int, zone: ZoneInfo) -> int:
    """The org-local calendar day of an epoch-ms instant, as ``date.toordinal()``."""
    return dt.datetime.fromtimestamp(ms / 1000, zone).date().toordinal()


# --- events and rollups --------------------------------------------------------------------------


@dataclass(frozen=True)
class Attribution:
    """Whom and when a row counts for."""

    store_id: str
    region_id: str
    guide_id: str
    day: int
    at: int
    campaign_id: str = ""


Rollup = type[LedgerGuideDay] | type[LedgerStoreDay] | type[LedgerGuideMonth] | type[LedgerStoreMonth]
EVENT_COLUMNS = ("metric", "day", "store_id", "region_id", "guide_id", "campaign_id", "delta", "subject", "at")
GUIDE_COLUMNS = ("metric", "store_id", "guide_id", "campaign_id", "region_id", "value")  # + day or month
STORE_COLUMNS = ("metric", "store_id", "campaign_id", "region_id", "value")


def month_of(day: int) -> int:
    """The ordinal of the first day of ``day``'s month (the key of the monthly rollups)."""
    return dt.date.fromordinal(day).replace(day=1).toordinal()


@dataclass(frozen=True)
class _Sql:
    """The five statements one event costs, as driver SQL built once per parameter style: through
    SQLAlchemy's statement machinery they cost several times what the database spends on them."""

    event: str
    guide_day: str
    store_day: str
    guide_month: str
    store_month: str


_SQL: dict[str, _Sql] = {}


def _sql_for(paramstyle: str) -> _Sql:
    sql = _SQL.get(paramstyle)
    if sql is None:
        mark = "?" if paramstyle == "qmark" else "%s"

        def insert_sql(table: str, columns: tuple[str, ...]) -> str:
            return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"

        def upsert_sql(model: Rollup, columns: tuple[str, ...]) -> str:
            table = model.__tablename__
            keys = ", ".join(c.name for c in cast(Table, model.__table__).primary_key)
            return (f"{insert_sql(table, columns)} ON CONFLICT ({keys}) "
                    f"DO UPDATE SET value = {table}.value + excluded.value")

        sql = _SQL[paramstyle] = _Sql(
            insert_sql("ledger_event", EVENT_COLUMNS),
            upsert_sql(LedgerGuideDay, (*GUIDE_COLUMNS, "day")),
            upsert_sql(LedgerStoreDay, (*STORE_COLUMNS, "day")),
            upsert_sql(LedgerGuideMonth, (*GUIDE_COLUMNS, "month")),
            upsert_sql(LedgerStoreMonth, (*STORE_COLUMNS, "month")),
        )
    return sql


def emit(session: Session, metric: str, a: Attribution, delta: int, subject: str, *, rollups: bool = True) -> None:
    """Append one event and add it to the day's and the month's rollups of its guide and its store."""
    if not delta:
        return
    conn = session.connection()  # the session's own transaction
    sql = _sql_for(conn.dialect.paramstyle)
    conn.exec_driver_sql(sql.event, (metric, a.day, a.store_id, a.region_id, a.guide_id, a.campaign_id, delta,
                                     subject[:70], a.at))
    if not rollups:
        return
    guide = (metric, a.store_id, a.guide_id, a.campaign_id, a.region_id, delta)
    store = (metric, a.store_id, a.campaign_id, a.region_id, delta)
    month = month_of(a.day)
    conn.exec_driver_sql(sql.guide_day, (*guide, a.day))
    conn.exec_driver_sql(sql.store_day, (*store, a.day))
    conn.exec_driver_sql(sql.guide_month, (*guide, month))
    conn.exec_driver_sql(sql.store_month, (*store, month))


def rebuild_rollups(session: Session) -> None:
    """Recompute every rollup from the events (after a bulk load or a change of time zone)."""
    for model in (LedgerGuideDay, LedgerStoreDay, LedgerGuideMonth, LedgerStoreMonth):
        session.execute(delete(model))
    e = LedgerEvent
    by_guide = (select(e.metric, e.day, e.store_id, e.guide_id, e.campaign_id, func.min(e.region_id),
                       func.sum(e.delta))
                .group_by(e.metric, e.day, e.store_id, e.guide_id, e.campaign_id))
    session.execute(insert(LedgerGuideDay).from_select(
        ["metric", "day", "store_id", "guide_id", "campaign_id", "region_id", "value"], by_guide))
    by_store = (select(e.metric, e.day, e.store_id, e.campaign_id, func.min(e.region_id), func.sum(e.delta))
                .group_by(e.metric, e.day, e.store_id, e.campaign_id))
    session.execute(insert(LedgerStoreDay).from_select(
        ["metric", "day", "store_id", "campaign_id", "region_id", "value"], by_store))
    # months from the days (a day ordinal's month is not portable SQL; the daily rollup is small)
    conn = session.connection()
    days = conn.execute(select(func.min(LedgerGuideDay.day), func.max(LedgerGuideDay.day))).one()
    if days[0] is None:
        return
    bounds: list[tuple[int, int]] = []
    month = month_of(days[0])
    while month <= days[1]:
        first = dt.date.fromordinal(month)
        following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1).toordinal()
        bounds.append((month, following - 1))
        month = following
    g, st = LedgerGuideDay, LedgerStoreDay
    for first_day, last_day in bounds:
        conn.execute(insert(cast(Table, LedgerGuideMonth.__table__)).from_select(
            ["metric", "month", "store_id", "guide_id", "campaign_id", "region_id", "value"],
            select(g.metric, literal(first_day), g.store_id, g.guide_id, g.campaign_id, func.min(g.region_id),
                   func.sum(g.value))
            .where(g.day >= first_day, g.day <= last_day)
            .group_by(g.metric, g.store_id, g.guide_id, g.campaign_id)))
        conn.execute(insert(cast(Table, LedgerStoreMonth.__table__)).from_select(
            ["metric", "month", "store_id", "campaign_id", "region_id", "value"],
            select(st.metric, literal(first_day), st.store_id, st.campaign_id, func.min(st.region_id),
                   func.sum(st.value))
            .where(st.day >= first_day, st.day <= last_day)
            .group_by(st.metric, st.store_id, st.campaign_id)))


def _attribution(item: LedgerItem) -> Attribution:
    return Attribution(item.store_id, item.region_id, item.guide_id, item.day, item.at, item.campaign_id)


def _set(session: Session, item: LedgerItem, counts: dict[str, int], attribution: Attribution | None = None) -> None:
    """Make ``item`` count ``counts`` for ``attribution`` (default: unchanged), emitting the difference."""
    old_a, old = _attribution(item), {k: int(v) for k, v in item.counts.items()}
    new_a = attribution or old_a
    counts = {k: v for k, v in counts.items() if v}
    subject = f"{item.entity}:{item.id}"
    if new_a == old_a:
        for metric in sorted(old.keys() | counts.keys()):
            emit(session, metric, new_a, counts.get(metric, 0) - old.get(metric, 0), subject)
    else:
        for metric, value in sorted(old.items()):
            emit(session, metric, old_a, -value, subject)
        for metric, value in sorted(counts.items()):
            emit(session, metric, new_a, value, subject)
        item.store_id, item.region_id, item.guide_id = new_a.store_id, new_a.region_id, new_a.guide_id
        item.day, item.at, item.campaign_id = new_a.day, new_a.at, new_a.campaign_id
    item.counts = counts


def _new_item(session: Session, entity: str, row_id: str, a: Attribution, *, channel: str = "",
              phone: str = "") -> LedgerItem:
    item = LedgerItem(entity=entity, id=row_id, store_id=a.store_id, region_id=a.region_id, guide_id=a.guide_id,
                      campaign_id=a.campaign_id, day=a.day, at=a.at, channel=channel, phone=phone, counts={})
    session.add(item)
    return item


# --- what a synced row counts for ----------------------------------------------------------------


def record_row(ctx: PushScope, row: SyncRow) -> None:
    """Bring the ledger up to date with ``row`` as just written by a push (or by HQ's merge)."""
    if row.entity == "customer":
        _customer(ctx, row)
    elif row.entity == "purchase":
        counts = {} if row.deleted_hlc else {"sales_cents": _int(row.data.get("amount_cents")), "orders": 1}
        _child(ctx, row, counts, _int(row.data.get("at")) or ctx.now)
    elif row.entity == "follow_up":
        counted = not row.deleted_hlc and row.data.get("kind") in COUNTED_FOLLOW_UP_KINDS
        _child(ctx, row, {"follow_ups": 1} if counted else {}, _int(row.data.get("at")) or ctx.now)
    elif row.entity == "campaign_task":
        done = row.data.get("status") == "done"
        counts = {} if row.deleted_hlc else {"tasks_assigned": 1, "tasks_done": 1 if done else 0}
        # a task counts on the day it was handed out: the board shows how much of each day's
        # (or campaign's) work is done, and a later "done" lifts that day's rate
        assigned = min((parse_ms(s) for s in row.hlc.values()), default=ctx.now)
        _child(ctx, row, counts, assigned, campaign_id=str(row.data.get("pack_id") or ""), fixed_day=True)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _guide_of(ctx: PushScope, row: SyncRow) -> str:
    """Who a child row counts for: its guide, else the customer's owner, else whoever enrolled the PC."""
    guide = str(row.data.get("guide_id") or "")
    if guide:
        return guide
    customer_id = str(row.data.get("customer_id") or "")
    if customer_id:
        customer = ctx.session.get(SyncRow, (row.store_id, "customer", customer_id))
        if customer is not None and customer.data.get("owner_guide_id"):
            return str(customer.data["owner_guide_id"])
    return ctx.device.enrolled_by


def _child(ctx: PushScope, row: SyncRow, counts: dict[str, int], at: int, *, campaign_id: str = "",
           fixed_day: bool = False) -> None:
    zone = org_time_zone(ctx.session)
    item = ctx.session.get(LedgerItem, (row.entity, row.id))
    if item is not None and fixed_day:
        at = item.at
    a = Attribution(row.store_id, ctx.store.region_id, _guide_of(ctx, row), local_day(at, zone), at, campaign_id)
    if item is None:
        item = _new_item(ctx.session, row.entity, row.id, a)
    _set(ctx.session, item, counts, a)


def acquisition_counts(channel: str) -> dict[str, int]:
    if channel == "import":
        return {"imports": 1}
    if channel == "qr":
        return {"new_customers": 1, "qr_adds": 1}
    return {"new_customers": 1}


def _channel(ctx: PushScope, row: SyncRow) -> str:
    source = str(row.data.get("source") or "")
    if is_import(source):
        return "import"
    code = source.removeprefix(QR_PREFIX)
    if code and _is_store_code(ctx.session, row.store_id, code):
        return "qr"
    return "manual"


def _is_store_code(session: Session, store_id: str, code: str) -> bool:
    """Whether ``code`` names one of the store's acquisition codes (by id or by its text)."""
    if session.get(SyncRow, (store_id, "acquisition_code", code)) is not None:
        return True
    return session.scalar(select(SyncRow.id).where(
        SyncRow.entity == "acquisition_code", SyncRow.lookup == code, SyncRow.store_id == store_id).limit(1)) is not None


def _phone_taken(session: Session, store_id: str, phone: str, row_id: str) -> bool:
    """A re-add: another customer of the store with this phone counted (live, or deleted after its first
    7 days). Every customer row HQ holds has its ledger item (pushes and leads record it on write, the
    demo seeder through :func:`backfill`), so the items alone answer; a live duplicate that did not count
    is merged right after, and the merge keeps the one count."""
    counts = session.connection().execute(select(LedgerItem.counts).where(
        LedgerItem.store_id == store_id, LedgerItem.phone == phone, LedgerItem.id != row_id,
        LedgerItem.entity == "customer")).scalars()
    return any(counts)


def _customer(ctx: PushScope, row: SyncRow) -> None:
    s = ctx.session
    item = s.get(LedgerItem, ("customer", row.id))
    if item is None:
        created = _int(row.data.get("created_at")) or ctx.now
        guide = str(row.data.get("owner_guide_id") or "") or ctx.device.enrolled_by
        a = Attribution(row.store_id, ctx.store.region_id, guide, local_day(created, org_time_zone(s)), created)
        channel, phone = _channel(ctx, row), row.lookup
        item = _new_item(s, "customer", row.id, a, channel=channel, phone=phone)
        _set(s, item, {} if phone and _phone_taken(s, row.store_id, phone, row.id) else acquisition_counts(channel))
    if row.merged_into:
        _merged(s, item, row.merged_into)
    elif row.deleted_hlc is not None and item.counts and parse_ms(row.deleted_hlc) - item.at < DELETE_GRACE_MS:
        _set(s, item, {})


def _merged(session: Session, loser: LedgerItem, survivor_id: str) -> None:
    """Two records of one person count once, for the guide who acquired it first."""
    survivor = session.get(LedgerItem, ("customer", survivor_id))
    if survivor is None or not (loser.counts or survivor.counts):
        return
    first = min((loser, survivor), key=lambda i: (i.at, i.id))
    counts = acquisition_counts(first.channel)
    _set(session, loser, {})
    survivor.channel = first.channel
    _set(session, survivor, counts, _attribution(first))




# --- rows HQ already holds ---------------------------------------------------------------------


@dataclass
class _Holder:
    """A :class:`PushScope` for rows written without a push (the demo seeder): nobody enrolled a PC,
    so rows without a guide count for nobody in particular."""

    session: Session
    store: Store
    device: Device
    now: int


def backfill(session: Session, store: Store, now: int) -> int:
    """Record every counted row of ``store`` that the ledger has not seen (customers first, in the
    order they were made, so the first acquirer of a phone keeps it); returns how many were recorded."""
    device = Device(id="", store_id=store.id, enrolled_by="", name="", last_seq=0, enrolled_at=now,
                    last_seen_at=now)  # never added to the session
    holder = _Holder(session, store, device, now)
    seen = set(session.scalars(select(LedgerItem.id).where(LedgerItem.store_id == store.id)))
    rows = session.scalars(select(SyncRow).where(
        SyncRow.store_id == store.id, SyncRow.entity.in_(("customer", "purchase", "follow_up", "campaign_task")))
        .order_by(SyncRow.entity != "customer", SyncRow.id))
    recorded = 0
    for row in rows:
        if row.id not in seen:
            record_row(holder, row)
            recorded += 1
    return recorded
