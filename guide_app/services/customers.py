"""Customer book use cases: create, edit, delete, read one record.

Listing, searching and filtering live in :mod:`guide_app.services.customer_query`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from guide_app.db.models import Customer, CustomerHistory
from guide_app.db.search_index import index_customer, index_customers, unindex_customer
from guide_app.domain.entities import CUSTOMER, GENDERS, MANUAL_STAGES
from guide_app.domain.errors import UserError
from guide_app.domain.ids import uuid7
from guide_app.domain.phones import normalize_phone
from guide_app.domain.pinyin_keys import sort_key
from guide_app.services.context import AppContext, Writer

_LIMITS = dict(CUSTOMER.max_lengths)
# names repeat (王伟, 张伟…) and phrase-aware pinyin costs more than the rest of a row's Python: once per name
_sort_key = lru_cache(maxsize=65536)(sort_key)


@dataclass
class CustomerInput:
    """What a guide types into the customer form; strings as typed, validated by :func:`validate`."""

    name: str = ""
    phone: str = ""
    wechat_id: str = ""
    gender: str = ""
    birthday: str = ""
    source: str = ""
    owner_guide_id: str = ""
    stage: str = ""
    preferences: str = ""
    sizes: str = ""
    notes: str = ""

    @classmethod
    def from_customer(cls, c: Customer) -> CustomerInput:
        return cls(**{f.name: getattr(c, f.name) for f in fields(cls)})


_INPUT_FIELDS = fields(CustomerInput)


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean_text(value: str) -> str:
    """Trim and drop control characters a paste can carry (a NUL is refused by HQ's PostgreSQL);
    line breaks and tabs stay, notes may have several lines."""
    return _CONTROL_CHARS.sub("", value).strip()


def validate(data: CustomerInput) -> dict[str, Any]:
    """Clean and check the form; returns the values to store or raises :class:`UserError`."""
    values = {f.name: (_clean_text(v) if isinstance(v := getattr(data, f.name), str) else v) for f in _INPUT_FIELDS}
    if not values["name"]:
        raise UserError("customer.name_required")
    for name, limit in _LIMITS.items():
        if name in values and len(values[name]) > limit:
            raise UserError("customer.field_too_long", field_key=f"field.{name}", field=name, limit=limit)
    values["phone"] = normalize_phone(values["phone"]) if values["phone"] else ""
    if values["gender"] not in GENDERS:
        raise UserError("customer.bad_gender", value=values["gender"])
    if values["stage"] not in MANUAL_STAGES:
        raise UserError("customer.bad_stage", value=values["stage"])
    if values["birthday"]:
        try:
            values["birthday"] = dt.date.fromisoformat(values["birthday"].replace("/", "-")).isoformat()
        except ValueError as exc:
            raise UserError("customer.bad_birthday", value=values["birthday"]) from exc
    return values


def find_by_phone(session: Session, store_id: str, phone: str) -> Customer | None:
    if not phone:
        return None
    return session.scalars(
        select(Customer).where(
            Customer.store_id == store_id,
            Customer.phone == phone,
            Customer.deleted_hlc.is_(None),
            Customer.merged_into.is_(None),
        )
    ).first()


def get_live(session: Session, customer_id: str) -> Customer:
    c = session.scalars(select(Customer).where(Customer.id == customer_id)).first()
    if c is None:
        raise UserError("customer.not_found")
    if c.deleted_hlc is not None:
        raise UserError("customer.deleted")
    return c


def _history(w: Writer, customer_id: str, kind: str, changes: dict[str, tuple[Any, Any]]) -> None:
    stamp = w.stamps[-1] if w.stamps else ""
    now = w.ctx.now_ms()
    by = w.ctx.actor.guide_id
    if not changes:
        w.add_rows(CustomerHistory, [{"customer_id": customer_id, "kind": kind, "hlc": stamp, "by_guide_id": by,
                                      "at": now}])
        return
    w.add_rows(CustomerHistory, [
        {"customer_id": customer_id, "kind": kind, "field": name,
         "old_value": None if old is None else str(old), "new_value": None if new is None else str(new),
         "hlc": stamp, "by_guide_id": by, "at": now}
        for name, (old, new) in changes.items()
    ])


def _write_search_keys(session: Session, pending: dict[int, tuple[Customer, bool]]) -> None:
    rows = list(pending.values())
    index_customers(session, [(c.pk, c.store_id, c.name, c.phone, c.wechat_id) for c, _ in rows],
                    fresh=[fresh for _, fresh in rows])


def _index(w: Writer, row: Customer) -> None:
    """Search keys for the row now, or (batch mode) once when the write ends, with its final values."""
    if not w.batch:
        index_customer(w.session, row.pk, row.store_id, row.name, row.phone, row.wechat_id)
        return
    pending: dict[int, tuple[Customer, bool]] = w.later("customer_search", dict, _write_search_keys)
    pending.setdefault(id(row), (row, row.pk is None))  # no pk yet: inserted by this write, nothing to delete


def insert_customer(w: Writer, values: dict[str, Any], *, kind: str = "create",
                    extra: dict[str, Any] | None = None) -> Customer:
    """Insert a validated customer inside an open write (used by the form, import and demo data)."""
    now = w.ctx.now_ms()
    values = dict(values)
    if not values.get("owner_guide_id"):
        values["owner_guide_id"] = w.ctx.actor.guide_id
    synced = {**values, **(extra or {}), "store_id": w.ctx.store_id, "created_at": now}
    row = Customer(id=uuid7(now), updated_at=now, sort_name=_sort_key(values["name"]), field_hlc={})
    w.apply("customer", row, synced, new=True)
    _index(w, row)
    _history(w, row.id, kind, {k: (None, v) for k, v in values.items() if v not in ("", None)})
    return row


def update_customer_row(w: Writer, row: Customer, values: dict[str, Any], *, kind: str = "edit") -> dict[str, Any]:
    old = w.apply("customer", row, values)
    if old:
        row.updated_at = w.ctx.now_ms()
        if "name" in old:
            row.sort_name = _sort_key(row.name)
        if old.keys() & {"name", "phone", "wechat_id"}:
            _index(w, row)
        _history(w, row.id, kind, {k: (v, getattr(row, k)) for k, v in old.items()})
    return old


class CustomerService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def create(self, data: CustomerInput) -> str:
        values = validate(data)
        with self.ctx.write() as w:
            existing = find_by_phone(w.session, self.ctx.store_id, values["phone"])
            if existing is not None:
                raise UserError("phone.duplicate", value=data.phone.strip(), name=existing.name,
                                customer_id=existing.id)
            return insert_customer(w, values).id

    def update(self, customer_id: str, data: CustomerInput) -> bool:
        """Save the form; returns False when nothing changed."""
        values = validate(data)
        if not values["owner_guide_id"]:
            del values["owner_guide_id"]  # an empty owner in the form keeps the current owner
        with self.ctx.write() as w:
            row = get_live(w.session, customer_id)
            if values["phone"] and values["phone"] != row.phone:
                other = find_by_phone(w.session, row.store_id, values["phone"])
                if other is not None and other.id != row.id:
                    raise UserError("phone.duplicate", value=data.phone.strip(), name=other.name,
                                    customer_id=other.id)
            return bool(update_customer_row(w, row, values))

    def delete(self, customer_id: str) -> None:
        with self.ctx.write() as w:
            row = get_live(w.session, customer_id)
            w.tombstone("customer", row)
            unindex_customer(w.session, row.pk)
            _history(w, row.id, "delete", {})

    def get(self, customer_id: str) -> Customer:
        with self.ctx.read() as s:
            row = get_live(s, customer_id)
            s.expunge(row)
            return row
