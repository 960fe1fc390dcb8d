"""Purchases a guide records at the counter (HQ may send more from the till), and the customer's
derived totals (last purchase, total spent, order count) kept in step in the same transaction."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from guide_app.db.models import Guide, Purchase
from guide_app.domain.entities import PURCHASE
from guide_app.domain.errors import UserError
from guide_app.domain.ids import uuid7
from guide_app.services.book_records import PurchaseRecord
from guide_app.services.context import AppContext
from guide_app.services.customer_lookup import live_customer

MAX_AMOUNT_CENTS = 10_000_000 * 100  # ten million yuan: anything above is a typo
_ITEMS_MAX = dict(PURCHASE.max_lengths)["items"]
_MONEY_NOISE = re.compile(r"[\s,，¥￥元]|^rmb|^cny", re.IGNORECASE)


def parse_amount(raw: str) -> int:
    """Yuan as typed (``1299``, ``1,299.50``, ``¥88.8``, ``88元``) → cents, or a UserError."""
    text_ = _MONEY_NOISE.sub("", (raw or "").strip())
    if not text_:
        raise UserError("purchase.amount_required")
    try:
        value = Decimal(text_)
    except InvalidOperation as exc:
        raise UserError("purchase.bad_amount", value=raw.strip()) from exc
    if not value.is_finite():
        raise UserError("purchase.bad_amount", value=raw.strip())
    if value <= 0:
        raise UserError("purchase.amount_not_positive", value=raw.strip())
    cents = value * 100
    if cents != cents.to_integral_value():
        raise UserError("purchase.amount_precision", value=raw.strip())
    if cents > MAX_AMOUNT_CENTS:
        raise UserError("purchase.amount_too_large", value=raw.strip())
    return int(cents)


def format_cents(cents: int) -> str:
    """12990 → '129.90' (for forms; the views add the currency sign)."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def parse_day(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value.strip().replace("/", "-"))
    except ValueError as exc:
        raise UserError("purchase.bad_date", value=value) from exc


def local_day(ms: int) -> dt.date:
    """The counter PC's calendar day of an epoch-ms time (the PC runs in its store's time zone)."""
    return dt.datetime.fromtimestamp(ms / 1000).date()


def refresh_purchase_totals(session: Session, customer_id: str) -> None:
    """Recompute the customer's derived purchase columns from its live purchases.

    Call inside the transaction that changed purchases (the sync engine does after a pull)."""
    refresh_purchase_totals_many(session, [customer_id])


def refresh_purchase_totals_many(session: Session, customer_ids: Iterable[str]) -> None:
    stmt = text(
        "UPDATE customer SET (last_purchase_at, total_spent_cents, order_count) = "
        "(SELECT max(p.at), coalesce(sum(p.amount_cents), 0), count(*) FROM purchase p "
        " WHERE p.customer_id = :cid AND p.deleted_hlc IS NULL) WHERE id = :cid"
    )
    ids = [{"cid": cid} for cid in dict.fromkeys(customer_ids)]
    if ids:
        session.execute(stmt, ids)


def purchases_of(session: Session, customer_id: str) -> list[PurchaseRecord]:
    """Live purchases of one customer, newest first."""
    rows = session.execute(
        select(Purchase, Guide.name).outerjoin(Guide, Guide.id == Purchase.guide_id)
        .where(Purchase.customer_id == customer_id, Purchase.deleted_hlc.is_(None))
        .order_by(Purchase.at.desc(), Purchase.pk.desc())
    ).all()
    return [
        PurchaseRecord(id=p.id, customer_id=p.customer_id, guide_id=p.guide_id, guide_name=gname or "",
                       amount_cents=p.amount_cents, items=p.items, at=p.at, origin=p.origin)
        for p, gname in rows
    ]


class PurchaseService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def _at(self, day: dt.date | str | None) -> int:
        now = self.ctx.now_ms()
        if day is None or day == "":
            return now
        d = parse_day(day)
        today = local_day(now)
        if d > today:
            raise UserError("purchase.future_date", value=d.isoformat())
        if d == today:
            return now
        # an earlier day: noon, so the day survives any small clock or zone difference
        return int(dt.datetime.combine(d, dt.time(12)).timestamp() * 1000)

    def record(self, customer_id: str, amount: str, items: str = "", day: dt.date | str | None = None) -> str:
        """Record a purchase (amount in yuan as typed) and update the customer's totals."""
        cents = parse_amount(amount)
        items = (items or "").strip()
        if len(items) > _ITEMS_MAX:
            raise UserError("purchase.items_too_long", limit=_ITEMS_MAX)
        at = self._at(day)
        with self.ctx.write() as w:
            customer = live_customer(w.session, customer_id, self.ctx.store_id)
            row = Purchase(id=uuid7(at), field_hlc={})
            w.apply("purchase", row, {
                "store_id": self.ctx.store_id, "customer_id": customer.id, "guide_id": self.ctx.actor.guide_id,
                "amount_cents": cents, "items": items, "at": at, "origin": "guide",
            }, new=True)
            refresh_purchase_totals(w.session, customer.id)
            return row.id

    def delete(self, purchase_id: str) -> None:
        """Tombstone a purchase entered by mistake. Till purchases sent by HQ are corrected at HQ."""
        with self.ctx.write() as w:
            row = w.session.scalars(select(Purchase).where(Purchase.id == purchase_id)).first()
            if row is None or row.deleted_hlc is not None or row.store_id != self.ctx.store_id:
                raise UserError("purchase.not_found")
            if row.origin != "guide":
                raise UserError("purchase.hq_read_only")
            w.tombstone("purchase", row)
            refresh_purchase_totals(w.session, row.customer_id)

    def for_customer(self, customer_id: str) -> list[PurchaseRecord]:
        with self.ctx.read() as s:
            return purchases_of(s, customer_id)

