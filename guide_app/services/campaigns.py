"""Working through a campaign: its target customers (evaluated locally from the pack's segment),
each task per customer marked done with an outcome (synced up as ``campaign_task`` rows), and
progress per guide for managers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from guide_app.db import segment_sql
from guide_app.db.models import CampaignTask, Customer, Guide, Store
from guide_app.domain.entities import CAMPAIGN_OUTCOMES, CAMPAIGN_TASK, CONSENT_CHANNELS
from guide_app.domain.errors import UserError
from guide_app.domain.ids import pair_id
from guide_app.domain.packs import Manifest, Task, render_script
from guide_app.domain.phones import mask_phone
from guide_app.domain.stages import stage_cutoffs
from guide_app.services.codes import Choice
from guide_app.services.context import AppContext
from guide_app.services.customers import get_live, update_customer_row
from guide_app.services.packs import PackService
from guide_app.services.settings import read_stage_thresholds

_NOTE_LIMIT = dict(CAMPAIGN_TASK.max_lengths)["note"]


@dataclass(frozen=True)
class TargetQuery:
    """The segment as SQL on this PC, and the tag references it could not find here."""

    sql: str | None
    params: dict[str, object]
    unknown_tags: list[str]


@dataclass(frozen=True)
class TaskState:
    status: str  # open | done
    outcome: str
    note: str
    done_at: int | None
    guide_id: str


@dataclass
class Target:
    customer_id: str
    name: str
    phone_masked: str
    owner_guide_id: str
    tasks: dict[str, TaskState] = field(default_factory=dict)  # task id -> state (absent: open)

    def done(self, task_id: str) -> bool:
        state = self.tasks.get(task_id)
        return state is not None and state.status == "done"


@dataclass(frozen=True)
class GuideProgress:
    guide_id: str
    guide_name: str
    targets: int
    done: dict[str, int]  # task id -> customers done
    outcomes: dict[str, int] = field(default_factory=dict)  # outcome -> tasks done with it

    def completion(self, task_count: int) -> float:
        total = self.targets * task_count
        return sum(self.done.values()) / total if total else 0.0


@dataclass(frozen=True)
class QrDefaults:
    channel: str
    label: str
    auto_tag_ids: list[str]
    welcome_text: str
    unknown_tags: list[str]  # auto-tags this PC has no tag for


def task_row_id(store_id: str, pack_id: str, task_id: str, customer_id: str) -> str:
    """Deterministic, so two PCs of a store marking the same task offline update one row."""
    return pair_id("campaign_task", store_id, pack_id, task_id, customer_id)


class CampaignService:
    def __init__(self, ctx: AppContext, packs: PackService | None = None) -> None:
        self.ctx = ctx
        self.packs = packs or PackService(ctx)

    # ------------------------------------------------------------ targets

    def target_query(
        self, session: Session, manifest: Manifest, *, owner_guide_id: str | None = None,
        customer_id: str | None = None, select_cols: str = "c.id",
    ) -> TargetQuery:
        seg = manifest.segment
        tags = segment_sql.resolve_tags(session, [*seg.tags.all_of, *seg.tags.any_of, *seg.tags.none_of])
        now = self.ctx.now_ms()
        built = segment_sql.build(
            seg, tags, store_id=self.ctx.store_id, now_ms=now,
            cutoffs=stage_cutoffs(now, read_stage_thresholds(session)) if seg.stages else {},
            owner_guide_id=owner_guide_id, customer_id=customer_id, select=select_cols,
        )
        if built is None:
            return TargetQuery(None, {}, tags.unknown)
        return TargetQuery(built[0], built[1], tags.unknown)

    def target_ids(self, pack_id: str, *, owner_guide_id: str | None = None) -> list[str]:
        manifest = self.packs.get(pack_id).manifest
        with self.ctx.read() as s:
            q = self.target_query(s, manifest, owner_guide_id=owner_guide_id)
            if q.sql is None:
                return []
            return [r[0] for r in s.execute(text(q.sql), q.params)]

    def targets(self, pack_id: str, *, owner_guide_id: str | None = None) -> list[Target]:
        """Target customers (by name order) with their task states; ``owner_guide_id`` limits the list to
        one guide's customers (a guide's own view), None gives the whole store (a manager's)."""
        manifest = self.packs.get(pack_id).manifest
        with self.ctx.read() as s:
            q = self.target_query(s, manifest, owner_guide_id=owner_guide_id,
                                  select_cols="c.id, c.name, c.phone, c.owner_guide_id")
            if q.sql is None:
                return []
            rows = s.execute(text(q.sql + " ORDER BY c.sort_name, c.id"), q.params).all()
            out = {r[0]: Target(r[0], r[1], mask_phone(r[2]) if r[2] else "", r[3]) for r in rows}
            for t in self._task_rows(s, pack_id):
                if t.customer_id in out:
                    out[t.customer_id].tasks[t.task_id] = TaskState(t.status, t.outcome, t.note, t.done_at, t.guide_id)
        return list(out.values())

    def unknown_tags(self, pack_id: str) -> list[str]:
        """Tag references of the segment that this PC has no tag for (shown as a hint on the page)."""
        manifest = self.packs.get(pack_id).manifest
        with self.ctx.read() as s:
            return self.target_query(s, manifest).unknown_tags

    def _task_rows(self, session: Session, pack_id: str) -> Sequence[CampaignTask]:
        return session.scalars(select(CampaignTask).where(
            CampaignTask.store_id == self.ctx.store_id, CampaignTask.pack_id == pack_id,
            CampaignTask.deleted_hlc.is_(None))).all()

    # ------------------------------------------------------------ tasks

    def _task(self, manifest: Manifest, task_id: str) -> Task:
        for task in manifest.tasks:
            if task.id == task_id:
                return task
        raise UserError("campaign.unknown_task", task=task_id)

    def mark_done(self, pack_id: str, task_id: str, customer_id: str, outcome: str, note: str | None = None) -> None:
        """Record a task as done for a customer. Outcome ``opted_out`` also records the customer's
        opt-out on every channel, so no later campaign targets them either. ``note=None`` keeps the note."""
        if outcome not in CAMPAIGN_OUTCOMES or not outcome:
            raise UserError("campaign.bad_outcome", value=outcome)
        self._set(pack_id, task_id, customer_id, status="done", outcome=outcome, note=note)

    def reopen(self, pack_id: str, task_id: str, customer_id: str) -> None:
        self._set(pack_id, task_id, customer_id, status="open", outcome="", note=None)

    def _set(self, pack_id: str, task_id: str, customer_id: str, *, status: str, outcome: str,
             note: str | None) -> None:
        pack = self.packs.get(pack_id)
        if pack.status != "installed":
            raise UserError("campaign.pack_not_installed", id=pack_id)
        self._task(pack.manifest, task_id)
        if note is not None:
            note = note.strip()
            if len(note) > _NOTE_LIMIT:
                raise UserError("campaign.note_too_long", limit=_NOTE_LIMIT)
        with self.ctx.write() as w:
            customer = get_live(w.session, customer_id)
            row_id = task_row_id(self.ctx.store_id, pack_id, task_id, customer_id)
            row = w.session.scalars(select(CampaignTask).where(CampaignTask.id == row_id)).first()
            if row is None or row.status != "done":
                # a new task must be for a target; one already done stays editable even if the
                # customer has since left the segment (e.g. opted out through this very task)
                q = self.target_query(w.session, pack.manifest, customer_id=customer_id)
                if q.sql is None or w.session.execute(text(q.sql), q.params).first() is None:
                    raise UserError("campaign.not_a_target")
            changes: dict[str, object] = {
                "status": status, "outcome": outcome,
                "done_at": self.ctx.now_ms() if status == "done" else None,
                "guide_id": self.ctx.actor.guide_id,
            }
            if note is not None:
                changes["note"] = note
            if row is None:
                row = CampaignTask(id=row_id, field_hlc={})
                base = {"store_id": self.ctx.store_id, "pack_id": pack_id, "task_id": task_id,
                        "customer_id": customer_id, "note": ""}
                w.apply("campaign_task", row, {**base, **changes}, new=True)
            else:
                w.apply("campaign_task", row, changes)
            if outcome == "opted_out":
                update_customer_row(w, customer, {f"consent_{ch}": "opted_out" for ch in CONSENT_CHANNELS})

    # ------------------------------------------------------------ progress and materials

    def guide_names(self) -> dict[str, str]:
        with self.ctx.read() as s:
            return dict(s.execute(select(Guide.id, Guide.name).where(Guide.store_id == self.ctx.store_id)).all())

    def progress(self, pack_id: str) -> list[GuideProgress]:
        """Per guide of this store: their target customers and how many are done per task."""
        manifest = self.packs.get(pack_id).manifest
        targets = self.targets(pack_id)
        names = self.guide_names()
        by_guide: dict[str, list[Target]] = {}
        for t in targets:
            by_guide.setdefault(t.owner_guide_id, []).append(t)
        out = []
        for guide_id, items in sorted(by_guide.items(), key=lambda kv: names.get(kv[0], kv[0])):
            done = Counter(task.id for t in items for task in manifest.tasks if t.done(task.id))
            outcomes = Counter(t.tasks[task.id].outcome for t in items for task in manifest.tasks if t.done(task.id))
            out.append(GuideProgress(guide_id, names.get(guide_id, ""), len(items),
                                     {task.id: done.get(task.id, 0) for task in manifest.tasks}, dict(outcomes)))
        return out

    def script_for(self, pack_id: str, material_id: str, customer_id: str) -> str:
        """A script with the customer's, the guide's and the store's names filled in, ready to copy."""
        body = self.packs.script_text(pack_id, material_id)
        with self.ctx.read() as s:
            customer = s.scalars(select(Customer).where(Customer.id == customer_id)).first()
            store = s.get(Store, self.ctx.store_id)
        if customer is None:
            raise UserError("customer.not_found")
        return render_script(body, name=customer.name, guide=self.ctx.actor.name,
                             store=store.name if store is not None else "")

    def code_campaigns(self) -> list[Choice]:
        """Running campaigns an acquisition code may be linked to (CodesPage(campaigns=...))."""
        return [Choice(p.id, p.title) for p in self.packs.packs()]

    def qr_defaults(self, pack_id: str) -> QrDefaults | None:
        """How a code made for this campaign starts out (its pack's QR template), with the auto-tags
        resolved to this PC's tag ids; None when the pack has no template."""
        template = self.packs.get(pack_id).manifest.qr_template
        if template is None:
            return None
        with self.ctx.read() as s:
            tags = segment_sql.resolve_tags(s, template.auto_tags)
        ids = sorted({t for ref in template.auto_tags for t in tags.ids.get(ref, [])})
        return QrDefaults(template.channel, template.label, ids, template.welcome_text, tags.unknown)

    def offer_code(self, pack_id: str, offer_id: str, customer_id: str) -> str:
        manifest = self.packs.get(pack_id).manifest
        for offer in manifest.offers:
            if offer.id == offer_id:
                return offer.code_for(customer_id)
        raise UserError("campaign.unknown_offer", offer=offer_id)
