"""Masking, reveal and export rules, the audit log, and consent with opt-out winning."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from guide_app.db.models import AuditLog, Outbox
from guide_app.db.state import set_setting
from guide_app.domain.errors import UserError
from guide_app.services.audit import AuditService
from guide_app.services.consent import ConsentService
from guide_app.services.context import Actor, AppContext
from guide_app.services.customer_query import CustomerFilter, CustomerQuery
from guide_app.services.exporter import export_customers
from guide_app.services.follow_ups import FollowUpService
from guide_app.services.privacy import EXPORT_LIMIT_KEY, PrivacyService, masked
from guide_app.services.sync_apply import apply_org
from tests.unit.services.conftest import add_customer

MANAGER = Actor("mgr-1", "store-1", role="store_manager", name="陈店长")


def manager(ctx: AppContext) -> AppContext:
    return AppContext(ctx.db, MANAGER, now_ms=ctx._now)


def audit(ctx: AppContext) -> list[tuple[str, str, str]]:
    with ctx.read() as s:
        return [(a.actor_id, a.action, a.target) for a in s.scalars(select(AuditLog).order_by(AuditLog.pk))]


def test_search_by_digits_finds_but_shows_the_mask_and_reveal_is_audited(ctx: AppContext) -> None:
    cid = add_customer(ctx, "王芳", "13912345678")
    query = CustomerQuery(ctx)
    rows = query.rows(query.ids(CustomerFilter(text="2345")))
    assert [r.id for r in rows] == [cid]
    privacy = PrivacyService(ctx)
    assert masked(rows[0].phone) == "139****5678"
    assert audit(ctx) == []
    assert privacy.reveal_phone(cid) == "13912345678"
    assert privacy.copy_phone(cid) == "13912345678"
    assert audit(ctx) == [("guide-1", "reveal_phone", cid), ("guide-1", "copy_phone", cid)]
    with ctx.read() as s:  # each entry goes up to HQ through the outbox
        assert s.scalars(select(Outbox.entity).where(Outbox.entity == "audit_log")).all() == ["audit_log"] * 2


def test_a_guide_cannot_export_and_the_refusal_is_logged(ctx: AppContext, tmp_path: Path) -> None:
    add_customer(ctx, "王芳", "13912345678")
    pks = CustomerQuery(ctx).ids()
    with pytest.raises(UserError) as exc:
        export_customers(ctx, pks, tmp_path / "book.csv")
    assert exc.value.key == "security.export.managers_only"
    assert not (tmp_path / "book.csv").exists()
    assert audit(ctx) == [("guide-1", "export_refused", "")]
    with pytest.raises(UserError) as exc:
        AuditService(ctx).entries()  # a guide cannot read the log
    assert exc.value.key == "security.audit.managers_only"


def test_manager_export_is_audited_limited_per_day_and_leaves_opt_outs_out(ctx: AppContext, tmp_path: Path) -> None:
    ids = [add_customer(ctx, n, p) for n, p in (("王芳", "13912345678"), ("李娜", "13912345679"),
                                                 ("张伟", "13912345670"))]
    ConsentService(ctx).record(ids[1], {"sms": "opted_out"})
    mgr = manager(ctx)
    with ctx.db.write() as s:
        apply_org(s, {"stores": [], "export_daily_limit": 4})  # HQ's limit arrives with the org data
    pks = CustomerQuery(mgr).ids()
    result = export_customers(mgr, pks, tmp_path / "a.csv", lang="zh_CN")
    with (tmp_path / "a.csv").open(encoding="utf-8-sig", newline="") as fh:
        names = [r[0] for r in list(csv.reader(fh))[1:]]
    assert result.rows == 2 and sorted(names) == ["张伟", "王芳"]  # 李娜 opted out of SMS
    entries = AuditService(mgr).entries(action="export")
    assert [(e.actor_id, e.detail["rows"], e.detail["format"]) for e in entries] == [("mgr-1", 2, "csv")]
    assert PrivacyService(mgr).export_allowance() == 2
    with pytest.raises(UserError) as exc:
        export_customers(mgr, pks, tmp_path / "b.csv")
    assert exc.value.key == "security.export.over_limit" and exc.value.params["left"] == 2
    with ctx.db.write() as s:
        set_setting(s, EXPORT_LIMIT_KEY, 100)
    assert export_customers(mgr, pks[-1:], tmp_path / "c.xlsx").rows == 1


def test_consent_records_how_and_by_whom_and_opt_out_is_final(ctx: AppContext) -> None:
    cid = add_customer(ctx, "王芳", "13912345678")
    consent = ConsentService(ctx)
    assert consent.record(cid, {"sms": "granted", "wechat": "granted"}, "form") == ["sms", "wechat"]
    assert consent.record(cid, {"sms": "granted"}) == []  # nothing new: nothing logged
    assert consent.opt_out_everywhere(cid) == ["phone", "sms", "wechat"]
    with pytest.raises(UserError) as exc:
        consent.record(cid, {"sms": "granted"})
    assert exc.value.key == "security.consent.opt_out_is_final"
    for bad in ({"fax": "granted"}, {"sms": "maybe"}):
        with pytest.raises(UserError):
            consent.record(cid, bad)
    with pytest.raises(UserError):
        consent.record(cid, {"sms": "granted"}, "telepathy")
    events = consent.events(cid)
    assert {(e.channel, e.value, e.method) for e in events} == {
        ("sms", "granted", "form"), ("wechat", "granted", "form"),
        ("phone", "opted_out", "counter"), ("sms", "opted_out", "counter"), ("wechat", "opted_out", "counter")}
    assert all(e.at and e.by_guide_id == "guide-1" for e in events)
    detail = CustomerQuery(ctx).detail(cid)
    assert (detail.consent_phone, detail.consent_sms, detail.consent_wechat) == ("opted_out",) * 3


def test_the_client_offers_no_way_to_edit_or_clear_the_audit_log() -> None:
    import guide_app.services.audit as audit_module

    public = {n for n in dir(audit_module.AuditService) if not n.startswith("_")}
    assert public == {"entries", "count"}


def test_the_store_can_show_guides_only_their_own_customers(ctx: AppContext) -> None:
    mine = add_customer(ctx, "王芳", "13912345678")
    colleague = AppContext(ctx.db, Actor("guide-2", "store-1", name="小李"), now_ms=ctx._now)
    theirs = add_customer(colleague, "李娜", "13912345679")
    query = CustomerQuery(ctx)
    assert len(query.ids()) == 2  # by default the store's book is shared
    with ctx.db.write() as s:
        apply_org(s, {"stores": [], "book_visibility": "own"})  # the store decided so at HQ
    assert [r.id for r in query.rows(query.ids())] == [mine]
    assert query.ids(CustomerFilter(text="李娜")) == []  # search does not reach past it either
    with pytest.raises(UserError) as exc:
        query.detail(theirs)
    assert exc.value.key == "security.book.not_yours"
    assert len(CustomerQuery(manager(ctx)).ids()) == 2  # managers see the whole book
    FollowUpService(colleague).add(theirs, "call", "回访", next_at="2026-03-10")
    FollowUpService(ctx).add(mine, "call", "回访", next_at="2026-03-10")
    due = FollowUpService(ctx).due_today(dt.date(2026, 3, 10))  # the store's due list, as the view asks
    assert [f.customer_id for f in due] == [mine]
