"""Find the live customer a write is about, inside the write's own transaction.

A customer merged into another by HQ (``merged_into``) stands for its survivor: a tag or purchase
recorded on the stale record from an open window lands on the record that remains.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from guide_app.db.models import Customer
from guide_app.domain.errors import UserError

_MAX_MERGE_HOPS = 8


def live_customer(session: Session, customer_id: str, store_id: str) -> Customer:
    c = session.scalars(select(Customer).where(Customer.id == customer_id)).first()
    hops = 0
    while c is not None and c.merged_into is not None and hops < _MAX_MERGE_HOPS:
        c = session.scalars(select(Customer).where(Customer.id == c.merged_into)).first()
        hops += 1
    if c is None or c.store_id != store_id or c.merged_into is not None:
        raise UserError("customer.not_found")
    if c.deleted_hlc is not None:
        raise UserError("customer.deleted")
    return c


def live_customers(session: Session, customer_ids: Sequence[str], store_id: str) -> list[Customer]:
    """The live customers for ``customer_ids`` (survivors for merged ones), each once, in order."""
    direct = {
        c.id: c
        for start in range(0, len(customer_ids), 500)
        for c in session.scalars(select(Customer).where(Customer.id.in_(customer_ids[start:start + 500])))
    }
    out: dict[str, Customer] = {}
    for cid in customer_ids:
        c = direct.get(cid)
        if c is None or c.merged_into is not None or c.deleted_hlc is not None or c.store_id != store_id:
            c = live_customer(session, cid, store_id)  # raises with the precise reason
        out.setdefault(c.id, c)
    return list(out.values())
