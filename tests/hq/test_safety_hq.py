"""HQ's side of shared-PC safety: the daily export limit travels with the org data; an erased
customer's record refuses later writes and keeps no personal data."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from guide_app.domain.erasure import ERASED_VALUES
from guide_app.domain.ids import uuid7
from hq import org
from hq.db import Database
from hq.landing_models import CodeLead
from hq.models import CustomerHistory, SyncRow
from tests.hq_fixtures import SyncDevice


def test_the_export_limit_reaches_pcs_with_the_org(device: Callable[..., SyncDevice], hq_database: Database) -> None:
    dev = device()
    page = dev.pull()
    assert page["org"]["export_daily_limit"] == org.DEFAULT_EXPORT_LIMIT == 2000
    with hq_database.session() as s:
        org.set_export_daily_limit(s, 50)
    page = dev.pull(page["next_cursor"])
    assert page["org"]["export_daily_limit"] == 50
    with hq_database.session() as s:
        org.set_export_daily_limit(s, org.DEFAULT_EXPORT_LIMIT)


def test_a_store_decides_whether_guides_see_the_whole_book(device: Callable[..., SyncDevice],
                                                           hq_database: Database) -> None:
    dev = device()
    store_id = str(dev.store_id)
    page = dev.pull()
    assert page["org"]["book_visibility"] == "store"
    with hq_database.session() as s:
        org.set_book_visibility(s, store_id, "own")
    page = dev.pull(page["next_cursor"])
    assert page["org"]["book_visibility"] == "own"
    with hq_database.session() as s:
        with pytest.raises(org.OrgError):
            org.set_book_visibility(s, store_id, "everyone")
        org.set_book_visibility(s, store_id, "store")


def test_an_erased_customer_refuses_later_writes_and_keeps_no_history(device: Callable[..., SyncDevice],
                                                                     hq_database: Database) -> None:
    dev = device()
    cid = uuid7()
    created = dev.mutation("customer", cid, {"store_id": dev.store_id, "name": "王熙凤", "phone": "+8613700004444",
                                             "notes": "旧备注", "created_at": 1})
    assert dev.push(created)["results"][0]["status"] == "applied"
    edit = dev.mutation("customer", cid, {"notes": "新备注"})
    dev.push(edit)
    with hq_database.session() as s:  # the landing page's lead that became this customer
        s.add(CodeLead(id=uuid7(), code_id="code-1", store_id=dev.store_id, customer_id=cid, phone="+8613700004444",
                       name="王熙凤", outcome="new", channels="sms", how="qr_landing", address="10.0.0.1", at=1))
    erase = dev.mutation("customer", cid, dict(ERASED_VALUES))
    assert dev.push(erase)["results"][0]["status"] == "applied"
    again = dev.mutation("customer", cid, {"notes": "离线时写的"})
    result = dev.push(again)["results"][0]
    assert (result["status"], result["code"]) == ("rejected", "erased")
    child = dev.mutation("follow_up", uuid7(), {"store_id": dev.store_id, "customer_id": cid, "kind": "call",
                                                "note": "再联系", "at": 1})
    assert dev.push(child)["results"][0]["code"] == "erased"
    with hq_database.session() as s:
        row = s.scalars(select(SyncRow).where(SyncRow.entity == "customer", SyncRow.id == cid)).one()
        assert row.data["name"] == row.data["notes"] == row.data["phone"] == "" and row.lookup == ""
        assert s.scalars(select(CustomerHistory).where(CustomerHistory.customer_id == cid)).all() == []
        lead = s.scalars(select(CodeLead).where(CodeLead.customer_id == cid)).one()
        assert (lead.phone, lead.name) == ("", "")


def test_hq_lists_the_audit_entries_pcs_pushed(device: Callable[..., SyncDevice], hq_database: Database,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from hq.audit import audit_entries
    from hq.cli import main

    dev = device()
    target = uuid7()
    entry = dev.mutation("audit_log", uuid7(), {"store_id": dev.store_id, "actor_id": dev.login_body["account"]["id"],
                                                "action": "reveal_phone", "target": target, "detail": {},
                                                "at": 1_767_000_000_000})
    assert dev.push(entry)["results"][0]["status"] == "applied"
    with hq_database.session() as s:
        found = [e for e in audit_entries(s, action="reveal_phone") if e.target == target]
    assert len(found) == 1 and found[0].at.startswith("2025-12-29")
    assert main(["admin", "list-audit", "--action", "reveal_phone", "--db", hq_database.url]) == 0
    assert target in capsys.readouterr().out
