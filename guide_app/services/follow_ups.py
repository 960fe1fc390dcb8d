"""Follow-ups (跟进): calls, messages, visits and notes on a customer, with an optional next reminder
(下次跟进) that shows on the due list from its day on until it is marked done."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from guide_app.db.customer_list import raw_cursor
from guide_app.db.models import Customer, FollowUp, Guide
from guide_app.domain.entities import FOLLOW_UP, FOLLOW_UP_KINDS
from guide_app.domain.errors import UserError
from guide_app.domain.ids import uuid7
from guide_app.services.book_records import FollowUpRecord
from guide_app.services.context import AppContext
from guide_app.services.customer_lookup import live_customer
from guide_app.services.privacy import own_customers_only
from guide_app.services.purchases import local_day

_NOTE_MAX = dict(FOLLOW_UP.max_lengths)["note"]
CONTACT_KINDS = ("call", "message", "visit")  # a real contact handles the reminders already due


def parse_reminder(value: dt.date | str | None) -> str:
    """A reminder day as YYYY-MM-DD, or "" for none."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(value.strip().replace("/", "-")).isoformat()
    except ValueError as exc:
        raise UserError("followup.bad_date", value=value) from exc


def _record(f: FollowUp, customer_name: str, guide_name: str | None) -> FollowUpRecord:
    return FollowUpRecord(id=f.id, customer_id=f.customer_id, customer_name=customer_name, guide_id=f.guide_id,
                          guide_name=guide_name or "", kind=f.kind, note=f.note, at=f.at, next_at=f.next_at,
                          done=f.done)


def follow_ups_of(session: Session, customer_id: str) -> list[FollowUpRecord]:
    """Live follow-ups of one customer, newest first."""
    rows = session.execute(
        select(FollowUp, Customer.name, Guide.name)
        .join(Customer, Customer.id == FollowUp.customer_id)
        .outerjoin(Guide, Guide.id == FollowUp.guide_id)
        .where(FollowUp.customer_id == customer_id, FollowUp.deleted_hlc.is_(None))
        .order_by(FollowUp.at.desc(), FollowUp.pk.desc())
    ).all()
    return [_record(f, cname, gname) for f, cname, gname in rows]


class FollowUpService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def _today(self) -> dt.date:
        return local_day(self.ctx.now_ms())

    def _check(self, kind: str, note: str, next_at: str, *, old_next_at: str | None = None) -> None:
        if kind not in FOLLOW_UP_KINDS:
            raise UserError("followup.bad_kind", value=kind)
        if len(note) > _NOTE_MAX:
            raise UserError("followup.note_too_long", limit=_NOTE_MAX)
        if kind == "note" and not note:
            raise UserError("followup.note_required")
        # an unchanged old reminder may lie in the past; a newly set one may not
        if next_at and next_at != old_next_at and next_at < self._today().isoformat():
            raise UserError("followup.reminder_in_past", value=next_at)

    def _own(self, session: Session, follow_up_id: str) -> FollowUp:
        f = session.scalars(select(FollowUp).where(FollowUp.id == follow_up_id)).first()
        if f is None or f.deleted_hlc is not None or f.store_id != self.ctx.store_id:
            raise UserError("followup.not_found")
        return f

    def _check_author(self, f: FollowUp) -> None:
        if f.guide_id != self.ctx.actor.guide_id and not self.ctx.actor.is_manager:
            raise UserError("followup.not_yours")

    def add(self, customer_id: str, kind: str, note: str = "", next_at: dt.date | str | None = None) -> str:
        """Log a contact or note. A call, message or visit also marks the customer's reminders that
        are already due as done: the guide just followed up."""
        note = (note or "").strip()
        reminder = parse_reminder(next_at)
        self._check(kind, note, reminder)
        now = self.ctx.now_ms()
        with self.ctx.write() as w:
            customer = live_customer(w.session, customer_id, self.ctx.store_id)
            if kind in CONTACT_KINDS:
                due = w.session.scalars(select(FollowUp).where(
                    FollowUp.customer_id == customer.id, FollowUp.deleted_hlc.is_(None),
                    FollowUp.done.is_(False), FollowUp.next_at != "",
                    FollowUp.next_at <= self._today().isoformat(),
                )).all()
                for f in due:
                    w.apply("follow_up", f, {"done": True})
            row = FollowUp(id=uuid7(now), field_hlc={})
            w.apply("follow_up", row, {
                "store_id": self.ctx.store_id, "customer_id": customer.id, "guide_id": self.ctx.actor.guide_id,
                "kind": kind, "note": note, "at": now, "next_at": reminder, "done": False,
            }, new=True)
            return row.id

    def edit(self, follow_up_id: str, kind: str, note: str, next_at: dt.date | str | None) -> bool:
        """Save the edit form; returns False when nothing changed. A new reminder day reopens it."""
        note = (note or "").strip()
        reminder = parse_reminder(next_at)
        with self.ctx.write() as w:
            f = self._own(w.session, follow_up_id)
            self._check_author(f)
            self._check(kind, note, reminder, old_next_at=f.next_at)
            changes: dict[str, object] = {"kind": kind, "note": note, "next_at": reminder}
            if reminder != f.next_at:
                changes["done"] = False
            return bool(w.apply("follow_up", f, changes))

    def delete(self, follow_up_id: str) -> None:
        with self.ctx.write() as w:
            f = self._own(w.session, follow_up_id)
            self._check_author(f)
            w.tombstone("follow_up", f)

    def mark_done(self, follow_up_id: str, done: bool = True) -> None:
        """Tick the reminder off (or reopen it). Any guide of the store may: colleagues cover shifts."""
        with self.ctx.write() as w:
            f = self._own(w.session, follow_up_id)
            if not f.next_at:
                raise UserError("followup.no_reminder")
            w.apply("follow_up", f, {"done": done})

    def due_today(self, today: dt.date | None = None, *, mine_only: bool = False) -> list[FollowUpRecord]:
        """Open reminders due on ``today`` or earlier (oldest first) for this store's live customers;
        with ``mine_only`` just those of customers the signed-in guide owns."""
        params: dict[str, object] = {"store": self.ctx.store_id, "day": (today or self._today()).isoformat(),
                                     "owner": self.ctx.actor.guide_id}
        with self.ctx.read() as s:
            mine_only = mine_only or own_customers_only(s, self.ctx.actor)  # the store's choice at HQ
        # raw cursor, not ORM rows: after a holiday a big store has thousands due
        sql = (
            "SELECT f.id, f.customer_id, c.name, f.guide_id, coalesce(g.name, ''), f.kind, f.note, f.at, f.next_at "
            "FROM follow_up f JOIN customer c ON c.id = f.customer_id LEFT JOIN guide g ON g.id = f.guide_id "
            "WHERE f.store_id = :store AND f.done = 0 AND f.next_at != '' AND f.next_at <= :day "
            "AND f.deleted_hlc IS NULL AND c.deleted_hlc IS NULL AND c.merged_into IS NULL"
            + (" AND c.owner_guide_id = :owner" if mine_only else "")
            + " ORDER BY f.next_at, c.sort_name, f.pk"
        )
        with self.ctx.read() as s:
            return [
                FollowUpRecord(id=fid, customer_id=cid, customer_name=cname, guide_id=gid, guide_name=gname,
                               kind=kind, note=note, at=at, next_at=next_at, done=False)
                for fid, cid, cname, gid, gname, kind, note, at, next_at in raw_cursor(s).execute(sql, params)
            ]

    def for_customer(self, customer_id: str) -> list[FollowUpRecord]:
        with self.ctx.read() as s:
            return follow_ups_of(s, customer_id)
