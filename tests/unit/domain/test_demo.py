"""The demo generator: deterministic, realistic, consistent with the book's rules."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import phonenumbers

from guide_app.domain.demo import generate_book, generate_org

NOW = 1_767_225_600_000  # 2026-01-01 08:00 in UTC+8
TODAY = dt.date(2026, 1, 1)
_HAN = re.compile(r"^[\u4e00-\u9fff]{2,4}$")


def test_same_seed_same_org_and_book() -> None:
    org_a, org_b = generate_org(7, now_ms=NOW), generate_org(7, now_ms=NOW)
    assert org_a == org_b
    book_a = generate_book(org_a, org_a.stores[0].id, customers=50, seed=7, now_ms=NOW)
    book_b = generate_book(org_b, org_b.stores[0].id, customers=50, seed=7, now_ms=NOW)
    assert book_a == book_b
    other = generate_book(org_a, org_a.stores[0].id, customers=50, seed=8, now_ms=NOW)
    assert other.customers != book_a.customers


def test_org_has_regions_stores_managers_and_corp_groups() -> None:
    org = generate_org(1, regions=2, stores_per_region=2, guides_per_store=3, now_ms=NOW)
    assert len(org.stores) == 4 and [name for _id, name in org.regions()] == ["华东区", "华南区"]
    assert all(s.name.endswith("店") for s in org.stores)
    for store in org.stores:
        guides = org.guides_of(store.id)
        assert [g.role for g in guides] == ["store_manager", "guide", "guide"]
    assert len({g.name for g in org.guides}) == len(org.guides)
    groups = {g.name: g for g in org.corp_groups}
    assert [t.name for t in groups["客户等级"].tags] == ["普通", "银卡", "金卡", "钻石"]
    assert not groups["客户等级"].multi and groups["兴趣偏好"].multi
    assert all(g.scope == "corp" and g.store_id == "" for g in org.corp_groups)


def test_book_is_realistic_and_follows_the_rules() -> None:
    org = generate_org(3, now_ms=NOW)
    store = org.stores[1]
    book = generate_book(org, store.id, customers=400, seed=3, now_ms=NOW, today=TODAY)
    customers = book.customers
    assert len(customers) == 400 and len({c.id for c in customers}) == 400
    phones = [c.phone for c in customers]
    assert len(set(phones)) == 400
    for p in phones:
        number = phonenumbers.parse(p)
        assert phonenumbers.is_valid_number(number) and number.country_code == 86
        assert phonenumbers.number_type(number) in (phonenumbers.PhoneNumberType.MOBILE,
                                                    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    assert sum(bool(_HAN.match(c.name)) for c in customers) == 400
    assert {c.owner_guide_id for c in customers} <= {g.id for g in org.guides_of(store.id)}
    assert all(c.created_at <= NOW for c in customers)
    assert Counter(c.gender for c in customers).most_common(1)[0][0] == "female"
    assert any(c.wechat_id for c in customers) and any(c.birthday for c in customers)
    # single-select corp groups: at most one tag of each per customer
    tag_group = {t.id: g for g in (*org.corp_groups, *book.groups) for t in g.tags}
    per = Counter((cid, tag_group[tid].id) for cid, tid in book.assignments if not tag_group[tid].multi)
    assert max(per.values()) == 1
    assert len(set(book.assignments)) == len(book.assignments)
    assert 2.5 <= len(book.assignments) / 400 <= 3.5
    by_id = {c.id: c for c in customers}
    assert all(by_id[p.customer_id].created_at <= p.at <= NOW and p.amount_cents > 0 for p in book.purchases)
    due = [f for f in book.follow_ups if f.next_at == TODAY.isoformat() and not f.done]
    overdue = [f for f in book.follow_ups if f.next_at and f.next_at < TODAY.isoformat() and not f.done]
    assert due and overdue
    assert {g.scope for g in book.groups} == {"store", "personal"}
    personal = next(g for g in book.groups if g.scope == "personal")
    assert personal.owner_guide_id == org.guides_of(store.id)[0].id


def test_book_topped_up_to_totals_keeps_the_base_book_and_the_rules() -> None:
    org = generate_org(5, now_ms=NOW)
    store = org.stores[0]
    base = generate_book(org, store.id, customers=200, seed=5, now_ms=NOW, today=TODAY)
    big = generate_book(org, store.id, customers=200, seed=5, now_ms=NOW, today=TODAY, assignments=1000,
                        follow_ups=500)
    assert big.customers == base.customers and big.purchases == base.purchases
    assert big.assignments[:len(base.assignments)] == base.assignments
    assert big.follow_ups[:len(base.follow_ups)] == base.follow_ups
    assert len(big.assignments) == 1000 and len(set(big.assignments)) == 1000
    assert len(big.follow_ups) == 500 and len({f.id for f in big.follow_ups}) == 500
    tag_group = {t.id: g for g in (*org.corp_groups, *big.groups) for t in g.tags}
    per = Counter((cid, tag_group[tid].id) for cid, tid in big.assignments if not tag_group[tid].multi)
    assert max(per.values()) == 1
    by_id = {c.id: c for c in big.customers}
    assert all(by_id[f.customer_id].created_at <= f.at <= NOW and f.guide_id == by_id[f.customer_id].owner_guide_id
               for f in big.follow_ups[len(base.follow_ups):])
    # more than every customer can hold: stops at every multi-choice tag on everyone
    full = generate_book(org, store.id, customers=3, seed=5, now_ms=NOW, assignments=10_000)
    multi = sum(len(g.tags) for g in (*org.corp_groups, *full.groups) if g.multi)
    assert len(full.assignments) == len(set(full.assignments)) <= 3 * (multi + 2)
