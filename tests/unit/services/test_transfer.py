"""离职继承 / 在职转接: counts, re-pointed records, history, audit, refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from guide_app.db.models import AcquisitionCode, AuditLog, CampaignTask, CustomerHistory, Guide, Outbox
from guide_app.domain.errors import UserError
from guide_app.domain.ids import uuid7
from guide_app.services.context import Actor, AppContext
from guide_app.services.customer_query import CustomerQuery
from guide_app.services.transfer import TransferService, split_evenly
from tests.unit.services.conftest import add_customer

MANAGER = Actor("mgr-1", "store-1", role="store_manager", name="陈店长")


@pytest.fixture()
def store(ctx: AppContext) -> AppContext:
    with ctx.db.write() as s:
        for gid, name, store_id, active in (("guide-1", "小王", "store-1", False), ("guide-2", "小李", "store-1", True),
                                            ("guide-3", "小张", "store-1", True), ("mgr-1", "陈店长", "store-1", True),
                                            ("far-1", "外店导购", "store-2", True)):
            s.add(Guide(id=gid, store_id=store_id, name=name, role="guide", active=active))
    return ctx


def manager(ctx: AppContext) -> AppContext:
    return AppContext(ctx.db, MANAGER, now_ms=ctx._now)


def add_task(ctx: AppContext, customer_id: str, status: str = "open") -> str:
    with ctx.write() as w:
        row = CampaignTask(id=uuid7(), field_hlc={})
        w.apply("campaign_task", row, {"store_id": "store-1", "pack_id": "p1", "task_id": "t1",
                                       "customer_id": customer_id, "guide_id": "guide-1", "status": status,
                                       "outcome": "", "note": "", "done_at": None}, new=True)
        return row.id


def add_code(ctx: AppContext) -> str:
    with ctx.write() as w:
        row = AcquisitionCode(id=uuid7(), field_hlc={})
        w.apply("acquisition_code", row, {"store_id": "store-1", "guide_id": "guide-1", "code": "abc123xyz",
                                          "label": "门口", "channel": "counter", "campaign_id": "",
                                          "auto_tag_ids": [], "welcome_text": "", "expires_at": None,
                                          "disabled": False, "logo": ""}, new=True)
        return row.id


def test_split_evenly_differs_by_at_most_one() -> None:
    split = split_evenly([f"c{i}" for i in range(7)], ["a", "b", "c"])
    assert sorted(list(split.values()).count(g) for g in "abc") == [2, 2, 3]


def test_a_departed_guides_whole_book_goes_evenly_with_tasks_codes_and_history(store: AppContext) -> None:
    ids = [add_customer(store, n, f"1391234567{i}") for i, n in enumerate(("王芳", "李娜", "张伟", "刘洋", "陈静"))]
    open_task, done_task = add_task(store, ids[0]), add_task(store, ids[1], status="done")
    code = add_code(store)
    svc = TransferService(manager(store))
    assert svc.departed_with_customers() == [("guide-1", "小王", 5)]  # HQ disabled 小王: ask the manager
    result = svc.transfer_evenly("guide-1", None, ["guide-2", "guide-3"], "小王离职，客户交给小李和小张")
    assert (result.customers, result.per_guide, result.tasks) == (5, {"guide-2": 3, "guide-3": 2}, 1)
    assert svc.customers_of("guide-1") == [] and svc.departed_with_customers() == []
    assert len(svc.customers_of("guide-2")) == 3 and len(svc.customers_of("guide-3")) == 2
    with store.read() as s:
        tasks = {t.id: t.guide_id for t in s.scalars(select(CampaignTask))}
        assert tasks[done_task] == "guide-1"  # done work stays with who did it
        assert tasks[open_task] in ("guide-2", "guide-3")
        # a printed code stays with its guide (HQ refuses to re-point one); the source stays history
        assert s.scalars(select(AcquisitionCode.guide_id).where(AcquisitionCode.id == code)).one() == "guide-1"
        hist = s.scalars(select(CustomerHistory).where(CustomerHistory.customer_id == ids[0],
                                                       CustomerHistory.kind == "transfer")).all()
        assert {(h.field, h.old_value, h.by_guide_id) for h in hist} == {
            ("owner_guide_id", "guide-1", "mgr-1"), ("handover_note", None, "mgr-1")}
        entry = s.scalars(select(AuditLog).where(AuditLog.action == "transfer")).one()
        assert entry.target == "guide-1" and entry.detail["customers"] == 5
        # owner changes go up to HQ as plain field writes: HQ's ledger never counts them as new
        owner_writes = s.scalars(select(Outbox).where(Outbox.entity == "customer")).all()
        assert sum(1 for o in owner_writes if set(o.fields) == {"owner_guide_id"}) == 5
    detail = CustomerQuery(store).detail(ids[0])
    assert detail.history[0].kind == "transfer"


def test_a_selection_by_hand_and_the_refusals(store: AppContext) -> None:
    ids = [add_customer(store, n, f"1391234567{i}") for i, n in enumerate(("王芳", "李娜", "张伟"))]
    svc = TransferService(manager(store))
    with pytest.raises(UserError) as exc:
        svc.transfer("guide-1", {ids[0]: "far-1"})
    assert exc.value.key == "security.transfer.other_store" and exc.value.params["name"] == "外店导购"
    with pytest.raises(UserError) as exc:
        svc.transfer("guide-1", {ids[0]: "guide-1"})
    assert exc.value.key in ("security.transfer.inactive_guide", "security.transfer.same_guide")
    with pytest.raises(UserError) as exc:
        svc.transfer("guide-2", {ids[0]: "guide-3"})  # not 小李's customer
    assert exc.value.key == "security.transfer.not_their_customer"
    with pytest.raises(UserError) as exc:
        TransferService(store).transfer("guide-1", {ids[0]: "guide-2"})  # a guide cannot
    assert exc.value.key == "security.transfer.managers_only"
    assert svc.customers_of("guide-1") == sorted(ids, key=lambda c: svc.customers_of("guide-1").index(c))
    result = svc.transfer("guide-1", {ids[0]: "guide-2", ids[2]: "guide-3"}, "")
    assert result.per_guide == {"guide-2": 1, "guide-3": 1}
    assert svc.customers_of("guide-1") == [ids[1]]  # the rest stays
