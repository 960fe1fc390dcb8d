"""Acquisition code (活码) use cases: create, edit, disable, expire, generate for a whole store, list
with their sync state, per-code statistics, and the data exports and posters are made from.

A code is a synced row: every change goes through :meth:`Writer.apply`, so its outbox mutation is
written in the same transaction. A code made offline only works once HQ has it, so its state is
derived from the outbox: while the mutation that created it (the one carrying ``code``) is not
acked, the code is "not active yet".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from guide_app.db.models import AcquisitionCode, CodeStat, Guide, Outbox, Store, Tag, TagGroup
from guide_app.db.state import get_state
from guide_app.domain.codes import (
    AUTO_TAGS_MAX,
    CAMPAIGN_ID_MAX,
    LABEL_MAX,
    ORG_TZ,
    WELCOME_MAX,
    end_of_day_ms,
    landing_url,
    new_code_text,
    normalize_channel,
)
from guide_app.domain.errors import UserError
from guide_app.domain.ids import uuid7
from guide_app.services.code_render import check_logo
from guide_app.services.context import AppContext, Writer

ENTITY = "acquisition_code"
PUBLIC_URL_KEY = "hq_public_url"  # sync_state: HQ's public landing address, when HQ names one at login
HQ_URL_KEY = "hq_url"  # sync_state: the address this PC syncs with (services.sync_service.HQ_URL)
MANAGER_ROLES_FOR_BATCH = ("guide", "store_manager")  # who gets a code in "one per guide"

# sync states (derived from the outbox)
PENDING = "pending"  # the creating mutation is not acked: scanning it does not work yet
REJECTED = "rejected"  # HQ refused the creating mutation
CHANGES_PENDING = "changes_pending"  # active at HQ; a later edit waits to sync
SYNCED = "synced"
# life states
LIVE = "live"
DISABLED = "disabled"
EXPIRED = "expired"


@dataclass
class CodeInput:
    """What the code form holds. ``guide_id`` "" means the signed-in guide."""

    label: str = ""
    channel: str = "counter"
    campaign_id: str = ""
    auto_tag_ids: list[str] = field(default_factory=list)
    welcome_text: str = ""
    expires_on: dt.date | None = None  # last day the code works (org time zone); None: no expiry
    logo: str = ""  # base64 PNG (see code_render.prepare_logo) or ""
    guide_id: str = ""


@dataclass(frozen=True)
class CodeInfo:
    """One code as the page shows it."""

    id: str
    code: str
    url: str  # "" while HQ's public address is unknown (never signed in)
    store_id: str
    store_name: str
    guide_id: str
    guide_name: str
    label: str
    channel: str
    campaign_id: str
    auto_tag_ids: tuple[str, ...]
    welcome_text: str
    expires_at: int | None
    disabled: bool
    logo: str
    sync_state: str
    reject_reason: str
    life: str
    scans: int
    new_customers: int

    @property
    def state(self) -> str:
        """The one state a list shows: a stopped code is stopped whatever its sync state."""
        return self.life if self.life != LIVE else self.sync_state

    @property
    def works_when_scanned(self) -> bool:
        return self.life == LIVE and self.sync_state in (SYNCED, CHANGES_PENDING)

    @property
    def expires_on(self) -> dt.date | None:
        if self.expires_at is None:
            return None
        return dt.datetime.fromtimestamp(self.expires_at / 1000, ORG_TZ).date()

    def to_input(self) -> CodeInput:
        return CodeInput(
            label=self.label, channel=self.channel, campaign_id=self.campaign_id,
            auto_tag_ids=list(self.auto_tag_ids), welcome_text=self.welcome_text,
            expires_on=self.expires_on if self.life != EXPIRED else None, logo=self.logo,
            guide_id=self.guide_id,
        )


@dataclass(frozen=True)
class StatDay:
    day: str
    scans: int
    leads: int
    new_customers: int
    existing_customers: int

    @property
    def conversion(self) -> float | None:
        """Share of scans that brought a customer (new or re-reached); None without scans."""
        return (self.new_customers + self.existing_customers) / self.scans if self.scans else None


@dataclass(frozen=True)
class CodeStats:
    days: tuple[StatDay, ...]  # oldest first

    @property
    def total(self) -> StatDay:
        return StatDay(
            "", sum(d.scans for d in self.days), sum(d.leads for d in self.days),
            sum(d.new_customers for d in self.days), sum(d.existing_customers for d in self.days),
        )


@dataclass(frozen=True)
class Choice:
    id: str
    name: str
    group: str = ""


def validate(data: CodeInput, now_ms: int) -> dict[str, Any]:
    """Clean and check the form (no database needed); raises :class:`UserError`."""
    label = data.label.strip()
    if not label:
        raise UserError("code.label_required")
    if len(label) > LABEL_MAX:
        raise UserError("code.label_too_long", limit=LABEL_MAX)
    welcome = data.welcome_text.strip()
    if len(welcome) > WELCOME_MAX:
        raise UserError("code.welcome_too_long", limit=WELCOME_MAX)
    campaign = data.campaign_id.strip()
    if len(campaign) > CAMPAIGN_ID_MAX:
        raise UserError("code.bad_campaign")
    tags = list(dict.fromkeys(t for t in data.auto_tag_ids if t))
    if len(tags) > AUTO_TAGS_MAX:
        raise UserError("code.too_many_tags", limit=AUTO_TAGS_MAX)
    expires_at = None
    if data.expires_on is not None:
        expires_at = end_of_day_ms(data.expires_on)
        if expires_at <= now_ms:
            raise UserError("code.expiry_in_past", day=data.expires_on.isoformat())
    check_logo(data.logo)
    return {
        "label": label, "channel": normalize_channel(data.channel), "campaign_id": campaign,
        "auto_tag_ids": tags, "welcome_text": welcome, "expires_at": expires_at, "logo": data.logo,
    }


def replace_code_stats(session: Session, code_id: str, days: Iterable[StatDay]) -> None:
    """HQ-owned figures of one code, replaced as a whole (called by sync when a pull carries them)."""
    session.execute(delete(CodeStat).where(CodeStat.code_id == code_id))
    session.add_all(
        CodeStat(code_id=code_id, day=d.day, scans=d.scans, leads=d.leads, new_customers=d.new_customers,
                 existing_customers=d.existing_customers)
        for d in days
    )


def sync_states(session: Session, code_ids: Sequence[str] | None = None) -> dict[str, tuple[str, str]]:
    """``{code id: (state, reject reason)}`` for codes with unsynced or refused mutations; codes
    not in the answer are synced (acked rows may be pruned from the outbox, so absence means acked)."""
    q = select(Outbox.entity_id, Outbox.status, Outbox.fields, Outbox.reject_reason, Outbox.reject_code).where(
        Outbox.entity == ENTITY, Outbox.status != "acked"
    )
    if code_ids is not None:
        q = q.where(Outbox.entity_id.in_(code_ids))
    out: dict[str, tuple[str, str]] = {}
    rank = {SYNCED: 0, CHANGES_PENDING: 1, PENDING: 2, REJECTED: 3}
    for entity_id, status, fields, reason, code in session.execute(q):
        creating = "code" in (fields or {})
        if status == "pending":
            state, why = (PENDING if creating else CHANGES_PENDING), ""
        elif creating:  # rejected or discarded: HQ never got the code
            state, why = REJECTED, reason or code
        else:
            continue  # a refused later edit: the code itself still works at HQ
        if rank[state] > rank[out.get(entity_id, (SYNCED, ""))[0]]:
            out[entity_id] = (state, why)
    return out


class CodeService:
    def __init__(self, ctx: AppContext, *, public_url: str | None = None) -> None:
        self.ctx = ctx
        self._public_url = public_url

    # -- reading ---------------------------------------------------------------------------
    def public_url(self, session: Session | None = None) -> str:
        """Where shoppers reach HQ: its public address if HQ named one, else the address this PC
        syncs with (the usual set-up: one HQ address for stores and shoppers alike)."""
        if self._public_url is not None:
            return self._public_url
        if session is None:
            with self.ctx.read() as s:
                return self.public_url(s)
        return get_state(session, PUBLIC_URL_KEY) or get_state(session, HQ_URL_KEY) or ""

    def list_codes(self, *, whole_store: bool = False) -> list[CodeInfo]:
        """The signed-in guide's codes (or, for a manager asking, the whole store's), newest first."""
        with self.ctx.read() as s:
            q = select(AcquisitionCode).where(
                AcquisitionCode.store_id == self.ctx.store_id, AcquisitionCode.deleted_hlc.is_(None)
            )
            if not (whole_store and self.ctx.actor.is_manager):
                q = q.where(AcquisitionCode.guide_id == self.ctx.actor.guide_id)
            rows = list(s.scalars(q.order_by(AcquisitionCode.id.desc())))
            return self._infos(s, rows)

    def get(self, code_id: str) -> CodeInfo:
        with self.ctx.read() as s:
            return self._infos(s, [self._row(s, code_id)])[0]

    def _infos(self, s: Session, rows: Sequence[AcquisitionCode]) -> list[CodeInfo]:
        if not rows:
            return []
        ids = [r.id for r in rows]
        states = sync_states(s, ids)
        totals = {
            cid: (int(sc or 0), int(nc or 0))
            for cid, sc, nc in s.execute(
                select(CodeStat.code_id, func.sum(CodeStat.scans), func.sum(CodeStat.new_customers))
                .where(CodeStat.code_id.in_(ids)).group_by(CodeStat.code_id)
            )
        }
        guides: dict[str, str] = {gid: name for gid, name in s.execute(select(Guide.id, Guide.name))}
        stores: dict[str, str] = {sid: name for sid, name in s.execute(select(Store.id, Store.name))}
        if self.ctx.actor.name:
            guides.setdefault(self.ctx.actor.guide_id, self.ctx.actor.name)
        base = self.public_url(s)
        now = self.ctx.now_ms()
        out = []
        for r in rows:
            state, reason = states.get(r.id, (SYNCED, ""))
            life = DISABLED if r.disabled else EXPIRED if r.expires_at is not None and r.expires_at <= now else LIVE
            scans, new = totals.get(r.id, (0, 0))
            out.append(CodeInfo(
                id=r.id, code=r.code, url=landing_url(base, r.code) if base else "", store_id=r.store_id,
                store_name=stores.get(r.store_id, ""), guide_id=r.guide_id, guide_name=guides.get(r.guide_id, ""),
                label=r.label, channel=r.channel, campaign_id=r.campaign_id,
                auto_tag_ids=tuple(r.auto_tag_ids or ()), welcome_text=r.welcome_text, expires_at=r.expires_at,
                disabled=r.disabled, logo=r.logo, sync_state=state, reject_reason=reason, life=life,
                scans=scans, new_customers=new,
            ))
        return out

    def stats(self, code_id: str) -> CodeStats:
        with self.ctx.read() as s:
            rows = s.scalars(select(CodeStat).where(CodeStat.code_id == code_id).order_by(CodeStat.day)).all()
            return CodeStats(tuple(
                StatDay(r.day, r.scans, r.leads, r.new_customers, r.existing_customers) for r in rows
            ))

    def tag_names(self, tag_ids: Sequence[str]) -> list[str]:
        """Names of a code's auto-tags, in the code's order (a tag deleted since is left out)."""
        if not tag_ids:
            return []
        with self.ctx.read() as s:
            names = {tid: name for tid, name in s.execute(
                select(Tag.id, Tag.name).where(Tag.id.in_(tag_ids), Tag.deleted_hlc.is_(None)))}
        return [names[t] for t in tag_ids if t in names]

    def tag_choices(self) -> list[Choice]:
        """Tags a code may apply: corp tags, this store's, and the guide's own personal ones."""
        with self.ctx.read() as s:
            rows = s.execute(
                select(Tag.id, Tag.name, TagGroup.name, TagGroup.scope, TagGroup.store_id, TagGroup.owner_guide_id)
                .join(TagGroup, TagGroup.id == Tag.group_id)
                .where(Tag.deleted_hlc.is_(None), TagGroup.deleted_hlc.is_(None))
                .order_by(TagGroup.sort_order, TagGroup.name, Tag.sort_order, Tag.name)
            ).all()
        return [Choice(tid, name, group) for tid, name, group, scope, store_id, owner in rows
                if self._tag_visible(scope, store_id, owner)]

    def _tag_visible(self, scope: str, store_id: str, owner: str) -> bool:
        if scope == "corp":
            return True
        if scope == "store":
            return store_id == self.ctx.store_id
        return owner == self.ctx.actor.guide_id

    def guide_choices(self, store_id: str | None = None) -> list[Choice]:
        with self.ctx.read() as s:
            rows = s.execute(
                select(Guide.id, Guide.name).where(
                    Guide.store_id == (store_id or self.ctx.store_id), Guide.active.is_(True),
                    Guide.role.in_(MANAGER_ROLES_FOR_BATCH),
                ).order_by(Guide.name)
            ).all()
        return [Choice(gid, name) for gid, name in rows]

    def store_name(self) -> str:
        with self.ctx.read() as s:
            store = s.get(Store, self.ctx.store_id)
            return store.name if store is not None else ""

    # -- writing ---------------------------------------------------------------------------
    def create(self, data: CodeInput) -> str:
        values = validate(data, self.ctx.now_ms())
        guide_id = data.guide_id or self.ctx.actor.guide_id
        if guide_id != self.ctx.actor.guide_id and not self.ctx.actor.is_manager:
            raise UserError("code.not_yours")
        with self.ctx.write() as w:
            self._check_tags(w.session, values["auto_tag_ids"])
            return self._insert(w, guide_id, values).id

    def update(self, code_id: str, data: CodeInput) -> bool:
        """Save the form; returns False when nothing changed. The code text and guide never change:
        a printed code keeps pointing at the same guide."""
        values = validate(data, self.ctx.now_ms())
        with self.ctx.write() as w:
            row = self._writable(w.session, code_id)
            if row.expires_at is not None and data.expires_on is None and row.expires_at <= self.ctx.now_ms():
                values["expires_at"] = row.expires_at  # leaving an expired code's date empty keeps it expired
            self._check_tags(w.session, values["auto_tag_ids"])
            return bool(w.apply(ENTITY, row, values))

    def set_disabled(self, code_id: str, disabled: bool) -> bool:
        with self.ctx.write() as w:
            return bool(w.apply(ENTITY, self._writable(w.session, code_id), {"disabled": disabled}))

    def expire_now(self, code_id: str) -> bool:
        """Stop the code from now on (unlike disabling, meant to be final; editing can extend it)."""
        with self.ctx.write() as w:
            row = self._writable(w.session, code_id)
            now = self.ctx.now_ms()
            if row.expires_at is not None and row.expires_at <= now:
                return False
            return bool(w.apply(ENTITY, row, {"expires_at": now}))

    def generate_for_store(self, template: CodeInput, *, store_id: str | None = None) -> list[str]:
        """One code per active guide of the store, in one transaction (managers only). The label is
        the guide's name followed by the template's label."""
        if not self.ctx.actor.is_manager:
            raise UserError("code.manager_only")
        store_id = store_id or self.ctx.store_id
        guides = self.guide_choices(store_id)
        if not guides:
            raise UserError("code.store_has_no_guides")
        suffix = template.label.strip()
        with self.ctx.write() as w:
            made: list[str] = []
            for g in guides:
                label = f"{g.name} · {suffix}"[:LABEL_MAX] if suffix else g.name[:LABEL_MAX]
                values = validate(
                    CodeInput(label=label, channel=template.channel, campaign_id=template.campaign_id,
                              auto_tag_ids=template.auto_tag_ids, welcome_text=template.welcome_text,
                              expires_on=template.expires_on, logo=template.logo),
                    self.ctx.now_ms(),
                )
                if not made:
                    self._check_tags(w.session, values["auto_tag_ids"])
                made.append(self._insert(w, g.id, values, store_id=store_id).id)
            return made

    def _insert(self, w: Writer, guide_id: str, values: dict[str, Any], *,
                store_id: str | None = None) -> AcquisitionCode:
        now = self.ctx.now_ms()
        taken = _TakenCodes(w.session)
        row = AcquisitionCode(id=uuid7(now), field_hlc={})
        w.apply(ENTITY, row, {
            **values, "store_id": store_id or self.ctx.store_id, "guide_id": guide_id, "code": new_code_text(taken),
            "disabled": False,
        }, new=True)
        return row

    def _row(self, s: Session, code_id: str) -> AcquisitionCode:
        row = s.scalars(select(AcquisitionCode).where(AcquisitionCode.id == code_id)).first()
        if row is None or row.deleted_hlc is not None:
            raise UserError("code.not_found")
        return row

    def _writable(self, s: Session, code_id: str) -> AcquisitionCode:
        row = self._row(s, code_id)
        actor = self.ctx.actor
        if row.guide_id != actor.guide_id and not (actor.is_manager and row.store_id == actor.store_id):
            raise UserError("code.not_yours")
        return row

    def _check_tags(self, s: Session, tag_ids: Sequence[str]) -> None:
        if not tag_ids:
            return
        known = set(s.scalars(select(Tag.id).where(Tag.id.in_(tag_ids), Tag.deleted_hlc.is_(None))))
        missing = [t for t in tag_ids if t not in known]
        if missing:
            raise UserError("code.unknown_tag", count=len(missing))


class _TakenCodes:
    """``in`` asks the database, so uniqueness holds against every code this PC knows."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __contains__(self, text: object) -> bool:
        return self.session.scalar(select(AcquisitionCode.pk).where(AcquisitionCode.code == text)) is not None

