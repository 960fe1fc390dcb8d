"""Tag groups, tags and assignments: validation, scopes, single-select, add-wins stamps, outbox."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from guide_app.db.models import CustomerTag, Outbox, Tag, TagGroup
from guide_app.domain.errors import UserError
from guide_app.domain.ids import pair_id
from guide_app.domain.merge import merge_row, tag_active
from guide_app.services.context import Actor, AppContext
from guide_app.services.customer_query import CustomerQuery
from guide_app.services.customers import CustomerService
from guide_app.services.tags import TagService
from tests.unit.services.conftest import add_customer


def outbox_rows(ctx: AppContext) -> list[Outbox]:
    with ctx.read() as s:
        return list(s.scalars(select(Outbox).order_by(Outbox.device_seq)))


def add_corp_group(ctx: AppContext) -> tuple[str, str]:
    """A corp group as sync would write it (HQ-owned, store_id empty)."""
    with ctx.db.write() as s:
        s.add(TagGroup(id="corp-g", store_id="", scope="corp", name="客户等级", color="#aa0000", multi=False,
                       field_hlc={}))
        s.flush()
        s.add(Tag(id="corp-gold", group_id="corp-g", name="金卡", field_hlc={}))
        s.add(Tag(id="corp-silver", group_id="corp-g", name="银卡", sort_order=1, field_hlc={}))
    return "corp-g", "corp-gold"


def test_groups_and_tags_crud_with_outbox(ctx: AppContext) -> None:
    t = TagService(ctx)
    g = t.create_group(" 兴趣 偏好 ", color="#FF8800")
    a = t.create_tag(g, "护肤")
    b = t.create_tag(g, "彩妆")
    assert t.rename_tag(a, "护肤品") is True
    assert t.rename_tag(a, "护肤品") is False
    t.reorder_tags(g, [b, a])
    t.update_group(g, color="#00aa00", multi=False)
    t.delete_tag(b)
    groups = t.groups()
    assert [(x.name, x.color, x.multi, x.scope) for x in groups] == [("兴趣 偏好", "#00aa00", False, "store")]
    assert [x.name for x in groups[0].tags] == ["护肤品"]
    ops = [(o.entity, sorted(o.fields), o.deleted_hlc is not None) for o in outbox_rows(ctx)]
    assert ops == [
        ("tag_group", ["color", "multi", "name", "owner_guide_id", "scope", "sort_order", "store_id"], False),
        ("tag", ["group_id", "name", "sort_order"], False),
        ("tag", ["group_id", "name", "sort_order"], False),
        ("tag", ["name"], False),
        ("tag", ["sort_order"], False),
        ("tag", ["sort_order"], False),
        ("tag_group", ["color", "multi"], False),
        ("tag", [], True),
    ]
    t.delete_group(g)
    assert t.groups() == []
    assert [o.entity for o in outbox_rows(ctx)[-2:]] == ["tag", "tag_group"]


def test_validation_errors_have_keys(ctx: AppContext) -> None:
    t = TagService(ctx)
    g = t.create_group("等级")
    t.create_tag(g, "金卡")
    cases = [
        (lambda: t.create_group("  "), "tags.group_name_required"),
        (lambda: t.create_group("x" * 41), "tags.group_name_too_long"),
        (lambda: t.create_group("等级"), "tags.group_name_taken"),
        (lambda: t.create_group("颜色", color="red"), "tags.bad_color"),
        (lambda: t.create_group("颜色", scope="region"), "tags.bad_scope"),
        (lambda: t.create_tag(g, ""), "tags.tag_name_required"),
        (lambda: t.create_tag(g, "金卡"), "tags.tag_name_taken"),
        (lambda: t.create_tag(g, "y" * 41), "tags.tag_name_too_long"),
        (lambda: t.create_tag("nope", "x"), "tags.group_not_found"),
        (lambda: t.assign([], "nope"), "tags.tag_not_found"),
    ]
    for call, key in cases:
        with pytest.raises(UserError) as err:
            call()
        assert err.value.key == key
    assert len(t.groups()) == 1 and len(t.groups()[0].tags) == 1


def test_corp_groups_are_read_only_but_assignable(ctx: AppContext) -> None:
    gid, gold = add_corp_group(ctx)
    t = TagService(ctx)
    before = len(outbox_rows(ctx))
    refusals = [
        lambda: t.create_group("总部", scope="corp"),
        lambda: t.update_group(gid, name="改名"),
        lambda: t.reorder_groups([gid]),
        lambda: t.delete_group(gid),
        lambda: t.create_tag(gid, "铂金"),
        lambda: t.rename_tag(gold, "黄金"),
        lambda: t.reorder_tags(gid, [gold]),
        lambda: t.delete_tag(gold),
    ]
    for call in refusals:
        with pytest.raises(UserError) as err:
            call()
        assert err.value.key == "tags.corp_read_only"
    assert "客户等级" in str(err.value)
    assert len(outbox_rows(ctx)) == before
    cid = add_customer(ctx, "张三")
    assert t.assign([cid], gold) == 1
    info = t.groups()[0]
    assert info.read_only and info.tags[0].customer_count == 1


def test_single_select_group_replaces_the_other_tag(ctx: AppContext) -> None:
    _gid, gold = add_corp_group(ctx)
    t = TagService(ctx)
    a, b = add_customer(ctx, "张三"), add_customer(ctx, "李四")
    t.assign([a, b], gold)
    assert t.assign([a], "corp-silver") == 1
    assert set(t.tags_of(a)) == {"corp-silver"} and set(t.tags_of(b)) == {gold}
    with pytest.raises(UserError) as err:
        t.set_tags(a, [gold, "corp-silver"])
    assert err.value.key == "tags.single_select"
    assert set(t.tags_of(a)) == {"corp-silver"}  # refused as a whole
    multi = t.create_group("偏好")
    x, y = t.create_tag(multi, "护肤"), t.create_tag(multi, "香水")
    t.assign([a], x)
    t.assign([a], y)
    assert set(t.tags_of(a)) == {"corp-silver", x, y}
    t.set_tags(a, [gold, y])
    assert set(t.tags_of(a)) == {gold, y}


def test_assignment_stamps_follow_the_add_wins_rules(ctx: AppContext) -> None:
    t = TagService(ctx)
    g = t.create_group("偏好")
    tag = t.create_tag(g, "护肤")
    cid = add_customer(ctx, "张三")
    assert t.assign([cid], tag) == 1
    assert t.assign([cid], tag) == 0  # already there: no write
    with ctx.read() as s:
        row = s.scalars(select(CustomerTag)).one()
        first_add = row.added_hlc
    assert row.id == pair_id(cid, tag) and row.active and row.removed_hlc is None
    assert t.unassign([cid], tag) == 1
    assert t.unassign([cid], tag) == 0
    with ctx.read() as s:
        row = s.scalars(select(CustomerTag)).one()
    assert row.removed_hlc == first_add and not row.active  # removal records the add it observed
    # an add made on another PC that this PC never saw survives the removal when merged
    remote_add = "9999999999999-0000-remotepc"
    merged = merge_row("customer_tag", {"added_hlc": row.added_hlc, "removed_hlc": row.removed_hlc},
                       row.field_hlc, {"added_hlc": remote_add}, {"added_hlc": remote_add})
    assert tag_active(merged.values["added_hlc"], merged.values["removed_hlc"])
    t.assign([cid], tag)
    with ctx.read() as s:
        row = s.scalars(select(CustomerTag)).one()
    assert row.active and tag_active(row.added_hlc, row.removed_hlc) and row.removed_hlc is not None
    tag_ops = [o for o in outbox_rows(ctx) if o.entity == "customer_tag"]
    assert [sorted(o.fields) for o in tag_ops] == [
        ["added_hlc", "customer_id", "removed_hlc", "store_id", "tag_id"], ["removed_hlc"], ["added_hlc"]]
    assert all(o.entity_id == pair_id(cid, tag) for o in tag_ops)


def test_bulk_assign_is_one_transaction(ctx: AppContext) -> None:
    t = TagService(ctx)
    tag = t.create_tag(t.create_group("偏好"), "护肤")
    ids = [add_customer(ctx, f"客户{i}") for i in range(5)]
    CustomerService(ctx).delete(ids[3])
    with pytest.raises(UserError) as err:
        t.assign(ids, tag)
    assert err.value.key == "customer.deleted"
    with ctx.read() as s:
        assert s.scalar(select(func.count()).select_from(CustomerTag)) == 0
    live = ids[:3] + ids[4:]
    assert t.assign(live + live[:1], tag) == 4
    assert t.groups()[0].tags[0].customer_count == 4
    assert t.unassign(live[:2], tag) == 2
    assert t.groups()[0].tags[0].customer_count == 2


def test_personal_groups_are_seen_only_by_their_owner(ctx: AppContext) -> None:
    mine = TagService(ctx)
    g = mine.create_group("我的VIP", scope="personal", color="#123456")
    tag = mine.create_tag(g, "重点")
    cid = add_customer(ctx, "张三")
    mine.assign([cid], tag)
    colleague_ctx = AppContext(ctx.db, Actor("guide-2", "store-1"))
    colleague = TagService(colleague_ctx)
    assert colleague.groups() == []
    colleague.create_group("我的VIP", scope="personal")  # names are per owner
    for call in (lambda: colleague.create_tag(g, "x"), lambda: colleague.delete_group(g),
                 lambda: colleague.assign([cid], tag)):
        with pytest.raises(UserError) as err:
            call()
        assert err.value.key in ("tags.group_not_found", "tags.tag_not_found")
    q = CustomerQuery(colleague_ctx)
    assert q.rows(q.ids())[0].tags == []
    q = CustomerQuery(ctx)
    assert q.rows(q.ids())[0].tags == [("重点", "#123456")]


def test_counts_ignore_deleted_customers_and_other_stores(ctx: AppContext) -> None:
    t = TagService(ctx)
    tag = t.create_tag(t.create_group("偏好"), "护肤")
    a, b = add_customer(ctx, "张三"), add_customer(ctx, "李四")
    t.assign([a, b], tag)
    CustomerService(ctx).delete(b)
    assert t.groups()[0].tags[0].customer_count == 1
    other_ctx = AppContext(ctx.db, Actor("g9", "store-9"))
    other = TagService(other_ctx)
    assert other.groups() == []
    with pytest.raises(UserError):
        other.assign([a], tag)
    _gid, gold = add_corp_group(ctx)  # corp tags are shared by every store's book
    t.assign([a], gold)
    other.assign([add_customer(other_ctx, "赵六"), add_customer(other_ctx, "钱七")], gold)
    mine = {x.name: x.customer_count for g in t.groups() for x in g.tags}
    theirs = {x.name: x.customer_count for g in other.groups() for x in g.tags}
    assert mine["金卡"] == 1 and theirs["金卡"] == 2 and "护肤" not in theirs


def test_reorder_groups(ctx: AppContext) -> None:
    t = TagService(ctx)
    a, b, c = (t.create_group(n) for n in ("甲", "乙", "丙"))
    t.reorder_groups([c, a, b])
    assert [g.name for g in t.groups()] == ["丙", "甲", "乙"]
