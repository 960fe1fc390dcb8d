"""Login throttling kept in the database, so every ``hq serve`` process behind a balancer counts the
same failures: per username (failures since its last success) and per client address."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hq import config
from hq.models import LoginAttempt


def failures(session: Session, *, username: str, address: str, now_ms: int) -> tuple[int, int]:
    since = now_ms - config.LOGIN_WINDOW_SECONDS * 1000
    last_ok = session.scalar(
        select(func.max(LoginAttempt.at)).where(LoginAttempt.username == username, LoginAttempt.ok.is_(True))
    )
    user_since = max(since, (last_ok or 0) + 1)
    per_user = session.scalar(
        select(func.count()).where(
            LoginAttempt.username == username, LoginAttempt.ok.is_(False), LoginAttempt.at >= user_since
        )
    )
    per_address = session.scalar(
        select(func.count()).where(
            LoginAttempt.address == address, LoginAttempt.ok.is_(False), LoginAttempt.at >= since
        )
    )
    return int(per_user or 0), int(per_address or 0)


def limited(session: Session, *, username: str, address: str, now_ms: int) -> bool:
    per_user, per_address = failures(session, username=username, address=address, now_ms=now_ms)
    return per_user >= config.LOGIN_MAX_FAILURES_PER_USER or per_address >= config.LOGIN_MAX_FAILURES_PER_ADDRESS


def record(session: Session, *, username: str, address: str, now_ms: int, ok: bool) -> None:
    session.add(LoginAttempt(username=username[:64], address=address[:64], at=now_ms, ok=ok))
    # old attempts are worthless after the window; trim them as we go so the table stays small
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now_ms - 2 * config.LOGIN_WINDOW_SECONDS * 1000))
