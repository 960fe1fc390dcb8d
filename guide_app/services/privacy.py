"""Who sees a customer's phone number, and who may take the book off this PC.

- Everyone sees phones masked (138****5678) wherever they are shown: lists, the record page, search
  results, history, campaign targets, and what is copied to the clipboard. Searching by digits still
  finds the customer; the result shows the mask.
- Revealing one number (or copying it unmasked) is one click for anyone, and writes an audit entry
  (who, which customer, when) in the same transaction as the read.
- The store decides at HQ whether its guides see the whole book or only their own customers
  (``book_visibility`` in the org data); managers always see it all.
- Exporting customer data is for managers only, always audited, and limited per person and day by
  HQ (``export_daily_limit`` in the org data of a pull; :data:`DEFAULT_EXPORT_LIMIT` until HQ says).
  The day's exports are counted on every PC: this PC's audit entries of today together with those HQ
  holds from the other PCs (:class:`HqExports`, one entry counted once by its id). When HQ cannot
  answer, only this PC's count, and the export says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from guide_app.db.models import Customer
from guide_app.db.state import get_setting, set_setting
from guide_app.domain.errors import UserError
from guide_app.domain.phones import display_phone, mask_phone
from guide_app.services.audit import exports_today, record
from guide_app.services.context import Actor, AppContext

EXPORT_LIMIT_KEY = "hq.export_daily_limit"
DEFAULT_EXPORT_LIMIT = 2000


def masked(e164: str) -> str:
    return mask_phone(e164)


def export_limit(session: Session) -> int:
    value = get_setting(session, EXPORT_LIMIT_KEY, DEFAULT_EXPORT_LIMIT)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else DEFAULT_EXPORT_LIMIT


def apply_export_limit(session: Session, value: Any) -> None:
    """The limit HQ sent with the org data (sync apply calls this; a bad value keeps the old one)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        set_setting(session, EXPORT_LIMIT_KEY, value)


@dataclass(frozen=True)
class HqExports:
    """What HQ said about the signed-in person's exports today, from every PC.

    ``entries`` (audit entry id → customers) is None when HQ was not asked (a PC without HQ) or could
    not answer; then ``note`` is the catalog key that tells the manager only this PC's exports count.
    """

    entries: Mapping[str, int] | None = field(default=None)
    note: str = ""


NOT_ASKED = HqExports()


def count_exports(local: Mapping[str, int], hq: Mapping[str, int] | None) -> int:
    """Customers exported today: the union by audit entry id of this PC's entries and HQ's (an entry
    this PC already pushed is in both and counts once)."""
    merged = dict(hq or {})
    merged.update(local)
    return sum(max(0, n) for n in merged.values())


@dataclass(frozen=True)
class ExportAllowance:
    limit: int
    used: int  # customers exported today
    left: int
    note: str = ""  # catalog key: why only this PC's exports were counted ("" when HQ's were too)


BOOK_KEY = "hq.book_visibility"  # "store": guides see the store's whole book; "own": only their customers


def apply_book_visibility(session: Session, value: Any) -> None:
    if value in ("store", "own"):
        set_setting(session, BOOK_KEY, value)


def own_customers_only(session: Session, actor: Actor) -> bool:
    """Whether ``actor`` sees only the customers they own (the store chose so at HQ; managers never)."""
    return not actor.is_manager and get_setting(session, BOOK_KEY, "store") == "own"


class PrivacyService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def _phone_of(self, s: Session, customer_id: str) -> tuple[str, str]:
        row = s.execute(select(Customer.phone, Customer.name, Customer.store_id, Customer.deleted_hlc,
                               Customer.erased).where(Customer.id == customer_id)).first()
        if row is None or row.store_id != self.ctx.store_id or row.deleted_hlc is not None or row.erased:
            raise UserError("customer.not_found")
        return row.phone, row.name

    def reveal_phone(self, customer_id: str) -> str:
        """The full number of one customer, for one look; the audit log records who looked."""
        return self._unmasked(customer_id, "reveal_phone")

    def copy_phone(self, customer_id: str) -> str:
        """The full number for the clipboard (audited like a reveal)."""
        return self._unmasked(customer_id, "copy_phone")

    def _unmasked(self, customer_id: str, action: str) -> str:
        with self.ctx.write() as w:
            phone, _name = self._phone_of(w.session, customer_id)
            if not phone:
                return ""
            record(w, action, customer_id)
        return display_phone(phone)

    # --- export ---------------------------------------------------------------------------------
    def may_export(self) -> bool:
        return self.ctx.actor.is_manager

    def allowance(self, hq: HqExports = NOT_ASKED) -> ExportAllowance:
        """Today's limit, what the signed-in manager exported today on every PC ``hq`` knows of (this
        PC's entries always) and what is left (nothing for guides)."""
        with self.ctx.read() as s:
            limit = export_limit(s)
        if not self.may_export():
            return ExportAllowance(limit, 0, 0)
        used = count_exports(exports_today(self.ctx, self.ctx.actor.guide_id), hq.entries)
        return ExportAllowance(limit, used, max(0, limit - used), hq.note)

    def export_allowance(self, hq: HqExports = NOT_ASKED) -> int:
        """How many customers the signed-in manager may still export today (0 for guides)."""
        return self.allowance(hq).left

    def authorize_export(self, count: int, hq: HqExports = NOT_ASKED) -> ExportAllowance:
        """Refuse (and log the refusal) an export by a guide, or one over today's allowance."""
        if not self.may_export():
            with self.ctx.write() as w:
                record(w, "export_refused", "", rows=count, reason="not_manager")
            raise UserError("security.export.managers_only")
        allowance = self.allowance(hq)
        if count > allowance.left:
            with self.ctx.write() as w:
                record(w, "export_refused", "", rows=count, reason="daily_limit", limit=allowance.limit,
                       counted="this_pc" if allowance.note else "all_pcs")
            raise UserError("security.export.over_limit", limit=allowance.limit, left=allowance.left, count=count)
        return allowance

    def record_export(self, rows: int, fmt: str, file_name: str) -> None:
        with self.ctx.write() as w:
            record(w, "export", "", rows=rows, format=fmt, file=file_name[-80:])
