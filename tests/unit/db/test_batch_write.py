"""A batch write (``ctx.write(batch=True)``, used by the import) ends with the same rows, outbox, search
keys and history as the same changes made one by one, and writes nothing when it fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from guide_app.db.engine import open_database
from guide_app.db.models import Customer, CustomerTag, Outbox, Store, Tag, TagGroup
from guide_app.domain.ids import uuid7
from guide_app.services.context import Actor, AppContext, Writer
from guide_app.services.customers import CustomerInput, CustomerService, insert_customer, update_customer_row
from guide_app.services.tags import add_assignment


def _ctx(path: Path) -> AppContext:
    db = open_database(path)
    with db.write() as s:
        s.add(Store(id="store-1", name="店"))
    return AppContext(db, Actor("guide-1", "store-1"))


def _values(name: str, phone: str = "", wechat_id: str = "") -> dict[str, Any]:
    return {"name": name, "phone": phone, "wechat_id": wechat_id, "gender": "", "birthday": "", "source": "",
            "owner_guide_id": "", "stage": "", "preferences": "", "sizes": "", "notes": ""}


def _changes(w: Writer, old: Customer) -> None:
    """One of everything: new rows of three tables (a tag needs its group first), a second change to
    a row created in the same write, a change to and a tombstone of rows already in the book."""
    group = TagGroup(id=uuid7(1), field_hlc={})
    w.apply("tag_group", group, {"store_id": "store-1", "scope": "store", "owner_guide_id": "", "name": "组",
                                 "color": "#607d8b", "sort_order": 0, "multi": True}, new=True)
    tag = Tag(id=uuid7(1), field_hlc={})
    w.apply("tag", tag, {"group_id": group.id, "name": "VIP", "sort_order": 0}, new=True)
    a = insert_customer(w, _values("张三", "+8613812345678"), kind="import")
    b = insert_customer(w, _values("李四", wechat_id="WX_Li"), kind="import")
    update_customer_row(w, a, {"name": "张三丰", "notes": "喜欢蓝色"}, kind="import")
    assert add_assignment(w, a.id, tag.id) == 1
    assert add_assignment(w, b.id, tag.id) == 1
    live = w.session.scalars(select(Customer).where(Customer.id == old.id)).one()
    update_customer_row(w, live, {"wechat_id": "wx_old"})
    gone = w.session.scalars(select(Customer).where(Customer.name == "要删的")).one()
    w.tombstone("customer", gone)


_TEXT = {"name", "phone", "wechat_id", "notes", "owner_guide_id", "store_id", "scope", "multi"}


def _book(ctx: AppContext) -> dict[str, Any]:
    """Everything the write path produced, without ids, stamps and times that differ between runs."""
    with ctx.read() as s:
        names = {c.id: c.name for c in s.scalars(select(Customer))}
        return {
            "customers": sorted((c.pk, c.name, c.phone, c.wechat_id, c.sort_name, c.notes, c.owner_guide_id,
                                 sorted(c.field_hlc), c.deleted_hlc is not None) for c in s.scalars(select(Customer))),
            "stamps_match_outbox": all(
                c.field_hlc[k] == max(o.field_hlc[k] for o in s.scalars(select(Outbox).where(
                    Outbox.entity_id == c.id)) if k in o.field_hlc)
                for c in s.scalars(select(Customer)) for k in c.field_hlc),
            "outbox": [(o.device_seq, o.entity, names.get(o.entity_id, ""), sorted(o.fields),
                        sorted((k, v) for k, v in o.fields.items() if k in _TEXT), names.get(str(o.fields.get("customer_id"))),
                        sorted(o.field_hlc), o.deleted_hlc is not None, o.status)
                       for o in s.scalars(select(Outbox).order_by(Outbox.device_seq))],
            "tags": sorted((names[t.customer_id], t.active, t.added_hlc is not None)
                           for t in s.scalars(select(CustomerTag))),
            "search": s.execute(text("SELECT pk, store_id, name, py_full, py_initials, phone_digits, wechat "
                                     "FROM customer_search ORDER BY pk")).all(),
            "fts": s.execute(text("SELECT rowid, name, py_full, phone_digits, wechat FROM customer_fts "
                                  "ORDER BY rowid")).all(),
            "history": sorted((names[h[0]], *h[1:]) for h in s.execute(text(
                "SELECT customer_id, kind, field, coalesce(old_value, '-'), coalesce(new_value, '-'), hlc != '', "
                "by_guide_id "
                "FROM customer_history")).all()),
        }


def _run(path: Path, *, batch: bool) -> dict[str, Any]:
    ctx = _ctx(path)
    svc = CustomerService(ctx)
    old_id = svc.create(CustomerInput(name="老客户", phone="13900000000"))
    svc.delete(svc.create(CustomerInput(name="临时")))  # a tombstoned row keeps its pk: new pks follow it
    svc.create(CustomerInput(name="要删的"))
    with ctx.write(batch=batch) as w:
        _changes(w, svc.get(old_id))
        if batch:  # nothing is written before the write ends
            assert w.session.scalars(select(Customer).where(Customer.name == "李四")).first() is None
    return _book(ctx)


def test_a_batch_write_ends_like_the_same_changes_made_one_by_one(tmp_path: Path) -> None:
    one_by_one = _run(tmp_path / "a.db", batch=False)
    batched = _run(tmp_path / "b.db", batch=True)
    assert batched == one_by_one
    # and the comparison has teeth: the two customers of the write got the next pks and search keys
    # (临时, pk 2, was deleted through the service, which drops its keys; a bare tombstone keeps them)
    assert [r[:3] for r in batched["search"]] == [(1, "store-1", "老客户"), (3, "store-1", "要删的"),
                                                  (4, "store-1", "张三丰"), (5, "store-1", "李四")]
    assert batched["search"][-1][-1] == "wx_li" and batched["search"][-2][3] == "zhangsanfeng"
    assert [o[1] for o in batched["outbox"][-9:]] == ["tag_group", "tag", "customer", "customer", "customer",
                                                      "customer_tag", "customer_tag", "customer", "customer"]
    assert batched["stamps_match_outbox"]


def test_search_keys_point_at_the_right_rows_after_a_batch(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path / "s.db")
    with ctx.write(batch=True) as w:
        made = [insert_customer(w, _values(f"客户{i}", f"+86138000000{i:02d}")) for i in range(30)]
    assert [c.pk for c in made] == list(range(1, 31))  # keys are set on the rows when the write ends
    with ctx.read() as s:
        hits = s.execute(text("SELECT c.name FROM customer_fts f JOIN customer c ON c.pk = f.rowid "
                              "WHERE customer_fts MATCH :q"), {"q": '"13800000017"'}).scalars().all()
        mismatched = s.execute(text("SELECT count(*) FROM customer c JOIN customer_search s ON s.pk = c.pk "
                                    "WHERE s.name != lower(c.name) OR s.phone_digits != substr(c.phone, 4)")).scalar()
    assert hits == ["客户17"] and mismatched == 0


def test_a_failed_batch_writes_nothing(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path / "f.db")
    with pytest.raises(RuntimeError), ctx.write(batch=True) as w:
        insert_customer(w, _values("王五", "+8613700000000"))
        raise RuntimeError("cancelled halfway")
    with ctx.read() as s:
        assert s.scalars(select(Customer)).all() == [] and s.scalars(select(Outbox)).all() == []
        assert s.execute(text("SELECT count(*) FROM customer_search")).scalar() == 0
