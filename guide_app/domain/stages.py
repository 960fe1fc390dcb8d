"""Lifecycle stage derived from purchases: new, active, sleeping, lost."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

DAY_MS = 86_400_000


class Stage(StrEnum):
    NEW = "new"
    ACTIVE = "active"
    SLEEPING = "sleeping"
    LOST = "lost"


@dataclass(frozen=True)
class StageThresholds:
    """Days without a purchase after which a customer is sleeping / lost; a customer is new until
    their first purchase or for ``new_days`` after being added."""

    new_days: int = 30
    sleeping_days: int = 90
    lost_days: int = 180

    def validate(self) -> None:
        from guide_app.domain.errors import UserError

        if not (0 < self.new_days and 0 < self.sleeping_days < self.lost_days):
            raise UserError("stage.bad_thresholds")


def derive_stage(created_ms: int, last_purchase_ms: int | None, now_ms: int, t: StageThresholds) -> Stage:
    if last_purchase_ms is None:
        return Stage.NEW if now_ms - created_ms <= t.new_days * DAY_MS else Stage.SLEEPING if (
            now_ms - created_ms <= t.lost_days * DAY_MS
        ) else Stage.LOST
    idle = now_ms - last_purchase_ms
    if idle >= t.lost_days * DAY_MS:
        return Stage.LOST
    if idle >= t.sleeping_days * DAY_MS:
        return Stage.SLEEPING
    return Stage.ACTIVE


def stage_cutoffs(now_ms: int, t: StageThresholds) -> dict[str, int]:
    """Timestamps that bound each stage, for filtering in SQL without computing per row."""
    return {
        "new_since": now_ms - t.new_days * DAY_MS,
        "sleeping_before": now_ms - t.sleeping_days * DAY_MS,
        "lost_before": now_ms - t.lost_days * DAY_MS,
    }
