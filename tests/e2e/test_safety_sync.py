"""Shared-PC safety across PCs and HQ: an erase reaches HQ and every PC and an offline PC's old data
cannot bring it back; an opt-out on one PC beats an opt-in made offline on another."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from guide_app.db.models import Customer, CustomerHistory, FollowUp, Outbox
from guide_app.services.consent import ConsentService
from guide_app.services.customer_query import CustomerFilter, CustomerQuery
from guide_app.services.erase import EraseService
from guide_app.services.follow_ups import FollowUpService
from guide_app.services.org import GuideInfo, OrgService
from hq.models import CustomerHistory as HqHistory
from hq.models import SyncRow
from tests.e2e.clients import PC
from tests.e2e.hq_process import HQProcess

pytestmark = pytest.mark.e2e


def hq_rows(hq: HQProcess, entity: str, row_id: str | None = None) -> list[SyncRow]:
    engine = create_engine(hq.db_url)
    try:
        with Session(engine) as s:
            stmt = select(SyncRow).where(SyncRow.entity == entity)
            if row_id:
                stmt = stmt.where(SyncRow.id == row_id)
            rows = list(s.scalars(stmt))
            s.expunge_all()
            return rows
    finally:
        engine.dispose()


def hq_history(hq: HQProcess, customer_id: str) -> list[object]:
    engine = create_engine(hq.db_url)
    try:
        with Session(engine) as s:
            return [h.value for h in s.scalars(select(HqHistory).where(HqHistory.customer_id == customer_id))]
    finally:
        engine.dispose()


def local_traces(pc: PC, customer_id: str) -> dict[str, object]:
    with pc.db.read() as s:
        c = s.scalars(select(Customer).where(Customer.id == customer_id)).one()
        return {
            "row": (c.name, c.phone, c.wechat_id, c.notes, c.erased, c.deleted_hlc is not None),
            "history": s.scalars(select(CustomerHistory.old_value).where(
                CustomerHistory.customer_id == customer_id)).all(),
            "follow_up_notes": s.scalars(select(FollowUp.note).where(FollowUp.customer_id == customer_id)).all(),
            "found_by_name": CustomerQuery(pc.ctx).ids(CustomerFilter(text="贾宝玉")),
        }


WIPED_ROW = ("", "", "", "", True, True)


def test_erasure_reaches_hq_and_every_pc_and_an_offline_pc_cannot_bring_it_back(
        hq: HQProcess, tmp_path: Path, pcs: list[object]) -> None:
    manager = PC(tmp_path / "m.db", hq.url, "sh01.manager")
    guide = PC(tmp_path / "g.db", hq.url, "sh01.guide1")
    # the offline PC's clock runs two minutes ahead: its stale edit is stamped after the erase
    offline = PC(tmp_path / "o.db", hq.url, "sh01.guide2", clock_skew_ms=120_000)
    pcs.extend([manager, guide, offline])
    cid = guide.create("贾宝玉", "13700001111", wechat_id="jby1111", notes="怡红院")
    FollowUpService(guide.ctx).add(cid, "call", "聊了新款")
    guide.edit(cid, notes="喜欢红色")
    for pc in (guide, manager, offline):
        pc.sync()
    assert local_traces(offline, cid)["row"] == ("贾宝玉", "+8613700001111", "jby1111", "喜欢红色", False, False)

    offline.edit(cid, notes="离线时写的备注")  # not synced yet
    EraseService(manager.ctx).erase(cid, "顾客到店要求删除")
    assert local_traces(manager, cid)["row"] == WIPED_ROW
    manager.sync()

    hq_customer = hq_rows(hq, "customer", cid)[0]
    assert hq_customer.data["erased"] is True and hq_customer.deleted_hlc is not None
    assert all(hq_customer.data[k] == "" for k in ("name", "phone", "wechat_id", "notes"))
    assert hq_history(hq, cid) == []  # the losing values HQ kept are gone too
    assert any(r.data.get("action") == "erase" and r.data.get("target") == cid for r in hq_rows(hq, "audit_log"))

    guide.sync()
    traces = local_traces(guide, cid)
    assert traces["row"] == WIPED_ROW and traces["history"] == [] and traces["found_by_name"] == []
    assert traces["follow_up_notes"] == [""]

    offline.sync()  # pushes its stale edit, then pulls the erase
    with offline.db.read() as s:
        refused = s.scalars(select(Outbox).where(Outbox.status == "rejected")).all()
        assert [r.reject_code for r in refused] == ["erased"]
        assert all("离线" not in str(r.fields) for r in s.scalars(select(Outbox)))
    assert local_traces(offline, cid)["row"] == WIPED_ROW
    assert local_traces(offline, cid)["history"] == []

    for pc in (manager, guide, offline):
        pc.sync()
    hq_customer = hq_rows(hq, "customer", cid)[0]
    assert hq_customer.data["notes"] == "" and hq_customer.data["name"] == "" and hq_customer.lookup == ""
    for pc in (manager, guide, offline):
        assert local_traces(pc, cid)["row"] == WIPED_ROW


def test_an_opt_out_on_one_pc_wins_over_an_opt_in_made_offline_on_another(
        hq: HQProcess, tmp_path: Path, pcs: list[object]) -> None:
    a = PC(tmp_path / "a.db", hq.url, "hz01.guide1")
    b = PC(tmp_path / "b.db", hq.url, "hz01.guide2", clock_skew_ms=60_000)  # b's grant is stamped later
    pcs.extend([a, b])
    cid = a.create("林黛玉", "13700002222")
    a.sync()
    b.sync()
    ConsentService(a.ctx).record(cid, {"sms": "opted_out"}, "counter")
    ConsentService(b.ctx).record(cid, {"sms": "granted", "wechat": "granted"}, "form")  # offline
    for pc in (a, b, a):
        pc.sync()
    assert a.customer(cid).consent_sms == b.customer(cid).consent_sms == "opted_out"
    assert a.customer(cid).consent_wechat == b.customer(cid).consent_wechat == "granted"
    assert hq_rows(hq, "customer", cid)[0].data["consent_sms"] == "opted_out"
    consent_entries = [r.data for r in hq_rows(hq, "audit_log")
                       if r.data.get("action") == "consent" and r.data.get("target") == cid]
    assert {(e["detail"]["channel"], e["detail"]["value"], e["detail"]["method"]) for e in consent_entries} == {
        ("sms", "opted_out", "counter"), ("sms", "granted", "form"), ("wechat", "granted", "form")}


def test_a_transfer_reaches_hq_and_the_boards_keep_the_customer_with_its_first_guide(
        hq: HQProcess, tmp_path: Path, pcs: list[object]) -> None:
    from guide_app.services.transfer import TransferService
    from hq.models import LedgerItem

    guide = PC(tmp_path / "g.db", hq.url, "gz01.guide1")
    manager = PC(tmp_path / "m.db", hq.url, "gz01.manager")
    pcs.extend([guide, manager])
    cid = guide.create("薛宝钗", "13700003333")
    guide.sync()
    manager.sync()
    first = guide.ctx.actor.guide_id
    receivers = [g.id for g in manager_guides(manager) if g.id not in (first, manager.ctx.actor.guide_id)]
    result = TransferService(manager.ctx).transfer(first, {cid: receivers[0]}, "调岗交接")
    assert result.customers == 1
    manager.sync()
    guide.sync()
    assert hq_rows(hq, "customer", cid)[0].data["owner_guide_id"] == receivers[0]
    assert guide.customer(cid).owner_guide_id == receivers[0]
    engine = create_engine(hq.db_url)
    try:
        with Session(engine) as s:
            item = s.get(LedgerItem, ("customer", cid))
            assert item is not None and item.guide_id == first  # new for the guide who brought them, only
            assert item.counts.get("new_customers") == 1
    finally:
        engine.dispose()


def manager_guides(pc: PC) -> list[GuideInfo]:
    return OrgService(pc.ctx).guides()
