"""The outbox: every local write of a synced row appends one mutation in the same transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guide_app.db.models import Outbox
from guide_app.domain.ids import uuid7


def append(
    session: Session,
    *,
    entity: str,
    entity_id: str,
    fields: dict[str, Any],
    field_hlc: dict[str, str],
    now_ms: int,
    deleted_hlc: str | None = None,
) -> Outbox:
    row = Outbox(
        op_id=uuid7(now_ms),
        entity=entity,
        entity_id=entity_id,
        fields=fields,
        field_hlc=field_hlc,
        deleted_hlc=deleted_hlc,
        created_at=now_ms,
        status="pending",
    )
    session.add(row)
    session.flush()  # assigns device_seq inside this transaction
    return row


def pending_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Outbox).where(Outbox.status == "pending")) or 0)
