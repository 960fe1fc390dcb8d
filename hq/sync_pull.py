"""``GET /v1/sync/pull``: the rows of a store changed after ``cursor``, in version order.

The store's counter is read first; rows are taken only up to it, so a page never shows a version
whose transaction is still committing (versions commit in order under the store's row lock). A
page never splits a version: a client that stores ``next_cursor`` has every row up to it.

The answer is a :class:`PullResponse` as JSON bytes built here: a row's ``fields`` and ``hlc`` are
spliced in as the JSON text the database holds, so a page of a thousand rows is never parsed into
objects and serialised again (that was most of HQ's time per page).
"""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, select
from sqlalchemy.orm import Session

from guide_app.domain.entities import SPECS
from hq import code_stats
from hq.errors import ApiError
from hq.models import CustomerHistory, Store, SyncRow
from hq.org import org_payload

# what PCs keep; audit_log entries go up to HQ only
PULLED = tuple(SPECS)

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def now_ms() -> int:
    return int(time.time() * 1000)


def _in_versions(store_id: str, after: int, upto: int) -> tuple[ColumnElement[bool], ...]:
    # a range on version: the (store_id, version) index serves it (an equality on version next to
    # ``entity IN`` made SQLite pick the primary key and walk the whole store)
    return (SyncRow.store_id == store_id, SyncRow.version > after, SyncRow.version <= upto,
            SyncRow.entity.in_(PULLED))


def _page_edge(session: Session, store_id: str, cursor: int, top: int, limit: int) -> tuple[int, bool]:
    """The last version of the page and whether more follow: the page ends with the whole version of
    its ``limit``-th row (it may exceed ``limit`` to finish it), or at ``top`` when fewer remain."""
    edge = session.scalar(
        select(SyncRow.version).where(*_in_versions(store_id, cursor, top))
        .order_by(SyncRow.version).offset(limit - 1).limit(1)
    )
    if edge is None:
        return top, False
    more = session.scalar(select(SyncRow.version).where(*_in_versions(store_id, edge, top)).limit(1)) is not None
    return (edge, True) if more else (top, False)


def _rows_json(session: Session, store_id: str, cursor: int, upto: int) -> str:
    rows = session.execute(
        select(SyncRow.entity, SyncRow.id, cast(SyncRow.data, Text), cast(SyncRow.hlc, Text), SyncRow.deleted_hlc,
               SyncRow.version)
        .where(*_in_versions(store_id, cursor, upto))
        .order_by(SyncRow.version, SyncRow.entity, SyncRow.id)
    )
    return ",".join(
        f'{{"entity":{_dumps(entity)},"id":{_dumps(row_id)},"fields":{data},"hlc":{hlc},'
        f'"deleted_hlc":{"null" if deleted is None else _dumps(deleted)},"version":{int(version)}}}'
        for entity, row_id, data, hlc, deleted, version in rows
    )


def pull(session: Session, store_id: str, cursor: int, limit: int) -> bytes:
    """The page after ``cursor`` as the JSON of a :class:`guide_app.sync.protocol.PullResponse`."""
    store = session.get(Store, store_id)
    if store is None:
        raise ApiError(404, "store_unknown", f"no store {store_id}")
    top = store.version
    if cursor > top:
        raise ApiError(409, "cursor_ahead", f"cursor {cursor} is past the store's version {top}", store_version=top)
    next_cursor, has_more = _page_edge(session, store_id, cursor, top, limit)
    rows = _rows_json(session, store_id, cursor, next_cursor)
    h = CustomerHistory
    history = session.execute(
        select(h.customer_id, h.field, h.value, h.hlc, h.winner_hlc)
        .where(h.store_id == store_id, h.version > cursor, h.version <= next_cursor)
        .order_by(h.version, h.id)
    )
    rest: dict[str, Any] = {
        "history": [{"customer_id": c, "field": f, "value": v, "hlc": s, "winner_hlc": w} for c, f, v, s, w in history],
        "next_cursor": next_cursor,
        "has_more": has_more,
        "store_version": top,
        "server_time_ms": now_ms(),
        "org": org_payload(session, store) if cursor == 0 or store.org_version > cursor else None,
        "code_stats": [c.model_dump() for c in code_stats.changed(session, store_id, cursor, next_cursor)],
    }
    return f'{{"rows":[{rows}],{_dumps(rest)[1:]}'.encode()
