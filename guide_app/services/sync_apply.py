"""Apply pulled rows to the local file by replaying HQ's merge (``domain.merge``) field by field.

A pulled :class:`RowChange` is HQ's full current row with its per-field stamps. The local row may
hold newer stamps of its own (edits still in the outbox, or made while this pull was in flight);
merging the two with the same rule HQ uses gives the row HQ will hold once those edits arrive, so
pending local typing is never overwritten and nothing diverges. Alongside each row the derived
local data is kept in step in the same transaction: search keys, purchase totals, the
``customer_tag.active`` flag, and the losing values written to ``customer_history``.

When HQ merges a duplicate customer into a survivor (``merged_into``), local follow-ups and
purchases of the merged one — and pending outbox rows that name it — are re-pointed to the
survivor, as HQ does with the rows it holds, so the survivor shows everything at once.

Written for pages of hundreds of rows: one query per entity loads the existing rows, inserts are
batched, and the initial sync of a store is the same code path as a single incremental change.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, NamedTuple

import orjson
from sqlalchemy import JSON, Table, bindparam, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import Column

from guide_app.db.models import Base, CustomerHistory, Guide, Outbox, Store
from guide_app.db.search_index import FTS_INSERT, SEARCH_UPSERT, fts_row, search_keys, search_row
from guide_app.domain.entities import SPECS
from guide_app.domain.erasure import ERASED_VALUES
from guide_app.domain.hlc import Stamp
from guide_app.domain.merge import merge_row, merge_tombstone, tag_active
from guide_app.domain.pinyin_keys import sort_key
from guide_app.services.erase import wipe_local
from guide_app.services.privacy import apply_book_visibility, apply_export_limit
from guide_app.services.purchases import refresh_purchase_totals_many
from guide_app.sync.protocol import HistoryEntry, RowChange

log = logging.getLogger(__name__)

# parents before children, so a tag finds its group in the same page
APPLY_ORDER = ("tag_group", "tag", "customer", "customer_tag", "follow_up", "purchase")
# rows that belong to one customer and follow it when HQ merges it into another (tag assignments
# are keyed by customer and tag, so HQ moves those itself and sends the survivor's rows)
_CHILDREN_OF_CUSTOMER = tuple(name for name, spec in SPECS.items()
                              if "customer_id" in spec.fields and name != "customer_tag")
_LOCAL_ONLY = {"pk", "id", "field_hlc", "deleted_hlc"}
_IN_CHUNK = 500


@dataclass
class ApplyStats:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: int = 0
    skipped: int = 0


def _table(entity: str) -> Table | None:
    table = Base.metadata.tables.get(entity)
    return table if entity in SPECS and table is not None else None


def _default(col: Column[Any]) -> Any:
    if col.nullable:
        return None
    if col.default is not None and getattr(col.default, "is_scalar", False):
        return col.default.arg  # type: ignore[attr-defined]
    if col.default is not None and getattr(col.default, "is_callable", False):
        return col.default.arg(None)  # type: ignore[attr-defined]
    py = col.type.python_type if hasattr(col.type, "python_type") else str
    try:
        return {str: "", int: 0, bool: False, dict: {}, list: []}.get(py, "")
    except NotImplementedError:
        return ""


def _coerce(col: Column[Any], value: Any) -> Any:
    """HQ may send null for a field the local column keeps non-null (e.g. an empty note)."""
    if value is None and not col.nullable:
        return _default(col)
    return value


def _stamp_ms(stamps: Iterable[str | None]) -> int:
    """The time of the latest stamp (stamps sort as text, so only the largest is parsed)."""
    top = max(filter(None, stamps), default=None)
    if top is None:
        return 0
    try:
        return Stamp.parse(top).ms
    except ValueError:
        return 0


# names repeat a lot in a store's book (王芳, 李娜…); the phrase-aware pinyin is the costly part
_sort_key = lru_cache(maxsize=1 << 16)(sort_key)


@cache
def _defaults(table: Table) -> tuple[tuple[str, Any], ...]:
    """Every column of a new row (but the local ``pk``) with its default, computed once per table."""
    return tuple((c.name, _default(c)) for c in table.columns if c.name != "pk")


@cache
def _json_columns(table: Table) -> frozenset[str]:
    return frozenset(c.name for c in table.columns if isinstance(c.type, JSON))


def _bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """executemany on the driver: the page's new rows in one statement, without per-row ORM work."""
    cols = list(rows[0])
    json_cols = _json_columns(table)
    sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    params = [tuple(_json_text(r[c]) if c in json_cols and r[c] is not None else r[c] for c in cols) for r in rows]
    session.connection().exec_driver_sql(sql, params)


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()  # what the JSON columns read back; several times json's speed


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), _IN_CHUNK):
        yield items[i:i + _IN_CHUNK]


class _SearchRow(NamedTuple):
    pk: int
    id: str
    store_id: str
    name: str
    phone: str
    wechat_id: str
    deleted_hlc: str | None
    merged_into: str | None


class PageApplier:
    """Applies one pull page inside the caller's write transaction."""

    def __init__(self, session: Session, now_ms: int) -> None:
        self.session = session
        self.now_ms = now_ms
        self.stats = ApplyStats()
        self.reindex: set[str] = set()  # customer ids whose search keys must be rebuilt
        self.fresh: set[str] = set()  # customers inserted by this page: no old search keys to drop
        self.unindex: set[str] = set()
        self.purchase_customers: set[str] = set()
        self.merged: dict[str, str] = {}  # merged customer id -> survivor id
        self.erased: set[str] = set()  # customers erased on request: scrubbed locally at the end
        self._pending: dict[str, set[str]] | None = None
        self._history: list[dict[str, Any]] = []
        self._inserted_customers: list[dict[str, Any]] = []

    # --- entry point ------------------------------------------------------------------------------
    def apply(self, rows: Sequence[RowChange], history: Sequence[HistoryEntry] = ()) -> ApplyStats:
        by_entity: dict[str, list[RowChange]] = defaultdict(list)
        for row in rows:
            by_entity[row.entity].append(row)
        order = [e for e in APPLY_ORDER if e in by_entity] + sorted(set(by_entity) - set(APPLY_ORDER))
        for entity in order:
            table = _table(entity)
            if table is None:
                log.info("sync: skipping %d rows of entity %r this client does not keep",
                         len(by_entity[entity]), entity)
                self.stats.skipped += len(by_entity[entity])
                continue
            self._apply_entity(entity, table, by_entity[entity])
        self._apply_history(history)
        self._finish()
        return self.stats

    # --- rows -------------------------------------------------------------------------------------
    def _existing(self, table: Table, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(ids):
            for r in self.session.execute(select(table).where(table.c.id.in_(chunk))).mappings():
                found[r["id"]] = dict(r)
        return found

    def _apply_entity(self, entity: str, table: Table, changes: list[RowChange]) -> None:
        spec = SPECS[entity]
        cols = {c.name: c for c in table.columns}
        synced = [f for f in spec.fields if f in cols]
        latest: dict[str, RowChange] = {}
        for ch in changes:  # a page holds a row once, but be safe: the highest version wins
            if ch.id not in latest or ch.version >= latest[ch.id].version:
                latest[ch.id] = ch
        existing = self._existing(table, list(latest))
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for row_id, ch in latest.items():
            incoming = {k: v for k, v in ch.fields.items() if k in cols and k not in _LOCAL_ONLY}
            cur = existing.get(row_id)
            if cur is None:
                inserts.append(self._new_row(entity, table, cols, ch, incoming))
                continue
            upd = self._merged_row(entity, cols, synced, cur, ch, incoming)
            if upd is None:
                self.stats.unchanged += 1
            else:
                updates.append(upd)
        if entity == "tag":
            self._ensure_tag_groups(inserts + updates, existing)
        if inserts:
            if "pk" in cols:
                top = self.session.execute(text(f"SELECT coalesce(max(pk), 0) FROM {table.name}")).scalar_one()
                for i, row in enumerate(inserts, start=int(top) + 1):
                    row["pk"] = i
            _bulk_insert(self.session, table, inserts)
            self.stats.inserted += len(inserts)
        if updates:
            # one statement shape per key set keeps executemany batched
            groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
            for u in updates:
                groups[tuple(sorted(set(u) - {"id"}))].append(u)
            for key_set, batch in groups.items():
                stmt = (update(table).where(table.c.id == bindparam("_id"))
                        .values({k: bindparam(k) for k in key_set}))
                self.session.execute(stmt, [{"_id": u["id"], **{k: u[k] for k in key_set}} for u in batch])
            self.stats.updated += len(updates)
        if entity == "customer":
            self._track_customers(inserts, updates, existing)
            self._inserted_customers.extend(inserts)
        if entity == "purchase":
            for row in inserts + updates:
                cid = row.get("customer_id") or existing.get(row["id"], {}).get("customer_id")
                if cid:
                    self.purchase_customers.add(cid)
                old_cid = existing.get(row["id"], {}).get("customer_id")
                if old_cid and old_cid != cid:
                    self.purchase_customers.add(old_cid)

    def _new_row(self, entity: str, table: Table, cols: dict[str, Column[Any]], ch: RowChange,
                 incoming: dict[str, Any]) -> dict[str, Any]:
        row = dict(_defaults(table))
        for name, value in incoming.items():
            row[name] = _coerce(cols[name], value) if value is None else value
        row["id"] = ch.id
        row["field_hlc"] = dict(ch.hlc)
        row["deleted_hlc"] = ch.deleted_hlc
        if entity == "customer":
            stamp_ms = _stamp_ms(ch.hlc.values()) or self.now_ms
            if not row.get("created_at"):
                row["created_at"] = stamp_ms
            row["updated_at"] = stamp_ms
            row["sort_name"] = _sort_key(row.get("name") or "")
            if row.get("erased"):
                row.update(ERASED_VALUES)
                self.erased.add(ch.id)
        elif entity == "customer_tag":
            # a tombstoned assignment is never active, whatever its add/remove stamps say
            row["active"] = ch.deleted_hlc is None and tag_active(row.get("added_hlc"), row.get("removed_hlc"))
        return row

    def _merged_row(self, entity: str, cols: dict[str, Column[Any]], synced: list[str], cur: dict[str, Any],
                    ch: RowChange, incoming: dict[str, Any]) -> dict[str, Any] | None:
        current = {f: cur.get(f) for f in synced}
        cur_hlc = dict(cur.get("field_hlc") or {})
        result = merge_row(entity, current, cur_hlc, incoming, ch.hlc)
        tomb = merge_tombstone(cur.get("deleted_hlc"), ch.deleted_hlc)
        if entity == "customer" and (result.values.get("erased") or cur.get("erased")):
            # erased on request: HQ's wipe wins over any local value, and no loser is kept in history
            for name, value in ERASED_VALUES.items():
                if name in cols and cur.get(name) != value:
                    result.values[name] = value
                    result.changed.add(name)
            result.losers = []
            self.erased.add(ch.id)
        changed_cols = {f for f in result.changed if f in cols and result.values.get(f) != cur.get(f)}
        hlc_changed = result.hlc != cur_hlc
        if entity == "customer" and result.losers:
            self._note_losers(ch.id, result.losers)
        if not changed_cols and not hlc_changed and tomb == cur.get("deleted_hlc"):
            return None
        upd: dict[str, Any] = {"id": ch.id, "field_hlc": result.hlc, "deleted_hlc": tomb}
        for f in changed_cols:
            upd[f] = _coerce(cols[f], result.values[f])
        if entity == "customer":
            upd["updated_at"] = max(int(cur.get("updated_at") or 0), _stamp_ms(result.hlc.values()))
            if "name" in changed_cols:
                upd["sort_name"] = _sort_key(upd["name"] or "")
        elif entity == "customer_tag":
            active = tomb is None and tag_active(result.values.get("added_hlc"), result.values.get("removed_hlc"))
            if active != bool(cur.get("active")):
                upd["active"] = active
        return upd

    def _ensure_tag_groups(self, rows: list[dict[str, Any]], existing: dict[str, dict[str, Any]]) -> None:
        """A tag can arrive a page before its group (the group was edited later, so its version is
        higher): hold the foreign key with an unstamped stand-in the group's own row then fills."""
        wanted: set[str] = {str(g) for r in rows
                            if (g := r.get("group_id") or existing.get(r["id"], {}).get("group_id"))}
        if not wanted:
            return
        groups = _table("tag_group")
        assert groups is not None
        have = set(self._existing(groups, sorted(wanted)))
        missing = sorted(wanted - have)
        if missing:
            top = self.session.execute(text("SELECT coalesce(max(pk), 0) FROM tag_group")).scalar_one()
            self.session.execute(groups.insert(), [
                {"pk": int(top) + i, "id": gid, "field_hlc": {}, "deleted_hlc": None, "store_id": "",
                 "scope": "store", "owner_guide_id": "", "name": "", "color": "#607d8b", "sort_order": 0,
                 "multi": True}
                for i, gid in enumerate(missing, start=1)
            ])

    def _track_customers(self, inserts: list[dict[str, Any]], updates: list[dict[str, Any]],
                         existing: dict[str, dict[str, Any]]) -> None:
        for row in inserts:
            if row.get("deleted_hlc") or row.get("merged_into"):
                continue
            self.reindex.add(row["id"])
            self.fresh.add(row["id"])
        for upd in updates:
            cur = existing[upd["id"]]
            merged_into = upd.get("merged_into", cur.get("merged_into"))
            if upd.get("deleted_hlc") or merged_into:
                if not cur.get("deleted_hlc") and not cur.get("merged_into"):
                    self.unindex.add(upd["id"])
            elif upd.keys() & {"name", "phone", "wechat_id", "store_id"}:
                self.reindex.add(upd["id"])
            if upd.get("merged_into") and upd["merged_into"] != cur.get("merged_into"):
                self.merged[upd["id"]] = upd["merged_into"]
        for row in inserts:
            if row.get("merged_into"):
                self.merged[row["id"]] = row["merged_into"]

    # --- history ----------------------------------------------------------------------------------
    def _pending_stamps(self) -> dict[str, set[str]]:
        """Stamps of our own writes HQ has not acknowledged yet, per entity id."""
        if self._pending is None:
            self._pending = defaultdict(set)
            for entity_id, hlc in self.session.execute(
                select(Outbox.entity_id, Outbox.field_hlc).where(Outbox.status == "pending",
                                                                 Outbox.entity == "customer")
            ):
                self._pending[entity_id].update((hlc or {}).values())
        return self._pending

    def _note_losers(self, customer_id: str, losers: Iterable[Any]) -> None:
        ours = self._pending_stamps().get(customer_id, set())
        for lo in losers:
            # our unsent typing met another PC's: a conflict; otherwise another PC's later edit
            conflict = lo.hlc in ours or lo.winner_hlc in ours
            self._history.append({
                "customer_id": customer_id, "kind": "conflict" if conflict else "edit", "field": lo.field,
                "old_value": _text(lo.value), "new_value": _text(lo.winner_value), "hlc": lo.hlc,
                "by_guide_id": "", "at": self.now_ms,
            })
            if conflict:
                self.stats.conflicts += 1

    def _apply_history(self, entries: Sequence[HistoryEntry]) -> None:
        if not entries:
            return
        ids = sorted({e.customer_id for e in entries})
        seen: set[tuple[str, str, str]] = set()
        for chunk in _chunks(ids):
            for cid, fld, hlc in self.session.execute(
                select(CustomerHistory.customer_id, CustomerHistory.field, CustomerHistory.hlc)
                .where(CustomerHistory.customer_id.in_(chunk), CustomerHistory.kind.in_(("conflict", "edit")))
            ):
                seen.add((cid, fld, hlc))
        for e in entries:
            key = (e.customer_id, e.field, e.hlc)
            if key in seen:
                continue
            seen.add(key)
            self._history.append({
                "customer_id": e.customer_id, "kind": "conflict", "field": e.field, "old_value": _text(e.value),
                "new_value": None, "hlc": e.hlc, "by_guide_id": "", "at": self.now_ms,
            })
            self.stats.conflicts += 1

    # --- derived data -----------------------------------------------------------------------------
    def _finish(self) -> None:
        if self.merged:
            self._repoint_merged()
        if self._history:
            # a loser the local merge saw may also come from HQ's history: keep one conflict entry
            unique: dict[tuple[str, str, str, str], dict[str, Any]] = {}
            for h in self._history:
                key = (h["customer_id"], h["field"], h["hlc"], h["kind"])
                if h["kind"] == "conflict" and (h["customer_id"], h["field"], h["hlc"], "edit") in unique:
                    del unique[(h["customer_id"], h["field"], h["hlc"], "edit")]
                if h["kind"] == "edit" and (h["customer_id"], h["field"], h["hlc"], "conflict") in unique:
                    continue
                unique.setdefault(key, h)
            self.session.execute(Base.metadata.tables["customer_history"].insert(), list(unique.values()))
        self._update_search()
        if self.purchase_customers:
            refresh_purchase_totals_many(self.session, sorted(self.purchase_customers))
        if self.erased:
            wipe_local(self.session, self.erased)

    def _repoint_merged(self) -> None:
        """Follow-ups and purchases of a merged customer belong to the survivor (HQ moves its own
        copies the same way); our unsent outbox rows that name it are re-pointed too."""
        survivor = {}
        for loser, target in self.merged.items():
            seen = {loser}
            while target in self.merged and target not in seen:  # a chain of merges: follow to the end
                seen.add(target)
                target = self.merged[target]
            survivor[loser] = target
        for entity in _CHILDREN_OF_CUSTOMER:
            table = _table(entity)
            assert table is not None
            for loser, target in survivor.items():
                self.session.execute(update(table).where(table.c.customer_id == loser).values(customer_id=target))
                if entity == "purchase":
                    self.purchase_customers.update((loser, target))
        losers = list(survivor)
        for seq, fields in self.session.execute(
            select(Outbox.device_seq, Outbox.fields).where(Outbox.status == "pending",
                                                           Outbox.entity.in_(_CHILDREN_OF_CUSTOMER))
        ).all():
            cid = (fields or {}).get("customer_id")
            if cid in survivor:
                self.session.execute(update(Outbox).where(Outbox.device_seq == seq)
                                     .values(fields={**fields, "customer_id": survivor[cid]}))
        for loser, target in survivor.items():
            self._history.append({"customer_id": target, "kind": "merge", "field": "", "old_value": loser,
                                  "new_value": target, "hlc": "", "by_guide_id": "", "at": self.now_ms})
        self.reindex.difference_update(losers)
        self.unindex.update(losers)

    def _update_search(self) -> None:
        if not self.reindex and not self.unindex:
            return
        customer = Base.metadata.tables["customer"]
        # rows this page inserted are at hand; only rows that were already here are read back
        rows: list[Any] = [_SearchRow(r["pk"], r["id"], r["store_id"], r["name"], r["phone"], r["wechat_id"],
                                      r["deleted_hlc"], r["merged_into"])
                           for r in self._inserted_customers if r["id"] in self.reindex]
        ids = sorted((self.reindex - self.fresh) | self.unindex)
        for chunk in _chunks(ids):
            rows.extend(self.session.execute(
                select(customer.c.pk, customer.c.id, customer.c.store_id, customer.c.name, customer.c.phone,
                       customer.c.wechat_id, customer.c.deleted_hlc, customer.c.merged_into)
                .where(customer.c.id.in_(chunk))
            ).all())
        drop = [{"pk": r.pk} for r in rows if r.id not in self.fresh]
        if drop:
            self.session.execute(text("DELETE FROM customer_fts WHERE rowid = :pk"), drop)
            self.session.execute(text("DELETE FROM customer_search WHERE pk = :pk"), drop)
        live = [r for r in rows if r.deleted_hlc is None and r.merged_into is None]
        if not live:
            return
        keyed = [(r.pk, r.store_id, search_keys(r.name, r.phone, r.wechat_id)) for r in live]
        conn = self.session.connection()
        conn.exec_driver_sql(FTS_INSERT, [fts_row(pk, k) for pk, _, k in keyed])
        conn.exec_driver_sql(SEARCH_UPSERT, [search_row(pk, store_id, k) for pk, store_id, k in keyed])


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def apply_page(session: Session, rows: Sequence[RowChange], history: Sequence[HistoryEntry] = (),
               *, now_ms: int) -> ApplyStats:
    return PageApplier(session, now_ms).apply(rows, history)


def apply_org(session: Session, org: dict[str, Any]) -> None:
    """HQ-owned org data (stores, guides), replaced as a whole for the stores it names."""
    stores = org.get("stores") or []
    for s in stores:
        row = session.get(Store, s["id"])
        if row is None:
            session.add(Store(id=s["id"], name=s.get("name", ""), region_id=s.get("region_id"),
                              region_name=s.get("region_name", "") or ""))
        else:
            row.name = s.get("name", row.name)
            row.region_id = s.get("region_id")
            row.region_name = s.get("region_name", "") or ""
    if "export_daily_limit" in org:
        apply_export_limit(session, org["export_daily_limit"])
    if "book_visibility" in org:
        apply_book_visibility(session, org["book_visibility"])
    guides = org.get("guides")
    if guides is None:
        return
    seen: set[str] = set()
    for g in guides:
        seen.add(g["id"])
        guide = session.get(Guide, g["id"])
        values = {"store_id": g.get("store_id", ""), "name": g.get("name") or g.get("display_name", ""),
                  "role": g.get("role", "guide"), "active": bool(g.get("active", True))}
        if guide is None:
            session.add(Guide(id=g["id"], **values))
        else:
            for k, v in values.items():
                setattr(guide, k, v)
    # an account HQ no longer lists for these stores has left them; keep the row (names in old
    # records) but mark it inactive
    store_ids = {g.get("store_id") for g in guides} | {s["id"] for s in stores}
    if store_ids:
        session.execute(update(Guide).where(Guide.store_id.in_(store_ids), Guide.id.not_in(seen or {""}))
                        .values(active=False))
    session.flush()
