"""Erasing a customer on request (PIPL): managers only.

The personal fields are wiped (name, phone, WeChat, gender, birthday, preferences, sizes, notes; the
text of follow-ups, purchase items and task notes; tag assignments), every channel is set to
opted-out, and the record becomes a tombstone marked ``erased``. What remains is the id, the store,
the source and the dates (so figures still add up) and one audit entry saying who erased it and when.

It spreads like any change: the wipes go up through the outbox, HQ applies them, wipes its own
copies (history, refused payloads, ledger phone) and from then on refuses every write to the record
or its children, so a PC that was offline with the old data cannot bring it back. Each PC applies
the erase on pull with :func:`wipe_local`, which also scrubs its own unsent writes and local history.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from guide_app.db.models import (
    CampaignTask,
    Customer,
    CustomerHistory,
    CustomerTag,
    FollowUp,
    Outbox,
    Purchase,
)
from guide_app.db.search_index import unindex_customer
from guide_app.domain.erasure import CHILD_TEXT, ERASED_VALUES, OPTED_OUT, WIPED
from guide_app.domain.errors import UserError
from guide_app.services.audit import record
from guide_app.services.context import AppContext

REASON_MAX = 200
_CHILD_MODELS: dict[str, Any] = {"follow_up": FollowUp, "purchase": Purchase, "campaign_task": CampaignTask}


def wipe_local(session: Session, customer_ids: Iterable[str]) -> None:
    """Scrub what this PC keeps of erased customers outside their synced row: local history, search
    keys, child texts, and the personal values in writes still waiting in the outbox (those are
    sent as wiped values; HQ refuses them for an erased record anyway)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return
    session.execute(delete(CustomerHistory).where(CustomerHistory.customer_id.in_(ids)))
    for pk in session.scalars(select(Customer.pk).where(Customer.id.in_(ids))):
        unindex_customer(session, pk)
    session.execute(update(Customer).where(Customer.id.in_(ids)).values(**WIPED, **OPTED_OUT, erased=True))
    for entity, names in CHILD_TEXT.items():
        model = _CHILD_MODELS[entity]
        session.execute(update(model).where(model.customer_id.in_(ids)).values(dict.fromkeys(names, "")))
    wanted = set(ids)
    pending = session.execute(select(Outbox.device_seq, Outbox.entity, Outbox.entity_id, Outbox.fields)
                              .where(Outbox.status.in_(("pending", "rejected")))).all()
    for seq, entity, entity_id, fields in pending:
        fields = dict(fields or {})
        if entity == "customer" and entity_id in wanted:
            scrubbed = {k: WIPED.get(k, v) for k, v in fields.items()}
        elif entity in CHILD_TEXT and fields.get("customer_id") in wanted:
            scrubbed = {k: ("" if k in CHILD_TEXT[entity] else v) for k, v in fields.items()}
        else:
            continue
        if scrubbed != fields:
            session.execute(update(Outbox).where(Outbox.device_seq == seq).values(fields=scrubbed))


class EraseService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def erase(self, customer_id: str, reason: str = "") -> None:
        """Wipe one customer's personal data everywhere (see module doc). Cannot be undone."""
        if not self.ctx.actor.is_manager:
            raise UserError("security.erase.managers_only")
        reason = (reason or "").strip()
        if len(reason) > REASON_MAX:
            raise UserError("security.erase.reason_too_long", limit=REASON_MAX)
        with self.ctx.write() as w:
            c = w.session.scalars(select(Customer).where(Customer.id == customer_id)).first()
            if c is None or c.store_id != self.ctx.store_id:
                raise UserError("customer.not_found")
            if c.erased:
                raise UserError("security.erase.already")
            # records HQ merged into this one hold the same person's data
            records = [c]
            for _hop in range(8):
                ids = [r.id for r in records]
                more = [r for r in w.session.scalars(select(Customer).where(Customer.merged_into.in_(ids)))
                        if r.id not in ids]
                if not more:
                    break
                records.extend(more)
            ids = [r.id for r in records]
            # children first: HQ accepts their wipes before the record itself refuses every write
            for entity, names in CHILD_TEXT.items():
                model = _CHILD_MODELS[entity]
                for child in w.session.scalars(select(model).where(model.customer_id.in_(ids))):
                    w.apply(entity, child, dict.fromkeys(names, ""))
            for link in w.session.scalars(select(CustomerTag).where(CustomerTag.customer_id.in_(ids),
                                                                   CustomerTag.active.is_(True))):
                w.apply("customer_tag", link, {"removed_hlc": w.stamp()})
                link.active = False
            for row in reversed(records):  # the merged ones first, the record HQ forwards to last
                w.apply("customer", row, dict(ERASED_VALUES))
                row.sort_name = ""
                if row.deleted_hlc is None:
                    w.tombstone("customer", row)
            record(w, "erase", customer_id, reason=reason, records=len(records))
            w.session.flush()
            wipe_local(w.session, ids)
