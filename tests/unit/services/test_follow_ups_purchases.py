"""Follow-ups with reminders and the due list; purchases with the customer's derived totals."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from guide_app.db.models import Customer, Outbox, Purchase
from guide_app.domain.errors import UserError
from guide_app.services.context import Actor, AppContext
from guide_app.services.customer_query import CustomerQuery
from guide_app.services.customers import CustomerInput, CustomerService
from guide_app.services.follow_ups import FollowUpService
from guide_app.services.purchases import PurchaseService, format_cents, parse_amount, refresh_purchase_totals
from tests.unit.services.conftest import DAY, T0, FakeTime, add_customer

TODAY = dt.datetime.fromtimestamp(T0 / 1000).date()


def outbox(ctx: AppContext, entity: str) -> list[Outbox]:
    with ctx.read() as s:
        return list(s.scalars(select(Outbox).where(Outbox.entity == entity).order_by(Outbox.device_seq)))


def test_due_today_lists_due_and_overdue_open_reminders(ctx: AppContext, fake_time: FakeTime) -> None:
    f = FollowUpService(ctx)
    a, b, c = add_customer(ctx, "张三"), add_customer(ctx, "李四"), add_customer(ctx, "王五", owner_guide_id="g2")
    fake_time.ms = T0 - 5 * DAY
    overdue = f.add(a, "call", "问问面霜", next_at=TODAY - dt.timedelta(days=2))
    fake_time.ms = T0
    today = f.add(b, "message", "发新品", next_at=TODAY)
    f.add(a, "note", "只在周末联系", next_at=TODAY + dt.timedelta(days=1))  # future: not due
    f.add(b, "note", "肤质偏干")  # no reminder; a note does not close b's reminder
    other = f.add(c, "call", "", next_at=TODAY.isoformat())
    due = f.due_today(TODAY)
    assert [(r.id, r.customer_name) for r in due] == [(overdue, "张三"), (today, "李四"), (other, "王五")]
    assert due[0].next_at == (TODAY - dt.timedelta(days=2)).isoformat() and due[0].guide_id == "guide-1"
    assert [r.id for r in f.due_today(TODAY, mine_only=True)] == [overdue, today]
    f.mark_done(today)
    CustomerService(ctx).delete(c)
    assert [r.id for r in f.due_today(TODAY)] == [overdue]
    f.mark_done(today, done=False)
    assert len(f.due_today(TODAY)) == 2
    elsewhere = AppContext(ctx.db, Actor("g9", "store-9"))
    assert FollowUpService(elsewhere).due_today(TODAY) == []


def test_a_contact_closes_reminders_already_due_but_a_note_does_not(ctx: AppContext) -> None:
    f = FollowUpService(ctx)
    a = add_customer(ctx, "张三")
    first = f.add(a, "call", "约下周", next_at=TODAY)
    f.add(a, "note", "喜欢玫瑰香")
    assert [r.id for r in f.due_today(TODAY)] == [first]
    f.add(a, "message", "已发送优惠", next_at=TODAY + dt.timedelta(days=7))
    assert f.due_today(TODAY) == []
    assert len(f.due_today(TODAY + dt.timedelta(days=7))) == 1


def test_follow_up_validation_and_edit_rules(ctx: AppContext, fake_time: FakeTime) -> None:
    f = FollowUpService(ctx)
    a = add_customer(ctx, "张三")
    cases = [
        (lambda: f.add(a, "email", "x"), "followup.bad_kind"),
        (lambda: f.add(a, "note", "  "), "followup.note_required"),
        (lambda: f.add(a, "call", "x" * 4001), "followup.note_too_long"),
        (lambda: f.add(a, "call", "x", next_at="2026-02-30"), "followup.bad_date"),
        (lambda: f.add(a, "call", "x", next_at=TODAY - dt.timedelta(days=1)), "followup.reminder_in_past"),
        (lambda: f.add("nope", "call", "x"), "customer.not_found"),
        (lambda: f.mark_done("nope"), "followup.not_found"),
    ]
    for call, key in cases:
        with pytest.raises(UserError) as err:
            call()
        assert err.value.key == key
    fid = f.add(a, "call", "约到店", next_at=TODAY)
    f.mark_done(fid)
    assert f.edit(fid, "call", "约到店", TODAY) is False
    later = TODAY + dt.timedelta(days=3)
    assert f.edit(fid, "visit", "改为到店", later.isoformat()) is True
    rec = f.for_customer(a)[0]
    assert (rec.kind, rec.note, rec.next_at, rec.done) == ("visit", "改为到店", later.isoformat(), False)
    fake_time.ms += 10 * DAY  # the reminder now lies in the past; editing the note keeps it
    assert f.edit(fid, "visit", "补充说明", later.isoformat()) is True
    colleague = FollowUpService(AppContext(ctx.db, Actor("guide-2", "store-1")))
    with pytest.raises(UserError) as err:
        colleague.edit(fid, "call", "改", None)
    assert err.value.key == "followup.not_yours"
    with pytest.raises(UserError):
        colleague.delete(fid)
    colleague.mark_done(fid)  # anyone may tick a reminder off
    note_id = f.add(a, "note", "无提醒")
    with pytest.raises(UserError) as err:
        f.mark_done(note_id)
    assert err.value.key == "followup.no_reminder"
    manager = FollowUpService(AppContext(ctx.db, Actor("m1", "store-1", role="store_manager")))
    manager.delete(fid)
    assert [r.id for r in f.for_customer(a)] == [note_id]
    ops = outbox(ctx, "follow_up")
    assert len(ops) == 7 and ops[-1].deleted_hlc is not None and ops[-1].entity_id == fid


@pytest.mark.parametrize(("raw", "cents"), [
    ("1299", 129900), ("1,299.50", 129950), ("¥88.8", 8880), ("88元", 8800), ("￥ 0.01", 1), (" 12.00 ", 1200),
    ("RMB 50", 5000),
])
def test_parse_amount_accepts_what_a_guide_types(raw: str, cents: int) -> None:
    assert parse_amount(raw) == cents


@pytest.mark.parametrize(("raw", "key"), [
    ("", "purchase.amount_required"), ("abc", "purchase.bad_amount"), ("0", "purchase.amount_not_positive"),
    ("-5", "purchase.amount_not_positive"), ("1.005", "purchase.amount_precision"),
    ("99999999", "purchase.amount_too_large"), ("nan", "purchase.bad_amount"), ("inf", "purchase.bad_amount"),
    ("1e3.5", "purchase.bad_amount"),
])
def test_parse_amount_refusals(raw: str, key: str) -> None:
    with pytest.raises(UserError) as err:
        parse_amount(raw)
    assert err.value.key == key


def test_format_cents() -> None:
    assert format_cents(129950) == "1299.50" and format_cents(5) == "0.05" and format_cents(-150) == "-1.50"


def totals(ctx: AppContext, cid: str) -> tuple[int | None, int, int]:
    with ctx.read() as s:
        c = s.scalars(select(Customer).where(Customer.id == cid)).one()
        return c.last_purchase_at, c.total_spent_cents, c.order_count


def test_purchases_maintain_totals_and_stage(ctx: AppContext, fake_time: FakeTime) -> None:
    p = PurchaseService(ctx)
    a = add_customer(ctx, "张三")
    first = p.record(a, "100", "面霜", TODAY - dt.timedelta(days=100))
    noon = int(dt.datetime.combine(TODAY - dt.timedelta(days=100), dt.time(12)).timestamp() * 1000)
    assert totals(ctx, a) == (noon, 10000, 1)
    q = CustomerQuery(ctx)
    assert q.rows(q.ids())[0].stage == "sleeping"
    second = p.record(a, "58.5", "口红")  # today: the current time
    assert totals(ctx, a) == (T0, 15850, 2)
    assert q.rows(q.ids())[0].stage == "active"
    d = q.detail(a)
    assert [x.id for x in d.purchases] == [second, first] and d.purchases[0].amount_cents == 5850
    p.delete(second)
    assert totals(ctx, a) == (noon, 10000, 1)
    p.delete(first)
    assert totals(ctx, a) == (None, 0, 0)
    with pytest.raises(UserError) as err:
        p.delete(first)
    assert err.value.key == "purchase.not_found"
    ops = outbox(ctx, "purchase")
    assert len(ops) == 4 and ops[0].fields["amount_cents"] == 10000 and ops[0].fields["origin"] == "guide"
    assert [o.deleted_hlc is not None for o in ops] == [False, False, True, True]


def test_purchase_refusals_leave_nothing(ctx: AppContext) -> None:
    p = PurchaseService(ctx)
    a = add_customer(ctx, "张三")
    for call, key in [
        (lambda: p.record(a, "10", day=TODAY + dt.timedelta(days=1)), "purchase.future_date"),
        (lambda: p.record(a, "10", day="2026-13-01"), "purchase.bad_date"),
        (lambda: p.record(a, "10", items="x" * 2001), "purchase.items_too_long"),
        (lambda: p.record("nope", "10"), "customer.not_found"),
    ]:
        with pytest.raises(UserError) as err:
            call()
        assert err.value.key == key
    assert outbox(ctx, "purchase") == [] and totals(ctx, a) == (None, 0, 0)


def test_till_purchases_from_hq_are_read_only_and_refresh_helper(ctx: AppContext) -> None:
    a = add_customer(ctx, "张三")
    with ctx.db.write() as s:  # as the sync engine applies a pulled purchase
        s.add(Purchase(id="hq-1", store_id="store-1", customer_id=a, amount_cents=39900, items="香水",
                       at=T0 - DAY, origin="hq", field_hlc={}))
        s.flush()
        refresh_purchase_totals(s, a)
    assert totals(ctx, a) == (T0 - DAY, 39900, 1)
    with pytest.raises(UserError) as err:
        PurchaseService(ctx).delete("hq-1")
    assert err.value.key == "purchase.hq_read_only"


def test_detail_collects_follow_ups_purchases_and_history_newest_first(ctx: AppContext,
                                                                       fake_time: FakeTime) -> None:
    a = add_customer(ctx, "张三", "13812345678")
    f = FollowUpService(ctx)
    first = f.add(a, "call", "一")
    fake_time.ms += 1000
    second = f.add(a, "visit", "二")
    fake_time.ms += 1000
    CustomerService(ctx).update(a, _input(ctx, a, notes="新备注"))
    d = CustomerQuery(ctx).detail(a)
    assert [x.id for x in d.follow_ups] == [second, first] and d.follow_ups[0].customer_name == "张三"
    assert d.history[0].kind == "edit" and d.history[0].field == "notes" and d.history[-1].kind == "create"
    assert d.notes == "新备注" and d.stage == "new" and d.manual_stage == ""


def _input(ctx: AppContext, cid: str, **changes: str) -> CustomerInput:
    data = CustomerInput.from_customer(CustomerService(ctx).get(cid))
    for k, v in changes.items():
        setattr(data, k, v)
    return data


def test_merged_customer_writes_land_on_the_survivor(ctx: AppContext) -> None:
    a, b = add_customer(ctx, "张三", "13812345678"), add_customer(ctx, "张三(重复)")
    with ctx.db.write() as s:
        s.execute(text("UPDATE customer SET merged_into = :a WHERE id = :b"), {"a": a, "b": b})
    PurchaseService(ctx).record(b, "10")
    assert totals(ctx, a)[2] == 1 and totals(ctx, b)[2] == 0
    assert CustomerQuery(ctx).detail(b).id == a
