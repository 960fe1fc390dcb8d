"""The client's SQL segment (db.segment_sql) and HQ's Python one (domain.segment_eval) pick the same
customers: on the hand-built book, and for random segments over a random book."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from guide_app.db import segment_sql
from guide_app.db.engine import Database, open_database
from guide_app.db.models import Customer, CustomerTag, Tag, TagGroup
from guide_app.domain.merge import tag_active
from guide_app.domain.packs import Segment
from guide_app.domain.segment_eval import BookCustomer, BookTag, targets
from guide_app.domain.stages import StageThresholds, stage_cutoffs
from tests.fixtures.campaign_book import DAY, EXPECTED_STORE, NOW, SEGMENT, STORE, Clock, make_ctx, seed_book

TAG_NAMES = ("VIP", "护肤", "彩妆", "投诉", "童装")


def sql_targets(db: Database, segment: Segment) -> set[str]:
    with db.read() as s:
        e = segment.tags
        tags = segment_sql.resolve_tags(s, [*e.all_of, *e.any_of, *e.none_of])
        built = segment_sql.build(segment, tags, store_id=STORE, now_ms=NOW,
                                  cutoffs=stage_cutoffs(NOW, StageThresholds()))
        return set() if built is None else {r[0] for r in s.execute(text(built[0]), built[1])}


def python_targets(db: Database, segment: Segment) -> set[str]:
    with db.read() as s:
        scopes = {g.id: g.scope for g in s.scalars(select(TagGroup).where(TagGroup.deleted_hlc.is_(None)))}
        tags = [BookTag(t.id, t.name, scopes[t.group_id]) for t in s.scalars(select(Tag)) if t.group_id in scopes]
        links: dict[str, set[str]] = {}
        for ct in s.scalars(select(CustomerTag).where(CustomerTag.active.is_(True), CustomerTag.deleted_hlc.is_(None))):
            links.setdefault(ct.customer_id, set()).add(ct.tag_id)
        book = [
            BookCustomer(c.id, c.owner_guide_id, c.birthday, c.stage, c.created_at, c.last_purchase_at,
                         c.total_spent_cents, "opted_out" in (c.consent_phone, c.consent_sms, c.consent_wechat),
                         frozenset(links.get(c.id, ())))
            for c in s.scalars(select(Customer).where(Customer.store_id == STORE, Customer.deleted_hlc.is_(None),
                                                      Customer.merged_into.is_(None)))
        ]
    return {c.id for c in targets(segment, book, tags, now_ms=NOW)}


def test_both_pick_the_hand_computed_set(tmp_path: Path) -> None:
    ctx = make_ctx(open_database(tmp_path / "g.db"), Clock())
    ids = seed_book(ctx)
    expected = {ids[n] for n in EXPECTED_STORE}
    seg = Segment.model_validate(SEGMENT)
    assert sql_targets(ctx.db, seg) == expected == python_targets(ctx.db, seg)


@pytest.fixture(scope="module")
def random_book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = open_database(tmp_path_factory.mktemp("book") / "g.db")
    rnd = random.Random(5)
    with db.write() as s:
        s.add(TagGroup(id="g-corp", store_id="", scope="corp", name="会员", field_hlc={}))
        s.add(TagGroup(id="g-me", store_id=STORE, scope="personal", owner_guide_id="g1", name="我的", field_hlc={}))
        s.flush()
        for i, name in enumerate(TAG_NAMES):
            s.add(Tag(id=f"t{i}", group_id="g-corp", name=name, field_hlc={}))
        s.add(Tag(id="t-personal-vip", group_id="g-me", name="VIP", field_hlc={}))
        s.flush()
        for i in range(300):
            bought = rnd.random() < 0.75
            s.add(Customer(
                id=f"c{i:03d}", store_id=STORE, name=f"客户{i}",
                birthday=rnd.choice(["", f"1990-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"]),
                stage=rnd.choice(["", "", "", "active", "lost"]), owner_guide_id=f"g{i % 3}",
                consent_sms=rnd.choice(["unknown"] * 9 + ["opted_out"]),
                created_at=NOW - rnd.randint(0, 400) * DAY - rnd.randint(0, DAY), updated_at=NOW, sort_name=str(i),
                last_purchase_at=NOW - rnd.randint(0, 400) * DAY - rnd.randint(0, DAY) if bought else None,
                total_spent_cents=rnd.randint(0, 300_000) if bought else 0,
                deleted_hlc="x" if rnd.random() < 0.03 else None, field_hlc={},
            ))
            for t in rnd.sample([*range(len(TAG_NAMES)), -1], rnd.randint(0, 4)):
                added, removed = "0002", rnd.choice([None, None, "0001", "0003"])
                s.add(CustomerTag(id=f"ct{i}-{t}", store_id=STORE, customer_id=f"c{i:03d}",
                                  tag_id="t-personal-vip" if t < 0 else f"t{t}", added_hlc=added,
                                  removed_hlc=removed, active=tag_active(added, removed), field_hlc={}))
    yield db
    db.dispose()


refs = st.lists(st.sampled_from([*TAG_NAMES, "t1", "没有的标签"]), max_size=2, unique=True)


def _valid_range(r: tuple[int | None, int | None]) -> bool:
    low, high = r
    return (low is not None or high is not None) and (low is None or high is None or low <= high)


ranges = st.one_of(
    st.none(),
    st.tuples(st.one_of(st.none(), st.integers(0, 400)), st.one_of(st.none(), st.integers(0, 400))).filter(
        _valid_range),
)


def _range(r: tuple[int | None, int | None] | None, scale: int = 1) -> dict[str, int | None] | None:
    if r is None:
        return None
    return {"min": None if r[0] is None else r[0] * scale, "max": None if r[1] is None else r[1] * scale}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(all_of=refs, any_of=refs, none_of=refs,
       months=st.lists(st.integers(1, 12), max_size=3, unique=True),
       stages=st.lists(st.sampled_from(["new", "active", "sleeping", "lost"]), max_size=2, unique=True),
       days=ranges, spend=ranges)
def test_random_segments_agree(random_book: Database, all_of: list[str], any_of: list[str], none_of: list[str],
                               months: list[int], stages: list[str], days: Any, spend: Any) -> None:
    seg = Segment.model_validate({
        "tags": {"all_of": all_of, "any_of": any_of, "none_of": none_of}, "birthday_months": months,
        "stages": stages, "days_since_last_purchase": _range(days), "total_spend_cents": _range(spend, 1000),
    })
    assert sql_targets(random_book, seg) == python_targets(random_book, seg)
