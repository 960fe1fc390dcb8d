"""HQ-owned rows every store receives (corp tag groups and their tags): read-only on the PCs.

A master copy is kept under ``store_id = ""``; each store holds its own copy stamped with that
store's version, so a store's pull stays one ordered scan. A change bumps every store's version
once (under the same row lock a push takes); a store made later gets copies of the masters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from guide_app.domain.ids import uuid7
from guide_app.domain.merge import merge_row
from hq.models import Store, SyncRow
from hq.org import OrgError
from hq.sync_push import HQ_CLOCK
from hq.sync_rules import lookup_of

MASTER = ""


def _put(session: Session, store_id: str, version: int, entity: str, row_id: str, data: dict[str, Any],
         stamp: str) -> None:
    row = session.get(SyncRow, (store_id, entity, row_id))
    if row is None:
        row = SyncRow(store_id=store_id, entity=entity, id=row_id, data={}, hlc={}, hq_owned=True, version=version)
        session.add(row)
    merged = merge_row(entity, row.data, row.hlc, data, dict.fromkeys(data, stamp))
    row.data, row.hlc, row.version = merged.values, merged.hlc, version
    row.lookup = lookup_of(entity, row.data)
    row.customer_id = ""


def publish(session: Session, rows: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
    """Write HQ-owned ``(entity, id, fields)`` rows to the masters and to every store."""
    stamp = HQ_CLOCK.tick()
    for entity, row_id, data in rows:
        _put(session, MASTER, 0, entity, row_id, data, stamp)
    for store in session.scalars(select(Store).order_by(Store.id).with_for_update()):
        store.version += 1
        for entity, row_id, data in rows:
            _put(session, store.id, store.version, entity, row_id, data, stamp)
    session.flush()


def copy_to_store(session: Session, store: Store) -> None:
    """A new store starts with the current HQ-owned rows."""
    masters = list(session.scalars(select(SyncRow).where(SyncRow.store_id == MASTER)))
    if not masters:
        return
    store.version += 1
    for m in masters:
        session.add(SyncRow(store_id=store.id, entity=m.entity, id=m.id, version=store.version, data=dict(m.data),
                            hlc=dict(m.hlc), deleted_hlc=m.deleted_hlc, hq_owned=True, lookup=m.lookup,
                            customer_id=""))
    session.flush()


def create_corp_tag_group(session: Session, name: str, tags: Sequence[str], *, color: str = "#607d8b",
                          multi: bool = True, sort_order: int | None = None,
                          group_id: str | None = None, tag_ids: Sequence[str] | None = None) -> str:
    name = name.strip()
    if not name or len(name) > 40:
        raise OrgError("a tag group name has 1-40 characters")
    names = [t.strip() for t in tags]
    if any(not t or len(t) > 40 for t in names) or len(set(names)) != len(names):
        raise OrgError("tag names must be 1-40 characters and distinct")
    existing = [r.data.get("name") for r in session.scalars(
        select(SyncRow).where(SyncRow.store_id == MASTER, SyncRow.entity == "tag_group"))]
    if name in existing:
        raise OrgError(f"corp tag group {name!r} already exists")
    gid = group_id or uuid7()
    ids = list(tag_ids) if tag_ids is not None else [uuid7() for _ in names]
    rows: list[tuple[str, str, dict[str, Any]]] = [("tag_group", gid, {
        "store_id": "", "scope": "corp", "owner_guide_id": "", "name": name, "color": color,
        "sort_order": len(existing) if sort_order is None else sort_order, "multi": multi})]
    rows += [("tag", tid, {"group_id": gid, "name": t, "sort_order": i}) for i, (tid, t) in enumerate(zip(ids, names,
                                                                                                         strict=True))]
    publish(session, rows)
    return gid
