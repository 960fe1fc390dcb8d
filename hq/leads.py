"""A landing-page lead becomes a customer of the code's store, the way a push from one of its PCs
would make it: HQ-stamped fields, tag assignments for the code's auto-tags, the store's version bumped
so every PC of the store gets them on its next pull, and the leaderboard ledger kept in the same
transaction (:class:`hq.sync_push.PushContext` does the writing, so merge rules are the same).

A phone already in the store's book keeps its record and owner: it gets the auto-tags and the consent
the shopper gave, and the lead is counted as an existing customer re-reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from guide_app.domain.entities import CONSENT_CHANNELS
from guide_app.domain.ids import pair_id, uuid7
from guide_app.domain.merge import OPTED_OUT
from hq import code_stats
from hq.landing_models import CodeLead
from hq.models import Device, Store, SyncRow
from hq.sync_push import HQ_CLOCK, PushContext, after_write

CONSENT_HOW = "qr_landing"
REPEAT_WINDOW_MS = 10 * 60 * 1000  # the same phone through the same code within this lands once
LANDING_DEVICE_ID = "hq-landing"  # names HQ's own writes in customer history


@dataclass(frozen=True)
class LiveCode:
    """An acquisition code that works: what the landing page shows and a lead needs."""

    id: str
    code: str
    store_id: str
    store_name: str
    guide_id: str
    guide_name: str
    auto_tag_ids: tuple[str, ...]
    welcome_text: str


@dataclass(frozen=True)
class Lead:
    name: str
    phone: str  # E.164, as normalize_phone returns it
    channels: tuple[str, ...]  # the contact channels the shopper agreed to
    address: str


@dataclass(frozen=True)
class LeadResult:
    outcome: Literal["new", "existing", "repeat"]
    customer_id: str


def _landing_device(store: Store, code: LiveCode, now: int) -> Device:
    # never added to the session: it only tells PushContext (history, ledger) who wrote
    return Device(id=LANDING_DEVICE_ID, store_id=store.id, enrolled_by=code.guide_id, name="landing page",
                  last_seq=0, enrolled_at=now, last_seen_at=now)


def lock_store(session: Session, code: LiveCode) -> Store:
    """The code's store counter row, locked as a push locks it (PostgreSQL ``FOR UPDATE``; SQLite
    already holds the write lock): leads, scans and pushes of one store happen one at a time."""
    store = session.get(Store, code.store_id, with_for_update=True)
    assert store is not None
    return store


def record_scan(session: Session, code: LiveCode, now: int) -> None:
    """One visit of the landing page: counted on the code's day, sent down with the next pull."""
    store = lock_store(session, code)
    version = store.version + 1
    code_stats.add(session, store_id=store.id, code_id=code.id, at_ms=now, version=version, scans=1)
    store.version = version


def record_lead(session: Session, code: LiveCode, lead: Lead, now: int) -> LeadResult:
    # the store's counter row first, as a push takes it: leads and pushes of one store are serialized,
    # so two quick submits of one phone cannot both make a customer
    store = lock_store(session, code)
    recent = session.scalar(
        select(CodeLead)
        .where(CodeLead.code_id == code.id, CodeLead.phone == lead.phone, CodeLead.at >= now - REPEAT_WINDOW_MS)
        .order_by(CodeLead.at.desc())
        .limit(1)
    )
    if recent is not None:
        return LeadResult("repeat", recent.customer_id)
    ctx = PushContext(session, store, _landing_device(store, code, now), now)
    customer = _existing_customer(session, store.id, lead.phone)
    if customer is None:
        customer = _new_customer(ctx, code, lead)
        outcome: Literal["new", "existing"] = "new"
        granted = lead.channels
    else:
        granted = _grant_consent(ctx, customer, lead.channels)
        outcome = "existing"
    _tag(ctx, customer, code.auto_tag_ids)
    _audit_consent(ctx, code, customer, granted)
    session.add(CodeLead(
        id=uuid7(now), code_id=code.id, store_id=store.id, customer_id=customer.id, phone=lead.phone,
        name=lead.name, outcome=outcome, channels=",".join(lead.channels), how=CONSENT_HOW,
        address=lead.address[:64], at=now,
    ))
    code_stats.add(session, store_id=store.id, code_id=code.id, at_ms=now, version=ctx.version, leads=1,
                   new_customers=1 if outcome == "new" else 0, existing_customers=1 if outcome == "existing" else 0)
    store.version = ctx.version
    return LeadResult(outcome, customer.id)


def _existing_customer(session: Session, store_id: str, phone: str) -> SyncRow | None:
    return session.scalar(
        select(SyncRow)
        .where(SyncRow.entity == "customer", SyncRow.store_id == store_id, SyncRow.lookup == phone,
               SyncRow.deleted_hlc.is_(None), SyncRow.merged_into.is_(None))
        .order_by(SyncRow.id)
        .limit(1)
    )


def _new_customer(ctx: PushContext, code: LiveCode, lead: Lead) -> SyncRow:
    fields: dict[str, Any] = {
        "store_id": ctx.store.id, "name": lead.name, "phone": lead.phone, "wechat_id": "", "gender": "",
        "birthday": "", "source": code.id, "owner_guide_id": code.guide_id, "stage": "", "preferences": "",
        "sizes": "", "notes": "", "created_at": ctx.now,
        **{f"consent_{c}": "granted" if c in lead.channels else "unknown" for c in CONSENT_CHANNELS},
    }
    stamp = HQ_CLOCK.tick()
    hlc = dict.fromkeys(fields, stamp)
    row = ctx.new_row("customer", uuid7(ctx.now))
    ctx.write(row, fields, hlc)  # the ledger counts it as a QR add of the code's guide (source = code id)
    after_write(ctx, row, fields, hlc)
    return row


def _grant_consent(ctx: PushContext, customer: SyncRow, channels: tuple[str, ...]) -> tuple[str, ...]:
    """Grant the ticked channels not granted yet; an opt-out stays final (as on every PC). Returns the
    channels that changed."""
    changed = tuple(c for c in channels if customer.data.get(f"consent_{c}") not in ("granted", OPTED_OUT))
    grants = {f"consent_{c}": "granted" for c in changed}
    if grants:
        stamp = ctx.stamp_over(customer)
        ctx.write(customer, grants, dict.fromkeys(grants, stamp))
    return changed


def _active(row: SyncRow) -> bool:
    added, removed = row.data.get("added_hlc"), row.data.get("removed_hlc")
    return row.deleted_hlc is None and bool(added) and (not removed or str(added) > str(removed))


def _tag(ctx: PushContext, customer: SyncRow, tag_ids: tuple[str, ...]) -> None:
    for tag_id in tag_ids:
        tag = ctx.get("tag", tag_id)
        if tag is None or tag.deleted_hlc is not None:
            continue  # a tag deleted since the code was made is not applied
        ct_id = pair_id(customer.id, tag_id)
        assignment = ctx.get("customer_tag", ct_id)
        if assignment is not None and _active(assignment):
            continue
        stamp = ctx.stamp_over(customer, *([assignment] if assignment is not None else []))
        if assignment is None:
            assignment = ctx.new_row("customer_tag", ct_id)
            fields: dict[str, Any] = {"store_id": ctx.store.id, "customer_id": customer.id, "tag_id": tag_id,
                                      "added_hlc": stamp}
        else:
            fields = {"added_hlc": stamp}
        ctx.write(assignment, fields, dict.fromkeys(fields, stamp))


def _audit_consent(ctx: PushContext, code: LiveCode, customer: SyncRow, channels: tuple[str, ...]) -> None:
    """One append-only ``consent`` audit entry per channel granted, as a PC records one
    (guide_app.services.consent): channel, value, method; the actor is the shopper, so no account."""
    for channel in channels:
        row = ctx.new_row("audit_log", uuid7(ctx.now))
        stamp = HQ_CLOCK.tick()
        row.data = {
            "store_id": ctx.store.id, "actor_id": "", "action": "consent", "target": customer.id,
            "detail": {"channel": channel, "value": "granted", "method": CONSENT_HOW, "code_id": code.id},
            "at": ctx.now,
        }
        row.hlc = dict.fromkeys(row.data, stamp)
        ctx.touch(row)
