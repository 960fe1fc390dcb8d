"""``GET /v1/sync/pull``: the rows of a store changed after ``cursor``, in version order.

The store's counter is read first; rows are taken only up to it, so a page never shows a version
whose transaction is still committing (versions commit in order under the store's row lock). A
page never splits a version: a client that stores ``next_cursor`` has every row up to it.
"""

from __future__ import annotations

import time

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from guide_app.domain.entities import SPECS
from guide_app.sync.protocol import HistoryEntry, PullResponse, RowChange
from hq import code_stats
from hq.errors import ApiError
from hq.models import CustomerHistory, Store, SyncRow
from hq.org import org_payload

# what PCs keep; audit_log entries go up to HQ only
PULLED = tuple(SPECS)


def now_ms() -> int:
    return int(time.time() * 1000)


def _row_change(row: SyncRow) -> RowChange:
    return RowChange(
        entity=row.entity, id=row.id, fields=row.data, hlc=row.hlc, deleted_hlc=row.deleted_hlc, version=row.version
    )


def pull(session: Session, store_id: str, cursor: int, limit: int) -> PullResponse:
    store = session.get(Store, store_id)
    if store is None:
        raise ApiError(404, "store_unknown", f"no store {store_id}")
    top = store.version
    if cursor > top:
        raise ApiError(409, "cursor_ahead", f"cursor {cursor} is past the store's version {top}", store_version=top)
    in_store = and_(SyncRow.store_id == store_id, SyncRow.version > cursor, SyncRow.version <= top,
                    SyncRow.entity.in_(PULLED))
    rows = list(
        session.scalars(
            select(SyncRow).where(in_store).order_by(SyncRow.version, SyncRow.entity, SyncRow.id).limit(limit + 1)
        )
    )
    if len(rows) <= limit:
        page, next_cursor, has_more = rows, top, False
    else:
        last_version = rows[limit - 1].version
        page = [r for r in rows[:limit] if r.version < last_version]
        page += session.scalars(
            select(SyncRow)
            .where(SyncRow.store_id == store_id, SyncRow.version == last_version, SyncRow.entity.in_(PULLED))
            .order_by(SyncRow.entity, SyncRow.id)
        )
        next_cursor = last_version
        has_more = (
            session.scalar(
                select(SyncRow.version)
                .where(SyncRow.store_id == store_id, SyncRow.version > last_version, SyncRow.version <= top,
                       SyncRow.entity.in_(PULLED))
                .limit(1)
            )
            is not None
        )
        if not has_more:
            next_cursor = top
    history = session.scalars(
        select(CustomerHistory)
        .where(
            CustomerHistory.store_id == store_id,
            CustomerHistory.version > cursor,
            CustomerHistory.version <= next_cursor,
        )
        .order_by(CustomerHistory.version, CustomerHistory.id)
    )
    org = org_payload(session, store) if cursor == 0 or store.org_version > cursor else None
    return PullResponse(
        rows=[_row_change(r) for r in page],
        history=[
            HistoryEntry(customer_id=h.customer_id, field=h.field, value=h.value, hlc=h.hlc, winner_hlc=h.winner_hlc)
            for h in history
        ],
        next_cursor=next_cursor,
        has_more=has_more,
        store_version=top,
        server_time_ms=now_ms(),
        org=org,
        code_stats=code_stats.changed(session, store_id, cursor, next_cursor),
    )
