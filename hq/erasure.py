"""Erasure at HQ: a customer erased on request (``erased`` in its row, see ``guide_app.domain.erasure``)
keeps no personal data here, and no later write can bring it back.

- :func:`refuse_writes_to_erased` runs before a mutation is applied: a write to an erased customer,
  or to a row hanging off one, is refused (``erased``) unless it only erases (a second PC erasing
  too). A PC that was offline with the old data is told why its edit was refused.
- :func:`after_write` runs after a customer write: once erased, the personal fields are forced to
  their wiped values with an HQ stamp later than any on the row (a later-stamped edit that won the
  merge loses to this), and the copies HQ keeps elsewhere are wiped: the losing values in
  customer history (including those this very write produced), refused payloads that named the
  record, the phone the leaderboard ledger keeps for re-add checks, and the landing-page leads
  that became this customer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, update

from guide_app.domain.erasure import ERASED_VALUES, is_wipe
from guide_app.sync.protocol import Mutation
from hq.landing_models import CodeLead
from hq.models import CustomerHistory, DeviceMutation, LedgerItem, SyncRow
from hq.sync_rules import Rejected

if TYPE_CHECKING:
    from hq.sync_push import PushContext


def refuse_writes_to_erased(ctx: PushContext, m: Mutation, existing: SyncRow | None) -> None:
    if m.entity == "customer":
        customer = existing
    else:
        customer_id = m.fields.get("customer_id") or (existing.data.get("customer_id") if existing else None)
        customer = ctx.get("customer", str(customer_id)) if customer_id else None
    if customer is None or not customer.data.get("erased"):
        return
    if is_wipe(m.entity, m.fields):
        return
    raise Rejected("erased")


def after_write(ctx: PushContext, row: SyncRow) -> None:
    if row.entity != "customer" or not row.data.get("erased"):
        return
    stale = {k: v for k, v in ERASED_VALUES.items() if row.data.get(k) != v}
    if stale:
        stamp = ctx.stamp_over(row)
        row.data = {**row.data, **stale}
        row.hlc = {**row.hlc, **dict.fromkeys(stale, stamp)}
        ctx.touch(row)
    ctx.session.flush()
    ctx.session.execute(delete(CustomerHistory).where(CustomerHistory.store_id == row.store_id,
                                                      CustomerHistory.customer_id == row.id))
    ctx.session.execute(update(DeviceMutation).where(DeviceMutation.entity_id == row.id,
                                                     DeviceMutation.payload.is_not(None)).values(payload=None))
    ctx.session.execute(update(LedgerItem).where(LedgerItem.entity == "customer", LedgerItem.id == row.id)
                        .values(phone=""))
    ctx.session.execute(update(CodeLead).where(CodeLead.customer_id == row.id).values(phone="", name=""))
