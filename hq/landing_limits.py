"""Rate limits of the landing page, counted in the database (``landing_hit``) so every ``hq serve``
process shares them: page views and form posts per code and per client address in a sliding window.

Shoppers in one mall often share a carrier's public address, so the per-address limits leave room for
a queue of people at one counter; they stop scripts, not customers.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hq.landing_models import LandingHit

WINDOW_MS = 10 * 60 * 1000
# kind → (per code, per client address) within the window
LIMITS: dict[str, tuple[int, int]] = {
    "scan": (2000, 120),
    "submit": (300, 20),
}


def allowed(session: Session, kind: str, code: str, address: str, now_ms: int) -> bool:
    per_code, per_address = LIMITS[kind]
    since = now_ms - WINDOW_MS
    by_address = session.scalar(
        select(func.count()).where(LandingHit.kind == kind, LandingHit.address == address[:64], LandingHit.at >= since)
    )
    if int(by_address or 0) >= per_address:
        return False
    by_code = session.scalar(
        select(func.count()).where(LandingHit.kind == kind, LandingHit.code == code[:30], LandingHit.at >= since)
    )
    return int(by_code or 0) < per_code


def record(session: Session, kind: str, code: str, address: str, now_ms: int) -> None:
    session.add(LandingHit(kind=kind, code=code[:30], address=address[:64], at=now_ms))
    # hits older than the window count for nothing: trim as we go so the table stays small
    session.execute(delete(LandingHit).where(LandingHit.at < now_ms - 2 * WINDOW_MS))


def retry_after_seconds() -> int:
    return WINDOW_MS // 1000
