"""Moving a guide's customers to other guides of the store (离职继承 when they leave, 在职转接 while
they stay). Managers only.

What moves with a customer: the owner (so their reminders appear in the new guide's due list, which
is by owner) and their open campaign tasks. Past follow-ups, purchases and done tasks keep their
author: they are what the old guide did. The customer's source (the 活码 that brought them) is
history and stays; the codes themselves stay with their guide, because HQ refuses to re-point a
printed code (``code_immutable``: every poster would silently change hands).

Each customer's history shows the transfer (owner old → new, and the handover note); one audit
entry records the whole hand-over. On the boards a transferred customer is never "new": HQ's ledger
counts a customer for its first acquirer only, and a transfer is a plain owner change with a fresh
stamp, exactly what this module writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from guide_app.db.models import CampaignTask, Customer, CustomerHistory, Guide
from guide_app.domain.errors import UserError
from guide_app.services.audit import record
from guide_app.services.context import AppContext, Writer
from guide_app.services.customers import update_customer_row

NOTE_MAX = 500
MAX_TARGETS = 20


@dataclass
class TransferResult:
    customers: int = 0
    per_guide: dict[str, int] = field(default_factory=dict)
    tasks: int = 0


def split_evenly(customer_ids: Sequence[str], targets: Sequence[str]) -> dict[str, str]:
    """Customer → guide, round-robin in the given order: counts differ by at most one."""
    return {cid: targets[i % len(targets)] for i, cid in enumerate(customer_ids)}


class TransferService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def _require_manager(self) -> None:
        if not self.ctx.actor.is_manager:
            raise UserError("security.transfer.managers_only")

    def customers_of(self, guide_id: str) -> list[str]:
        """The live customers ``guide_id`` owns in this store, in name order."""
        with self.ctx.read() as s:
            return list(s.scalars(select(Customer.id).where(
                Customer.store_id == self.ctx.store_id, Customer.owner_guide_id == guide_id,
                Customer.deleted_hlc.is_(None), Customer.merged_into.is_(None),
            ).order_by(Customer.sort_name, Customer.id)))

    def departed_with_customers(self) -> list[tuple[str, str, int]]:
        """Guides HQ disabled who still own customers here: (id, name, count) — the app asks the
        manager to hand these books over."""
        with self.ctx.read() as s:
            gone = s.execute(select(Guide.id, Guide.name).where(Guide.store_id == self.ctx.store_id,
                                                               Guide.active.is_(False))).all()
        out = [(gid, name, len(self.customers_of(gid))) for gid, name in gone]
        return [g for g in out if g[2]]

    def transfer(self, from_guide_id: str, assignment: dict[str, str], note: str = "") -> TransferResult:
        """Give each customer of ``assignment`` (customer id → new guide id) to its new guide.

        Every customer must belong to ``from_guide_id``; every new guide must be an active guide of
        this store other than ``from_guide_id``. All of it is one transaction: it happens entirely or
        not at all."""
        self._require_manager()
        note = (note or "").strip()
        if len(note) > NOTE_MAX:
            raise UserError("security.transfer.note_too_long", limit=NOTE_MAX)
        if not assignment:
            raise UserError("security.transfer.nothing_selected")
        targets = set(assignment.values())
        if len(targets) > MAX_TARGETS:
            raise UserError("security.transfer.too_many_targets", limit=MAX_TARGETS)
        result = TransferResult()
        with self.ctx.write() as w:
            self._check_targets(w, from_guide_id, targets)
            rows = {c.id: c for c in w.session.scalars(select(Customer).where(Customer.id.in_(list(assignment))))}
            for cid in assignment:
                c = rows.get(cid)
                if c is None or c.store_id != self.ctx.store_id or c.deleted_hlc is not None or c.merged_into:
                    raise UserError("security.transfer.customer_gone")
                if c.owner_guide_id != from_guide_id:
                    raise UserError("security.transfer.not_their_customer", name=c.name)
            tasks = self._open_tasks(w, list(assignment), from_guide_id)
            for cid, to in assignment.items():
                self._move(w, rows[cid], to, note)
                result.per_guide[to] = result.per_guide.get(to, 0) + 1
            for task in tasks:
                w.apply("campaign_task", task, {"guide_id": assignment[task.customer_id]})
            result.tasks = len(tasks)
            result.customers = len(assignment)
            record(w, "transfer", from_guide_id, customers=result.customers, to=result.per_guide,
                   tasks=result.tasks, note=note[:200])
        return result

    def transfer_evenly(self, from_guide_id: str, customer_ids: Sequence[str] | None, targets: Sequence[str],
                        note: str = "") -> TransferResult:
        """All of the guide's customers (``customer_ids`` None) or the given ones, shared out evenly."""
        if not targets:
            raise UserError("security.transfer.no_target")
        ids = self.customers_of(from_guide_id) if customer_ids is None else list(customer_ids)
        return self.transfer(from_guide_id, split_evenly(ids, list(dict.fromkeys(targets))), note)

    # --- parts ---------------------------------------------------------------------------------------
    def _check_targets(self, w: Writer, from_guide_id: str, targets: set[str]) -> None:
        guides = {g.id: g for g in w.session.scalars(select(Guide).where(Guide.id.in_(list(targets))))}
        for gid in sorted(targets):
            g = guides.get(gid)
            if g is None:
                raise UserError("security.transfer.unknown_guide")
            if g.store_id != self.ctx.store_id:
                raise UserError("security.transfer.other_store", name=g.name)
            if not g.active:
                raise UserError("security.transfer.inactive_guide", name=g.name)
            if gid == from_guide_id:
                raise UserError("security.transfer.same_guide", name=g.name)

    def _open_tasks(self, w: Writer, customer_ids: list[str], from_guide_id: str) -> list[CampaignTask]:
        out: list[CampaignTask] = []
        for i in range(0, len(customer_ids), 500):
            out.extend(w.session.scalars(select(CampaignTask).where(
                CampaignTask.customer_id.in_(customer_ids[i:i + 500]), CampaignTask.status == "open",
                CampaignTask.deleted_hlc.is_(None), CampaignTask.guide_id.in_((from_guide_id, "")))))
        return out

    def _move(self, w: Writer, customer: Customer, to: str, note: str) -> None:
        update_customer_row(w, customer, {"owner_guide_id": to}, kind="transfer")
        if note:
            w.add_rows(CustomerHistory, [{"customer_id": customer.id, "kind": "transfer", "field": "handover_note",
                                          "old_value": None, "new_value": note, "hlc": w.stamps[-1],
                                          "by_guide_id": w.ctx.actor.guide_id, "at": w.ctx.now_ms()}])
