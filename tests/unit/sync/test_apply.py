"""Applying pulled rows to a real SQLite file: merge replay, pending local edits, derived data."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text

from guide_app.db.customer_list import ListSpec, load_rows, select_pks
from guide_app.db.engine import open_database
from guide_app.db.models import Customer, CustomerHistory, CustomerTag, FollowUp, Guide, Outbox, Store, Tag
from guide_app.domain.hlc import Stamp
from guide_app.domain.ids import pair_id, uuid7
from guide_app.services.context import Actor, AppContext
from guide_app.services.customers import CustomerInput, CustomerService
from guide_app.services.sync_apply import apply_org, apply_page
from guide_app.sync.protocol import HistoryEntry, RowChange

T0 = 1_773_000_000_000


def st(ms: int, node: str = "hq1") -> str:
    return str(Stamp(ms, 0, node))


@pytest.fixture()
def ctx(tmp_path: Path) -> AppContext:
    db = open_database(tmp_path / "book.db")
    return AppContext(db, Actor("g1", "s1"), now_ms=lambda: T0)


def customer_row(cid: str, version: int, stamp_ms: int = T0 - 1000, **fields: object) -> RowChange:
    base: dict[str, object] = {"store_id": "s1", "name": "张三", "phone": "+8613800138000", "notes": "",
                               "created_at": T0 - 5000, "owner_guide_id": "g1"}
    base.update(fields)
    return RowChange(entity="customer", id=cid, fields=base, hlc=dict.fromkeys(base, st(stamp_ms)), version=version)


def apply(ctx: AppContext, rows: list[RowChange], history: list[HistoryEntry] | None = None) -> None:
    with ctx.db.write() as s:
        apply_page(s, rows, history or [], now_ms=T0)


def search(ctx: AppContext, term: str) -> list[int]:
    with ctx.db.read() as s:
        return [r[0] for r in s.execute(text("SELECT rowid FROM customer_fts WHERE customer_fts MATCH :q"),
                                        {"q": f'"{term}"'})]


def test_new_rows_are_inserted_with_search_keys_and_sort_name(ctx: AppContext) -> None:
    cid = uuid7(T0)
    apply(ctx, [customer_row(cid, 1)])
    with ctx.db.read() as s:
        c = s.scalars(select(Customer).where(Customer.id == cid)).one()
        assert (c.name, c.sort_name, c.created_at) == ("张三", "zhangsan", T0 - 5000)
    assert search(ctx, "zhangsan") == [c.pk] and search(ctx, "138001") == [c.pk]


def test_pulled_customers_are_found_by_their_given_name(ctx: AppContext) -> None:
    apply(ctx, [customer_row(uuid7(T0), 1, name="王小明"), customer_row(uuid7(T0 + 1), 1, name="欧阳娜娜")])
    with ctx.db.read() as s:
        for query, name in (("小明", "王小明"), ("xm", "王小明"), ("娜娜", "欧阳娜娜"), ("nn", "欧阳娜娜")):
            pks = select_pks(s, ListSpec(store_id="s1", text=query))
            assert [r[2] for r in load_rows(s, pks).values()] == [name], query


def test_pending_local_edit_survives_an_older_server_row_and_other_fields_merge(ctx: AppContext) -> None:
    svc = CustomerService(ctx)
    cid = svc.create(CustomerInput(name="李四", phone="13900139000"))
    with ctx.db.read() as s:
        local = s.scalars(select(Customer).where(Customer.id == cid)).one()
        local_hlc = dict(local.field_hlc)
    # HQ's row: an older name (a write made before ours) and a newer note from another PC
    server = RowChange(entity="customer", id=cid,
                       fields={"name": "李四四", "notes": "喜欢蓝色", "store_id": "s1"},
                       hlc={"name": st(T0 - 10_000), "notes": st(T0 + 10_000), "store_id": local_hlc["store_id"]},
                       version=3)
    apply(ctx, [server])
    with ctx.db.read() as s:
        c = s.scalars(select(Customer).where(Customer.id == cid)).one()
        assert c.name == "李四" and c.notes == "喜欢蓝色"
        assert c.field_hlc["name"] == local_hlc["name"] and c.field_hlc["notes"] == st(T0 + 10_000)
        hist = s.execute(select(CustomerHistory.kind, CustomerHistory.field, CustomerHistory.old_value)
                         .where(CustomerHistory.customer_id == cid, CustomerHistory.kind == "conflict")).all()
        assert ("conflict", "name", "李四四") in hist  # the losing typing is kept
        assert s.scalar(select(Outbox.status).where(Outbox.entity_id == cid)) == "pending"  # still to push


def test_server_history_entries_are_kept_once(ctx: AppContext) -> None:
    cid = uuid7(T0)
    apply(ctx, [customer_row(cid, 1)])
    entry = HistoryEntry(customer_id=cid, field="notes", value="被覆盖的备注", hlc=st(T0 - 9), winner_hlc=st(T0))
    apply(ctx, [], [entry])
    apply(ctx, [], [entry])
    with ctx.db.read() as s:
        rows = s.scalars(select(CustomerHistory.old_value).where(CustomerHistory.customer_id == cid,
                                                                 CustomerHistory.field == "notes")).all()
    assert rows == ["被覆盖的备注"]


def test_tombstone_and_merge_remove_the_customer_from_search(ctx: AppContext) -> None:
    a, b = uuid7(T0), uuid7(T0 + 1)
    apply(ctx, [customer_row(a, 1, name="王五"), customer_row(b, 1, name="赵六", phone="+8613700137000")])
    dead = customer_row(a, 2, name="王五")
    dead.deleted_hlc = st(T0)
    apply(ctx, [dead])
    assert search(ctx, "wangwu") == []
    assert len(search(ctx, "zhaoliu")) == 1


def test_merged_customer_children_and_pending_outbox_rows_move_to_the_survivor(ctx: AppContext) -> None:
    survivor, loser = uuid7(T0 - 10), uuid7(T0)
    apply(ctx, [customer_row(survivor, 1, name="周七"), customer_row(loser, 1, name="周七七", phone="")])
    fu_id = uuid7(T0)
    with ctx.write() as w:  # a follow-up written locally on the record HQ is about to merge away
        row = FollowUp(id=fu_id, field_hlc={})
        w.apply("follow_up", row, {"store_id": "s1", "customer_id": loser, "guide_id": "g1", "kind": "call",
                                   "note": "回访", "at": T0}, new=True)
    merged = customer_row(loser, 2, name="周七七", phone="", merged_into=survivor)
    merged.hlc["merged_into"] = st(T0 + 5)
    apply(ctx, [merged])
    with ctx.db.read() as s:
        assert s.scalar(select(FollowUp.customer_id).where(FollowUp.id == fu_id)) == survivor
        pending = s.scalars(select(Outbox).where(Outbox.entity == "follow_up")).one()
        assert pending.fields["customer_id"] == survivor
    assert search(ctx, "zhouqiqi") == []


def test_customer_tag_active_follows_added_and_removed(ctx: AppContext) -> None:
    cid = uuid7(T0)
    apply(ctx, [customer_row(cid, 1)])
    gid, tid = uuid7(T0), uuid7(T0 + 1)
    ct_id = pair_id(cid, tid)
    tag = RowChange(entity="tag", id=tid, fields={"group_id": gid, "name": "VIP"}, hlc={"group_id": st(T0),
                    "name": st(T0)}, version=2)
    group = RowChange(entity="tag_group", id=gid, fields={"store_id": "s1", "scope": "store", "name": "等级"},
                      hlc={"store_id": st(T0), "scope": st(T0), "name": st(T0)}, version=5)
    added = st(T0 + 1)
    ct = RowChange(entity="customer_tag", id=ct_id,
                   fields={"store_id": "s1", "customer_id": cid, "tag_id": tid, "added_hlc": added},
                   hlc={"store_id": added, "customer_id": added, "tag_id": added, "added_hlc": added}, version=2)
    apply(ctx, [tag, ct])  # the tag arrives a page before its (later edited) group
    apply(ctx, [group])
    with ctx.db.read() as s:
        assert s.scalar(select(CustomerTag.active).where(CustomerTag.id == ct_id)) is True
        assert s.scalar(select(Tag.name).where(Tag.id == tid)) == "VIP"
    removed = st(T0 + 2, "other")
    ct2 = RowChange(entity="customer_tag", id=ct_id, fields={**ct.fields, "removed_hlc": added},
                    hlc={**ct.hlc, "removed_hlc": removed}, version=6)
    apply(ctx, [ct2])
    with ctx.db.read() as s:
        assert s.scalar(select(CustomerTag.active).where(CustomerTag.id == ct_id)) is False


def test_purchases_update_the_customer_totals(ctx: AppContext) -> None:
    cid = uuid7(T0)
    apply(ctx, [customer_row(cid, 1)])
    rows = [RowChange(entity="purchase", id=uuid7(T0 + i), version=2,
                      fields={"store_id": "s1", "customer_id": cid, "guide_id": "g1", "amount_cents": 1000 * i,
                              "items": "", "at": T0 + i, "origin": "hq"},
                      hlc=dict.fromkeys(("store_id", "customer_id", "guide_id", "amount_cents", "items", "at",
                                         "origin"), st(T0))) for i in (1, 2)]
    apply(ctx, rows)
    with ctx.db.read() as s:
        c = s.scalars(select(Customer).where(Customer.id == cid)).one()
        assert (c.total_spent_cents, c.order_count, c.last_purchase_at) == (3000, 2, T0 + 2)


def test_org_data_replaces_stores_and_guides(ctx: AppContext) -> None:
    with ctx.db.write() as s:
        apply_org(s, {"stores": [{"id": "s1", "name": "南京西路店", "region_id": "r1", "region_name": "华东"}],
                      "guides": [{"id": "g1", "store_id": "s1", "name": "小王", "role": "guide", "active": True},
                                 {"id": "g2", "store_id": "s1", "name": "小李", "role": "guide", "active": True}]})
    with ctx.db.write() as s:
        apply_org(s, {"stores": [{"id": "s1", "name": "南京西路店"}],
                      "guides": [{"id": "g1", "store_id": "s1", "name": "小王", "role": "store_manager",
                                  "active": True}]})
    with ctx.db.read() as s:
        assert s.get(Store, "s1").name == "南京西路店"  # type: ignore[union-attr]
        assert [(g.id, g.role, g.active) for g in s.scalars(select(Guide).order_by(Guide.id))] == [
            ("g1", "store_manager", True), ("g2", "guide", False)]
