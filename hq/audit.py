"""The audit log as HQ holds it: entries every PC pushed (who revealed, copied, exported,
transferred, erased or recorded consent for what), append-only, newest first, for ``hq admin
list-audit``; and one person's exports of the day, which PCs count against HQ's daily limit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from guide_app.sync.protocol import ExportEntry
from hq.models import Account, Store, SyncRow


@dataclass(frozen=True)
class AuditRow:
    at: str  # UTC, ISO
    store: str
    actor: str
    action: str
    target: str
    detail: dict[str, Any]


def audit_entries(session: Session, *, store_id: str | None = None, action: str | None = None,
                  limit: int = 50) -> list[AuditRow]:
    query = select(SyncRow).where(SyncRow.entity == "audit_log")
    if store_id:
        query = query.where(SyncRow.store_id == store_id)
    rows = list(session.scalars(query.order_by(SyncRow.version.desc(), SyncRow.id.desc())))
    if action:
        rows = [r for r in rows if r.data.get("action") == action]
    rows = rows[:limit]
    names = {a.id: a.username for a in session.scalars(
        select(Account).where(Account.id.in_({str(r.data.get("actor_id", "")) for r in rows})))}
    stores = {s.id: s.name for s in session.scalars(select(Store).where(Store.id.in_({r.store_id for r in rows})))}
    out = []
    for r in rows:
        at = r.data.get("at")
        when = dt.datetime.fromtimestamp(at / 1000, dt.UTC).isoformat(timespec="seconds") if isinstance(at, int) else ""
        actor = str(r.data.get("actor_id", ""))
        out.append(AuditRow(when, stores.get(r.store_id, r.store_id), names.get(actor, actor),
                            str(r.data.get("action", "")), str(r.data.get("target", "")),
                            dict(r.data.get("detail") or {})))
    return out


def exports_since(session: Session, account_id: str, since_ms: int) -> list[ExportEntry]:
    """The exports ``account_id`` made on any PC that HQ holds, from ``since_ms`` on (oldest first).

    Found through ``ix_sync_row_lookup`` (an export entry's ``lookup`` is its actor): one person's
    export entries, a few a day, not the whole audit log."""
    rows = session.execute(select(SyncRow.id, SyncRow.data).where(
        SyncRow.entity == "audit_log", SyncRow.lookup == account_id))
    out = []
    for row_id, data in rows:
        at, detail = data.get("at"), data.get("detail")
        if data.get("action") != "export" or not isinstance(at, int) or at < since_ms:
            continue
        n = detail.get("rows") if isinstance(detail, dict) else 0
        out.append(ExportEntry(id=row_id, rows=n if isinstance(n, int) and n > 0 else 0, at=at))
    return sorted(out, key=lambda e: (e.at, e.id))
