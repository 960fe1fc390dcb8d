"""Write the demo org and book (guide_app.domain.demo) into the local database.

Two paths, same data:

- the **service path** (default up to ``FAST_THRESHOLD`` customers) writes every synced row through
  :class:`Writer` in one transaction: HLC stamps, outbox rows, search keys and history exactly as if
  a guide had typed them, so the demo book syncs to a demo HQ like real work;
- the **bulk path** (larger books, e.g. the 100k benchmark) inserts with ``executemany`` in one
  transaction. Rows get HLC stamps and consistent search keys and purchase totals, but **no outbox
  rows**: a bulk demo book is "not yet synced" and never pushed. ``sync_state['demo_book']`` says
  which path filled the file.

HQ-owned rows (stores, guides, corp tag groups) are written directly in both paths, as sync would.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from guide_app.db.engine import Database
from guide_app.db.models import Customer, CustomerHistory, FollowUp, Guide, Purchase, Store, Tag, TagGroup
from guide_app.db.search_index import (
    FTS_INSERT,
    SEARCH_UPSERT,
    fts_row,
    index_customer,
    search_keys,
    search_row,
)
from guide_app.db.state import get_state, set_state
from guide_app.domain.demo import DemoBook, DemoOrg, DemoTagGroup, generate_book, generate_org
from guide_app.domain.ids import pair_id
from guide_app.domain.pinyin_keys import sort_key
from guide_app.services.context import Actor, AppContext, Writer, wall_ms
from guide_app.services.purchases import refresh_purchase_totals_many
from guide_app.services.tags import add_assignment

FAST_THRESHOLD = 2000
DEMO_STORE_KEY = "demo_store_id"
DEMO_ACTOR_KEY = "demo_actor"
DEMO_BOOK_KEY = "demo_book"  # "service" | "bulk-unsynced"
_CUSTOMER_FIELDS = (
    "store_id", "name", "phone", "wechat_id", "gender", "birthday", "source", "owner_guide_id", "stage",
    "preferences", "sizes", "notes", "consent_phone", "consent_sms", "consent_wechat", "created_at",
)


@dataclass(frozen=True)
class DemoSeedResult:
    actor: Actor  # the demo store's manager
    store_id: str
    customers: int
    assignments: int
    purchases: int
    follow_ups: int
    outbox_written: bool  # False for the bulk path (demo book not yet synced)


def seed_demo(db: Database, *, customers: int = 300, seed: int = 2026, now_ms: int | None = None,
              fast: bool | None = None, assignments: int = 0, follow_ups: int = 0) -> DemoSeedResult:
    """Fill an empty file with a demo org and the first store's book; on a file seeded before, just
    return its manager. ``fast`` forces the bulk path on or off (default: bulk above the threshold);
    ``assignments`` / ``follow_ups`` top the book up to those totals (see ``generate_book``)."""
    now = wall_ms() if now_ms is None else now_ms
    with db.read() as s:
        done = get_state(s, DEMO_ACTOR_KEY)
    if done:
        actor = Actor(**json.loads(done))
        return DemoSeedResult(actor, actor.store_id, 0, 0, 0, 0, False)
    org = generate_org(seed, now_ms=now)
    store = org.stores[0]
    manager = org.guides_of(store.id)[0]
    actor = Actor(manager.id, store.id, role=manager.role, name=manager.name)
    book = generate_book(org, store.id, customers=customers, seed=seed, now_ms=now, assignments=assignments,
                         follow_ups=follow_ups)
    with db.write() as s:
        _write_org(s, org)
    ctx = AppContext(db, actor, now_ms=lambda: now)
    bulk = customers > FAST_THRESHOLD if fast is None else fast
    with ctx.write() as w:
        if bulk:
            _bulk_book(w, book)
        else:
            _service_book(w, book)
        set_state(w.session, DEMO_STORE_KEY, store.id)
        set_state(w.session, DEMO_BOOK_KEY, "bulk-unsynced" if bulk else "service")
        set_state(w.session, DEMO_ACTOR_KEY, json.dumps(asdict(actor), ensure_ascii=False))
    return DemoSeedResult(actor, store.id, len(book.customers), len(book.assignments), len(book.purchases),
                          len(book.follow_ups), not bulk)


def _write_org(s: Session, org: DemoOrg) -> None:
    for st in org.stores:
        s.merge(Store(id=st.id, name=st.name, region_id=st.region_id, region_name=st.region_name))
    for g in org.guides:
        s.merge(Guide(id=g.id, store_id=g.store_id, name=g.name, role=g.role, active=True))
    known = set(s.scalars(select(TagGroup.id)))
    for group in org.corp_groups:
        if group.id in known:
            continue
        s.add(TagGroup(id=group.id, store_id="", scope="corp", owner_guide_id="", name=group.name,
                       color=group.color, sort_order=group.sort_order, multi=group.multi, field_hlc={}))
        s.flush()
        for t in group.tags:
            s.add(Tag(id=t.id, group_id=group.id, name=t.name, sort_order=t.sort_order, field_hlc={}))


def _group_fields(g: DemoTagGroup) -> dict[str, Any]:
    return {"store_id": g.store_id, "scope": g.scope, "owner_guide_id": g.owner_guide_id, "name": g.name,
            "color": g.color, "sort_order": g.sort_order, "multi": g.multi}


def _service_book(w: Writer, book: DemoBook) -> None:
    """Every row through Writer.apply: stamps + outbox, as the services write them."""
    for g in book.groups:
        w.apply("tag_group", TagGroup(id=g.id, field_hlc={}), _group_fields(g), new=True)
        for t in g.tags:
            w.apply("tag", Tag(id=t.id, field_hlc={}),
                    {"group_id": g.id, "name": t.name, "sort_order": t.sort_order}, new=True)
    for c in book.customers:
        values = {k: getattr(c, k) for k in _CUSTOMER_FIELDS if k != "stage"} | {"stage": ""}
        row = Customer(id=c.id, updated_at=c.created_at, sort_name=sort_key(c.name), field_hlc={})
        w.apply("customer", row, values, new=True)
        index_customer(w.session, row.pk, row.store_id, row.name, row.phone, row.wechat_id)
        w.session.add(CustomerHistory(customer_id=c.id, kind="create", hlc=w.stamps[-1],
                                      by_guide_id=c.owner_guide_id, at=c.created_at))
    for cid, tag_id in book.assignments:
        add_assignment(w, cid, tag_id)
    for p in book.purchases:
        w.apply("purchase", Purchase(id=p.id, field_hlc={}), {
            "store_id": book.store_id, "customer_id": p.customer_id, "guide_id": p.guide_id,
            "amount_cents": p.amount_cents, "items": p.items, "at": p.at, "origin": "guide"}, new=True)
    refresh_purchase_totals_many(w.session, [p.customer_id for p in book.purchases])
    for f in book.follow_ups:
        w.apply("follow_up", FollowUp(id=f.id, field_hlc={}), {
            "store_id": book.store_id, "customer_id": f.customer_id, "guide_id": f.guide_id, "kind": f.kind,
            "note": f.note, "at": f.at, "next_at": f.next_at, "done": f.done}, new=True)


def _hlc(fields: tuple[str, ...] | list[str], stamp: str) -> str:
    return json.dumps(dict.fromkeys(fields, stamp))


def _bulk_book(w: Writer, book: DemoBook) -> None:
    """executemany inserts in the open transaction; search keys and purchase totals computed here."""
    stamp = w.stamp()
    cur = w.session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    for g in book.groups:
        w.apply("tag_group", TagGroup(id=g.id, field_hlc={}), _group_fields(g), new=True)
        for t in g.tags:
            w.apply("tag", Tag(id=t.id, field_hlc={}),
                    {"group_id": g.id, "name": t.name, "sort_order": t.sort_order}, new=True)
    start = int(w.session.scalar(text("SELECT coalesce(max(pk), 0) FROM customer")) or 0) + 1
    totals: dict[str, list[int]] = {}
    for p in book.purchases:
        agg = totals.setdefault(p.customer_id, [0, 0, 0])
        agg[0] = max(agg[0], p.at)
        agg[1] += p.amount_cents
        agg[2] += 1
    c_hlc = _hlc(_CUSTOMER_FIELDS, stamp)
    customer_rows = []
    search_rows = []
    fts_rows = []
    for i, c in enumerate(book.customers):
        pk = start + i
        last, spent, orders = totals.get(c.id, [0, 0, 0])
        customer_rows.append((
            pk, c.id, c_hlc, c.store_id, c.name, c.phone, c.wechat_id, c.gender, c.birthday, c.source,
            c.owner_guide_id, c.preferences, c.sizes, c.notes, c.consent_phone, c.consent_sms, c.consent_wechat,
            c.created_at, c.created_at, sort_key(c.name), last or None, spent, orders,
        ))
        keys = search_keys(c.name, c.phone, c.wechat_id)
        search_rows.append(search_row(pk, c.store_id, keys))
        fts_rows.append(fts_row(pk, keys))
    cur.executemany(
        "INSERT INTO customer (pk, id, field_hlc, store_id, name, phone, wechat_id, gender, birthday, source, "
        "owner_guide_id, stage, preferences, sizes, notes, consent_phone, consent_sms, consent_wechat, "
        "created_at, updated_at, sort_name, last_purchase_at, total_spent_cents, order_count) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", customer_rows)
    cur.executemany(SEARCH_UPSERT, search_rows)
    cur.executemany(FTS_INSERT, fts_rows)
    ct_hlc = _hlc(("store_id", "customer_id", "tag_id", "added_hlc", "removed_hlc"), stamp)
    cur.executemany(
        "INSERT INTO customer_tag (id, field_hlc, store_id, customer_id, tag_id, added_hlc, removed_hlc, active) "
        "VALUES (?, ?, ?, ?, ?, ?, NULL, 1)",
        [(pair_id(cid, tid), ct_hlc, book.store_id, cid, tid, stamp) for cid, tid in book.assignments])
    p_hlc = _hlc(("store_id", "customer_id", "guide_id", "amount_cents", "items", "at", "origin"), stamp)
    cur.executemany(
        "INSERT INTO purchase (id, field_hlc, store_id, customer_id, guide_id, amount_cents, items, at, origin) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'guide')",
        [(p.id, p_hlc, book.store_id, p.customer_id, p.guide_id, p.amount_cents, p.items, p.at)
         for p in book.purchases])
    f_hlc = _hlc(("store_id", "customer_id", "guide_id", "kind", "note", "at", "next_at", "done"), stamp)
    cur.executemany(
        "INSERT INTO follow_up (id, field_hlc, store_id, customer_id, guide_id, kind, note, at, next_at, done) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(f.id, f_hlc, book.store_id, f.customer_id, f.guide_id, f.kind, f.note, f.at, f.next_at, int(f.done))
         for f in book.follow_ups])


def demo_counts(db: Database) -> Counter[str]:
    """Row counts of the demo tables (for the app's status line and tests)."""
    out: Counter[str] = Counter()
    with db.read() as s:
        for table in ("customer", "customer_tag", "purchase", "follow_up", "tag_group", "tag", "outbox"):
            out[table] = int(s.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
    return out
