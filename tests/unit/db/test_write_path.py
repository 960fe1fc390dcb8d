"""Every local write appends its outbox row in the same transaction, with per-field HLC stamps."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from guide_app.db.engine import open_database
from guide_app.db.models import Customer, CustomerHistory, Outbox
from guide_app.domain.errors import UserError
from guide_app.services.context import Actor, AppContext
from guide_app.services.customers import CustomerInput, CustomerService


@pytest.fixture()
def svc(tmp_path: Path) -> CustomerService:
    db = open_database(tmp_path / "g.db")
    return CustomerService(AppContext(db, Actor("guide-1", "store-1")))


def test_create_edit_delete_each_append_one_outbox_row(svc: CustomerService) -> None:
    cid = svc.create(CustomerInput(name="张三", phone="13812345678"))
    svc.update(cid, CustomerInput(name="张三", phone="13812345678", notes="喜欢蓝色"))
    assert svc.update(cid, CustomerInput(name="张三", phone="13812345678", notes="喜欢蓝色")) is False
    svc.delete(cid)
    with svc.ctx.read() as s:
        rows = s.scalars(select(Outbox).order_by(Outbox.device_seq)).all()
        cust = s.scalars(select(Customer).where(Customer.id == cid)).one()
        hist = s.scalars(select(CustomerHistory).where(CustomerHistory.customer_id == cid)).all()
    assert [r.device_seq for r in rows] == [1, 2, 3]
    assert rows[0].fields["phone"] == "+8613812345678" and rows[0].fields["owner_guide_id"] == "guide-1"
    assert set(rows[1].fields) == {"notes"} and rows[1].field_hlc["notes"] > rows[0].field_hlc["name"]
    assert rows[2].deleted_hlc is not None and cust.deleted_hlc == rows[2].deleted_hlc
    assert cust.field_hlc["notes"] == rows[1].field_hlc["notes"]
    assert {h.kind for h in hist} == {"create", "edit", "delete"}


def test_a_failed_write_leaves_neither_row_nor_outbox(svc: CustomerService) -> None:
    svc.create(CustomerInput(name="李四", phone="13912345678"))
    with pytest.raises(UserError) as err:
        svc.create(CustomerInput(name="李四二号", phone="139 1234 5678"))
    assert err.value.key == "phone.duplicate"
    with pytest.raises(UserError):
        svc.create(CustomerInput(name="", phone="13712345678"))
    with svc.ctx.read() as s:
        assert len(s.scalars(select(Customer)).all()) == 1
        assert len(s.scalars(select(Outbox)).all()) == 1


def test_edit_with_blank_owner_keeps_the_owner(svc: CustomerService) -> None:
    cid = svc.create(CustomerInput(name="王五", owner_guide_id="guide-9"))
    svc.update(cid, CustomerInput(name="王五", notes="x"))
    assert svc.get(cid).owner_guide_id == "guide-9"


def test_pasted_control_characters_are_dropped_but_line_breaks_stay(svc: CustomerService) -> None:
    cid = svc.create(CustomerInput(name="赵\x00六\x07", notes="第一行\n第二行\x00"))
    row = svc.get(cid)
    assert row.name == "赵六" and row.notes == "第一行\n第二行"
