"""Erase on request: managers only; personal fields, history, search keys, child texts and unsent
writes are wiped; a tombstone and one audit entry remain."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from guide_app.db.models import AuditLog, Customer, CustomerHistory, FollowUp, Outbox
from guide_app.domain.errors import UserError
from guide_app.services.context import Actor, AppContext
from guide_app.services.customer_query import CustomerFilter, CustomerQuery
from guide_app.services.erase import EraseService
from guide_app.services.follow_ups import FollowUpService
from guide_app.services.purchases import PurchaseService
from guide_app.services.tags import TagService
from tests.unit.services.conftest import add_customer

MANAGER = Actor("mgr-1", "store-1", role="store_manager", name="陈店长")


def test_erase_wipes_everything_personal_and_keeps_a_tombstone(ctx: AppContext) -> None:
    cid = add_customer(ctx, "贾宝玉", "13700001111", "jby1111", notes="怡红院")
    keep = add_customer(ctx, "林黛玉", "13700002222")
    FollowUpService(ctx).add(cid, "call", "聊了新款")
    PurchaseService(ctx).record(cid, "123", "红色外套 M")
    tags = TagService(ctx)
    tag = tags.create_tag(tags.create_group("偏好", scope="store"), "红色")
    tags.assign([cid], tag)
    with pytest.raises(UserError) as exc:
        EraseService(ctx).erase(cid)
    assert exc.value.key == "security.erase.managers_only"

    EraseService(AppContext(ctx.db, MANAGER, now_ms=ctx._now)).erase(cid, "顾客要求")
    with ctx.read() as s:
        c = s.scalars(select(Customer).where(Customer.id == cid)).one()
        assert (c.name, c.phone, c.wechat_id, c.notes, c.erased) == ("", "", "", "", True)
        assert c.deleted_hlc is not None and c.consent_sms == "opted_out"
        assert s.scalars(select(CustomerHistory).where(CustomerHistory.customer_id == cid)).all() == []
        assert s.scalars(select(FollowUp.note).where(FollowUp.customer_id == cid)).all() == [""]
        unsent = " ".join(str(o.fields) for o in s.scalars(select(Outbox)))
        assert "贾宝玉" not in unsent and "13700001111" not in unsent and "红色外套" not in unsent
        assert "林黛玉" in unsent  # other customers untouched
        entry = s.scalars(select(AuditLog).where(AuditLog.action == "erase")).one()
        assert (entry.actor_id, entry.target, entry.detail["reason"]) == ("mgr-1", cid, "顾客要求")
    assert tags.tags_of(cid) == []
    query = CustomerQuery(ctx)
    assert query.ids(CustomerFilter(text="贾宝")) == [] and query.ids(CustomerFilter(text="1111")) == []
    assert [r.id for r in query.rows(query.ids())] == [keep]
    with pytest.raises(UserError) as exc:
        EraseService(AppContext(ctx.db, MANAGER, now_ms=ctx._now)).erase(cid)
    assert exc.value.key == "security.erase.already"
