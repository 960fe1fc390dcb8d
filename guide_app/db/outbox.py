"""The outbox: every local write of a synced row appends one mutation in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guide_app.db.bulk import insert_values
from guide_app.db.models import Outbox
from guide_app.domain.ids import uuid7


def mutation(
    *,
    entity: str,
    entity_id: str,
    fields: dict[str, Any],
    field_hlc: dict[str, str],
    now_ms: int,
    deleted_hlc: str | None = None,
) -> dict[str, Any]:
    """The values of one pending outbox row (everything but ``device_seq``, which the insert assigns)."""
    return {
        "op_id": uuid7(now_ms),
        "entity": entity,
        "entity_id": entity_id,
        "fields": fields,
        "field_hlc": field_hlc,
        "deleted_hlc": deleted_hlc,
        "created_at": now_ms,
        "status": "pending",
        "reject_code": "",
        "reject_reason": "",
    }


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
    return add(session, mutation(entity=entity, entity_id=entity_id, fields=fields, field_hlc=field_hlc,
                                 now_ms=now_ms, deleted_hlc=deleted_hlc))


def add(session: Session, values: dict[str, Any]) -> Outbox:
    """Insert one :func:`mutation` row now."""
    row = Outbox(**values)
    session.add(row)
    session.flush()  # assigns device_seq inside this transaction
    return row


def append_many(session: Session, mutations: Sequence[dict[str, Any]]) -> None:
    """Insert :func:`mutation` rows with one executemany; ``device_seq`` follows the list order."""
    insert_values(session, Outbox, mutations)


def pending_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Outbox).where(Outbox.status == "pending")) or 0)
