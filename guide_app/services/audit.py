"""The audit log: who revealed, copied, exported, transferred, erased or recorded consent for what.

Entries are written through :meth:`Writer.apply` in the same transaction as what they record, so
they reach HQ through the outbox like any change. There is deliberately no way here to change or
remove an entry: the client offers neither, and HQ refuses a second write to an entry's id
(``audit_immutable``). Managers can read this PC's entries (:meth:`AuditService.entries`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from guide_app.db.models import AuditLog, Guide
from guide_app.domain.errors import UserError
from guide_app.domain.ids import uuid7
from guide_app.services.context import AppContext, Writer

ACTIONS = ("reveal_phone", "copy_phone", "export", "export_refused", "transfer", "erase", "consent")
_TARGET_MAX = 100


def record(w: Writer, action: str, target: str = "", **detail: Any) -> AuditLog:
    """Append one entry inside the caller's write (so it commits, or not, with what it records)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    now = w.ctx.now_ms()
    row = AuditLog(id=uuid7(now), field_hlc={})
    w.apply("audit_log", row, {"store_id": w.ctx.store_id, "actor_id": w.ctx.actor.guide_id, "action": action,
                               "target": target[:_TARGET_MAX], "detail": detail, "at": now}, new=True)
    return row


def local_day_start(ms: int) -> int:
    """Midnight (this PC's time zone) of the day holding ``ms``."""
    day = dt.datetime.fromtimestamp(ms / 1000).date()
    return int(dt.datetime.combine(day, dt.time()).timestamp() * 1000)


def exports_today(ctx: AppContext, actor_id: str) -> dict[str, int]:
    """``actor_id``'s exports on this PC since local midnight: audit entry id → customers exported."""
    since = local_day_start(ctx.now_ms())
    with ctx.read() as s:
        rows = s.execute(select(AuditLog.id, AuditLog.detail).where(
            AuditLog.action == "export", AuditLog.actor_id == actor_id, AuditLog.at >= since))
        return {entry_id: int(d.get("rows", 0)) if isinstance(d, dict) else 0 for entry_id, d in rows}


def exported_today(ctx: AppContext, actor_id: str) -> int:
    """Customers ``actor_id`` exported on this PC since local midnight (from the audit entries)."""
    return sum(exports_today(ctx, actor_id).values())


@dataclass(frozen=True)
class AuditEntry:
    id: str
    at: int
    actor_id: str
    actor_name: str
    action: str
    target: str
    detail: dict[str, Any]


class AuditService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def _require_manager(self) -> None:
        if not self.ctx.actor.is_manager:
            raise UserError("security.audit.managers_only")

    def entries(self, *, action: str = "", limit: int = 500) -> list[AuditEntry]:
        """The newest entries of this store on this PC, newest first (managers only)."""
        self._require_manager()
        stmt = select(AuditLog).where(AuditLog.store_id == self.ctx.store_id)
        if action:
            stmt = stmt.where(AuditLog.action == action)
        with self.ctx.read() as s:
            names = {gid: name for gid, name in s.execute(select(Guide.id, Guide.name))}
            rows = s.scalars(stmt.order_by(AuditLog.at.desc(), AuditLog.pk.desc()).limit(limit)).all()
            return [AuditEntry(r.id, r.at, r.actor_id, names.get(r.actor_id, ""), r.action, r.target,
                               dict(r.detail or {})) for r in rows]

    def count(self) -> int:
        self._require_manager()
        with self.ctx.read() as s:
            return int(s.scalar(select(func.count()).select_from(AuditLog)
                                .where(AuditLog.store_id == self.ctx.store_id)) or 0)
