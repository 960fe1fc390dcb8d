"""Demo seeding: the service path writes outbox rows like real work; the bulk path keeps search keys
and totals consistent and writes no outbox rows for the book (not yet synced)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from guide_app.db.engine import Database, open_database
from guide_app.db.search_index import search_keys, search_row
from guide_app.db.state import get_state
from guide_app.services.context import AppContext
from guide_app.services.customer_query import CustomerFilter, CustomerQuery, TagFilter
from guide_app.services.demo_seed import DEMO_BOOK_KEY, demo_counts, seed_demo
from guide_app.services.follow_ups import FollowUpService
from guide_app.services.purchases import local_day
from guide_app.services.tags import TagService

NOW = 1_767_225_600_000


@pytest.fixture()
def db(tmp_path: Path, migrated_template: Path) -> Database:
    shutil.copy(migrated_template, tmp_path / "demo.db")
    return open_database(tmp_path / "demo.db")


def _consistent(db: Database) -> None:
    with db.read() as s:
        rows = s.execute(text(
            "SELECT c.pk, c.store_id, c.name, c.phone, c.wechat_id, cs.* "
            "FROM customer c JOIN customer_search cs ON cs.pk = c.pk")).all()
        assert len(rows) == s.scalar(text("SELECT count(*) FROM customer"))
        for r in rows:
            assert tuple(r[5:]) == search_row(r[0], r[1], search_keys(r[2], r[3], r[4]))
        assert s.scalar(text("SELECT count(*) FROM customer_fts")) == len(rows)
        wrong = s.scalar(text(
            "SELECT count(*) FROM customer c WHERE c.order_count != (SELECT count(*) FROM purchase p "
            "WHERE p.customer_id = c.id) OR c.total_spent_cents != (SELECT coalesce(sum(amount_cents), 0) "
            "FROM purchase p WHERE p.customer_id = c.id)"))
        assert wrong == 0


def _usable(db: Database, actor_ctx: AppContext) -> None:
    q = CustomerQuery(actor_ctx)
    rows = q.rows(q.ids()[:20])
    assert len(rows) == 20 and all(r.owner_name for r in rows)
    probe = rows[3]
    assert probe.pk in q.ids(CustomerFilter(text=probe.phone[-4:]))
    level = next(g for g in TagService(actor_ctx).groups() if g.name == "客户等级")
    assert sum(t.customer_count for t in level.tags) == q.count()  # exactly one level each
    gold = next(t for t in level.tags if t.name == "金卡")
    assert q.count(CustomerFilter(tags=TagFilter(((gold.id,),)))) == gold.customer_count
    today = local_day(NOW)
    assert FollowUpService(actor_ctx).due_today(today)


def test_service_path_writes_outbox_rows_and_is_idempotent(db: Database) -> None:
    result = seed_demo(db, customers=60, now_ms=NOW)
    assert result.outbox_written and result.actor.role == "store_manager"
    counts = demo_counts(db)
    with db.read() as s:
        assert get_state(s, DEMO_BOOK_KEY) == "service"
        per_entity: dict[str, int] = {
            e: n for e, n in s.execute(text("SELECT entity, count(*) FROM outbox GROUP BY entity"))}
    assert per_entity["customer"] == counts["customer"] == 60
    assert per_entity["customer_tag"] == counts["customer_tag"] == result.assignments
    assert per_entity["purchase"] == counts["purchase"] and per_entity["follow_up"] == counts["follow_up"]
    # the store's two groups and the manager's personal one, with 4 + 3 + 2 tags; corp groups are HQ's
    assert per_entity["tag_group"] == 3 and per_entity["tag"] == 9 and len(per_entity) == 6
    _consistent(db)
    _usable(db, AppContext(db, result.actor, now_ms=lambda: NOW))
    again = seed_demo(db, customers=60, now_ms=NOW)
    assert again.actor == result.actor and demo_counts(db) == counts


def test_bulk_path_keeps_search_keys_and_totals_without_outbox(db: Database) -> None:
    result = seed_demo(db, customers=300, now_ms=NOW, fast=True)
    assert not result.outbox_written
    with db.read() as s:
        assert get_state(s, DEMO_BOOK_KEY) == "bulk-unsynced"
        entities = {e for (e,) in s.execute(text("SELECT DISTINCT entity FROM outbox"))}
        stamped = s.scalar(text("SELECT count(*) FROM customer WHERE json_extract(field_hlc, '$.name') IS NULL"))
    assert entities == {"tag_group", "tag"} and stamped == 0
    _consistent(db)
    _usable(db, AppContext(db, result.actor, now_ms=lambda: NOW))
