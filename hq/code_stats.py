"""Per-code daily figures (scans, leads, new customers, existing customers re-reached) in the org's
time zone, and the part of a pull that sends them to the store's PCs when they changed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from guide_app.sync.protocol import CodeStatDay as WireDay
from guide_app.sync.protocol import CodeStatsChange
from hq.landing_models import CodeStatDay
from hq.ledger import org_time_zone


def org_day(session: Session, at_ms: int) -> str:
    return dt.datetime.fromtimestamp(at_ms / 1000, org_time_zone(session)).date().isoformat()


def add(session: Session, *, store_id: str, code_id: str, at_ms: int, version: int, scans: int = 0,
        leads: int = 0, new_customers: int = 0, existing_customers: int = 0) -> None:
    """Count into the code's day and stamp it with ``version``. The caller holds the store's counter
    row lock and sets the store's version to ``version``, as a push does."""
    day = org_day(session, at_ms)
    row = session.get(CodeStatDay, (code_id, day))
    if row is None:
        row = CodeStatDay(code_id=code_id, day=day, store_id=store_id, scans=0, leads=0, new_customers=0,
                          existing_customers=0, version=version)
        session.add(row)
    row.scans += scans
    row.leads += leads
    row.new_customers += new_customers
    row.existing_customers += existing_customers
    row.version = version
    session.flush()


def changed(session: Session, store_id: str, cursor: int, upto: int) -> list[CodeStatsChange]:
    """Every day of each code whose figures changed in versions (cursor, upto]."""
    moved = (
        select(CodeStatDay.code_id)
        .where(CodeStatDay.store_id == store_id, CodeStatDay.version > cursor, CodeStatDay.version <= upto)
        .distinct()
    )
    out: dict[str, list[WireDay]] = {}
    for row in session.scalars(
        select(CodeStatDay).where(CodeStatDay.code_id.in_(moved)).order_by(CodeStatDay.code_id, CodeStatDay.day)
    ):
        out.setdefault(row.code_id, []).append(
            WireDay(day=row.day, scans=row.scans, leads=row.leads, new_customers=row.new_customers,
                    existing_customers=row.existing_customers)
        )
    return [CodeStatsChange(code_id=code_id, days=days) for code_id, days in out.items()]
