"""Campaign completion at HQ, per store and guide: the targets worked out from each store's synced
book (the same rules as the counter PCs, see guide_app.domain.segment_eval) and the task rows the
PCs pushed up.

A region's books are hundreds of thousands of synced rows, so they are read lean: one query per
entity for all the stores at once, only the JSON fields the segment needs (extracted by the
database, never whole rows turned into objects), and only the entities it needs at all (no tag
links for a segment without tags, no purchases without spend, recency or stage conditions).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, and_, cast, func, select
from sqlalchemy.orm import Session

from guide_app.domain.errors import UserError
from guide_app.domain.merge import tag_active
from guide_app.domain.packs import Manifest, Segment, parse_manifest
from guide_app.domain.pinyin_keys import sort_key
from guide_app.domain.segment_eval import BookCustomer, BookTag, resolve_refs, targets
from hq.models import Account, CampaignPack, Store, SyncRow


@dataclass
class GuideRow:
    store_id: str
    store_name: str
    guide_id: str
    guide_name: str
    targets: int = 0
    done: dict[str, int] = field(default_factory=dict)  # task id -> target customers done
    outcomes: Counter[str] = field(default_factory=Counter)

    def completion(self, task_count: int) -> float:
        total = self.targets * task_count
        return sum(self.done.values()) / total if total else 0.0


def _manifest(session: Session, pack_id: str) -> Manifest:
    row = session.scalars(select(CampaignPack).where(CampaignPack.id == pack_id)
                          .order_by(CampaignPack.version.desc())).first()
    if row is None:
        raise UserError("pack.publish.not_found", id=pack_id)
    return parse_manifest(row.manifest)


# --- lean reads ------------------------------------------------------------------------------------


def _text(name: str) -> ColumnElement[Any]:
    return SyncRow.data[name].as_string()


def _int(name: str) -> ColumnElement[Any]:
    # epoch ms do not fit PostgreSQL's INTEGER (what as_integer() casts to)
    return cast(SyncRow.data[name].as_string(), BigInteger)


def _live(entity: str, store_ids: Collection[str], *cols: Any) -> Select[Any]:
    return select(SyncRow.store_id, *cols).where(SyncRow.store_id.in_(store_ids), SyncRow.entity == entity,
                                                 SyncRow.deleted_hlc.is_(None))


@dataclass
class _Book:
    customers: list[BookCustomer] = field(default_factory=list)
    tags: list[BookTag] = field(default_factory=list)


def _books(session: Session, segments: Collection[Segment], store_ids: Collection[str]) -> dict[str, _Book]:
    """Each store's customers as far as any of the segments looks at them, and its tags (several
    campaigns of a region share one read of the books)."""
    refs = [r for seg in segments for r in (*seg.tags.all_of, *seg.tags.any_of, *seg.tags.none_of)]
    birthdays = any(seg.birthday_months for seg in segments)
    stages = any(seg.stages for seg in segments)
    purchases = stages or any(seg.days_since_last_purchase is not None or seg.total_spend_cents is not None
                              for seg in segments)
    conn = session.connection()
    books: dict[str, _Book] = {s: _Book() for s in store_ids}
    links: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    if refs:
        scopes = {(s, i): sc or "" for s, i, sc in conn.execute(_live("tag_group", store_ids, SyncRow.id,
                                                                        _text("scope")))}
        for s, tag_id, name, group in conn.execute(_live("tag", store_ids, SyncRow.id, _text("name"),
                                                         _text("group_id"))):
            books[s].tags.append(BookTag(tag_id, name or "", scopes.get((s, group or ""), "")))
        wanted = sorted({i for b in books.values() for ids in resolve_refs(refs, b.tags).values() for i in ids})
        if wanted:
            q = _live("customer_tag", store_ids, SyncRow.customer_id, _text("tag_id"), _text("added_hlc"),
                      _text("removed_hlc")).where(_text("tag_id").in_(wanted))
            for s, cid, tag_id, added, removed in conn.execute(q):
                if tag_active(added, removed):
                    links[s][cid].add(tag_id)
    bought: dict[tuple[str, str], tuple[int, int]] = {}
    if purchases:
        q = (select(SyncRow.store_id, SyncRow.customer_id, func.coalesce(func.sum(_int("amount_cents")), 0),
                    func.max(func.coalesce(_int("at"), 0)))
             .where(SyncRow.store_id.in_(store_ids), SyncRow.entity == "purchase", SyncRow.deleted_hlc.is_(None))
             .group_by(SyncRow.store_id, SyncRow.customer_id))
        bought = {(s, cid): (int(spent), int(last)) for s, cid, spent, last in conn.execute(q)}
    cols = [SyncRow.id, _text("owner_guide_id"), _text("consent_phone"), _text("consent_sms"),
            _text("consent_wechat")]
    if birthdays:
        cols.append(_text("birthday"))
    if stages:
        cols += [_text("stage"), _int("created_at")]
    q = _live("customer", store_ids, *cols).where(func.coalesce(SyncRow.merged_into, "") == "",
                                                  func.coalesce(_text("merged_into"), "") == "")
    for s, cid, owner, *rest in conn.execute(q):
        consents, extra = rest[:3], rest[3:]
        birthday = (extra.pop(0) or "") if birthdays else ""
        stage, created = (extra[0] or "", int(extra[1] or 0)) if stages else ("", 0)
        spent, last = bought.get((s, cid), (0, None))
        books[s].customers.append(BookCustomer(
            id=cid, owner_guide_id=owner or "", birthday=birthday, stage=stage, created_at=created,
            last_purchase_at=last, total_spent_cents=spent, opted_out="opted_out" in consents,
            tag_ids=frozenset(links[s].get(cid, ())),
        ))
    return books


def _done_tasks(session: Session, pack_ids: Collection[str],
                store_ids: Collection[str]) -> Iterable[tuple[str, str, str, str, str]]:
    """(store, pack, customer, task, outcome) of every task of the packs marked done."""
    q = _live("campaign_task", store_ids, _text("pack_id"), SyncRow.customer_id, _text("task_id"),
              _text("outcome")).where(and_(_text("pack_id").in_(pack_ids), _text("status") == "done"))
    return ((s, pack or "", cid, task or "", outcome or "")
            for s, pack, cid, task, outcome in session.connection().execute(q))


# --- progress ------------------------------------------------------------------------------------------


def audience_stores(session: Session, manifest: Manifest, store_ids: Collection[str] | None = None) -> list[Store]:
    """The stores the pack is published to (of ``store_ids`` when given), by name in pinyin order."""
    q = select(Store)
    if store_ids is not None:
        q = q.where(Store.id.in_(store_ids))
    stores = [s for s in session.scalars(q) if manifest.audience.includes(s.id, s.region_id)]
    return sorted(stores, key=lambda s: (sort_key(s.name), s.name))


def progress_of(session: Session, manifest: Manifest, stores: list[Store], now_ms: int, *,
                guide_id: str | None = None) -> list[GuideRow]:
    """One row per store (in the order given) and owner guide with target customers, by guide name
    (pinyin order, as a Chinese user reads a list);
    ``guide_id`` keeps only that guide's rows."""
    return progress_many(session, [(manifest, stores)], now_ms, guide_id=guide_id)[0]


def progress_many(session: Session, campaigns: Sequence[tuple[Manifest, list[Store]]], now_ms: int, *,
                  guide_id: str | None = None) -> list[list[GuideRow]]:
    """:func:`progress_of` for several campaigns (each with its stores), from one lean read of the
    books of all their stores: a region's overview costs about one campaign's reads, not one per
    campaign."""
    all_ids = sorted({s.id for _m, stores in campaigns for s in stores})
    if not all_ids:
        return [[] for _c in campaigns]
    books = _books(session, [m.segment for m, _s in campaigns], all_ids)
    # (pack, store) -> customer -> owner guide, and -> guide -> row
    owners: dict[tuple[str, str], dict[str, str]] = {}
    rows: dict[tuple[str, str], dict[str, GuideRow]] = {}
    guide_ids: set[str] = set()
    for manifest, stores in campaigns:
        for store in stores:
            key = (manifest.id, store.id)
            book = books[store.id]
            chosen = targets(manifest.segment, book.customers, book.tags, now_ms=now_ms)
            owners[key] = {c.id: c.owner_guide_id for c in chosen}
            mine = rows[key] = {}
            for c in chosen:
                if guide_id is not None and c.owner_guide_id != guide_id:
                    continue
                row = mine.get(c.owner_guide_id)
                if row is None:
                    row = mine[c.owner_guide_id] = GuideRow(store.id, store.name, c.owner_guide_id, "")
                    guide_ids.add(c.owner_guide_id)
                row.targets += 1
    for s, pack, cid, task_id, outcome in _done_tasks(session, sorted({m.id for m, _s in campaigns}), all_ids):
        key = (pack, s)
        row = rows.get(key, {}).get(owners.get(key, {}).get(cid, ""))  # a customer no longer a target does not count
        if row is not None:
            row.done[task_id] = row.done.get(task_id, 0) + 1
            row.outcomes[outcome] += 1
    names = dict(session.execute(select(Account.id, Account.display_name).where(Account.id.in_(guide_ids))).all()) \
        if guide_ids else {}
    out: list[list[GuideRow]] = []
    for manifest, stores in campaigns:
        mine_all: list[GuideRow] = []
        for store in stores:
            mine = rows[(manifest.id, store.id)]
            for row in mine.values():
                row.guide_name = names.get(row.guide_id, row.guide_id)
                row.done = {task.id: row.done.get(task.id, 0) for task in manifest.tasks}
            mine_all += sorted(mine.values(), key=lambda r: (sort_key(r.guide_name), r.guide_name, r.guide_id))
        out.append(mine_all)
    return out


def pack_progress(session: Session, pack_id: str, now_ms: int) -> tuple[Manifest, list[GuideRow]]:
    """Every store of the pack's audience: one row per store and owner guide with target customers,
    ordered by store and guide name (``hq pack progress``; any version status, for the operator)."""
    manifest = _manifest(session, pack_id)
    return manifest, progress_of(session, manifest, audience_stores(session, manifest), now_ms)
