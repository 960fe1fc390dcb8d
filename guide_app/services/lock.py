"""The lock of a shared counter PC: on demand (Ctrl+L) or after an idle time, the window content is
hidden until someone proves who they are.

The lock is written to the local file, so quitting or killing the app does not unlock it: the next
start opens on the lock screen. Unlocking as another person of the store is the quick switch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from guide_app.db.engine import Database
from guide_app.db.state import get_setting, set_setting
from guide_app.domain.errors import UserError
from guide_app.services.accounts import AccountService, is_enrolled
from guide_app.services.context import Actor, AppContext
from guide_app.services.org import remember_signed_in, signed_in_actor

LOCK_KEY = "security.lock"
IDLE_KEY = "security.idle_minutes"
DEFAULT_IDLE_MINUTES = 5
IDLE_MINUTES_RANGE = (1, 120)


@dataclass(frozen=True)
class LockState:
    locked: bool
    guide_id: str = ""  # who was signed in when it locked
    at: int = 0
    reason: str = ""  # manual | idle | start


def _read(raw: Any) -> LockState:
    if not isinstance(raw, dict) or not raw.get("locked"):
        return LockState(False)
    return LockState(True, str(raw.get("guide_id") or ""), int(raw.get("at") or 0), str(raw.get("reason") or ""))


class LockService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.accounts = AccountService(ctx)

    def idle_minutes(self) -> int:
        with self.ctx.read() as s:
            value = get_setting(s, IDLE_KEY, DEFAULT_IDLE_MINUTES)
        lo, hi = IDLE_MINUTES_RANGE
        return value if isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi \
            else DEFAULT_IDLE_MINUTES

    def set_idle_minutes(self, minutes: int) -> None:
        lo, hi = IDLE_MINUTES_RANGE
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not lo <= minutes <= hi:
            raise UserError("security.idle.bad_minutes", min=lo, max=hi)
        with self.ctx.db.write() as s:
            set_setting(s, IDLE_KEY, minutes)

    def state(self) -> LockState:
        with self.ctx.read() as s:
            return _read(get_setting(s, LOCK_KEY))

    def lock(self, reason: str = "manual") -> LockState:
        state = LockState(True, self.ctx.actor.guide_id, self.ctx.now_ms(), reason)
        with self.ctx.db.write() as s:
            current = _read(get_setting(s, LOCK_KEY))
            if current.locked:
                return current
            set_setting(s, LOCK_KEY, {"locked": True, "guide_id": state.guide_id, "at": state.at,
                                      "reason": reason})
        return state

    def unlock(self, guide_id: str, secret: str,
               online_check: Callable[[str, str], bool] | None = None) -> Actor:
        """Unlock as ``guide_id`` (the same guide, or another one: the quick switch). The PC then
        belongs to that person: the context's actor changes and the next start opens as them."""
        actor = self.accounts.verify(guide_id, secret, online_check)
        with self.ctx.db.write() as s:
            set_setting(s, LOCK_KEY, {"locked": False})
        self.ctx.actor = actor
        remember_signed_in(self.ctx.db, actor)
        return actor

    def can_unlock(self) -> bool:
        """Whether a lock could be lifted: on a PC enrolled at HQ always (the lock screen signs in
        with the full password); on a PC without HQ only once the signed-in person has a PIN."""
        with self.ctx.read() as s:
            if is_enrolled(s):
                return True
        return self.accounts.has_pin(self.ctx.actor.guide_id)

    def signed_in(self, actor: Actor) -> None:
        """A full password sign-in (checked by HQ) also unlocks, as that person."""
        with self.ctx.db.write() as s:
            set_setting(s, LOCK_KEY, {"locked": False})
        self.ctx.actor = actor
        remember_signed_in(self.ctx.db, actor)


def lock_on_start(db: Database, session_actor: Actor) -> Actor:
    """An HQ PC that came back without anyone typing a password (the keyring session resumed): the
    person who used it last must show they are still there, so it opens locked, as them."""
    last = signed_in_actor(db)
    actor = last if last is not None and last.store_id == session_actor.store_id else session_actor
    lock = LockService(AppContext(db, actor))
    if lock.can_unlock():
        lock.lock("start")
    return actor
