"""Who may use this shared counter PC, and how they prove it.

- A guide signs in once with their full password (at HQ, or the offline profile on a PC without
  HQ), then sets a short PIN here for the quick switch and for unlocking. The PIN is stored only as
  a salted scrypt hash (``domain.pins``).
- Managers and HQ admins never use a PIN: they unlock and switch with their full password, checked
  at HQ when online, and offline against the verifier kept from their last online sign-in.
- Failed attempts are counted per account on this PC: every fifth one starts a wait that grows,
  and after fifteen in a row the PIN stops working until the guide signs in with their password.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from guide_app.db.engine import Database
from guide_app.db.models import Guide, PcAccount, Store
from guide_app.db.state import get_state
from guide_app.domain.errors import UserError
from guide_app.domain.pins import (
    MAX_ATTEMPTS,
    AttemptState,
    after_failure,
    check_pin_rules,
    hash_secret,
    verify_secret,
)
from guide_app.domain.pinyin_keys import sort_key
from guide_app.services.context import Actor, AppContext
from guide_app.services.org import ensure_local_profile, local_store_id

MANAGER_ROLES = ("store_manager", "region_manager", "hq_admin")


def uses_password(role: str, enrolled: bool = True) -> bool:
    """Managers and HQ admins always use their full password, never a PIN — on a PC enrolled at HQ.
    A PC without HQ has no passwords at all, so its offline profiles (managers too) use PINs."""
    return enrolled and role in MANAGER_ROLES


def is_enrolled(session: Session) -> bool:
    return bool(get_state(session, "device_id"))


@dataclass(frozen=True)
class PcUser:
    """One person who can pick up this PC: a guide with a PIN here, or a manager with a verifier."""

    guide_id: str
    name: str
    role: str
    has_pin: bool
    has_password: bool
    active: bool
    uses_password: bool = False


def _account(s: Session, guide_id: str, now: int) -> PcAccount:
    row = s.get(PcAccount, guide_id)
    if row is None:
        row = PcAccount(guide_id=guide_id, pin_hash="", password_verifier="", failed_attempts=0,
                        locked_until=None, updated_at=now)
        s.add(row)
    return row


def remember_password(db: Database, guide_id: str, password: str, now: int) -> None:
    """After a successful online sign-in with the full password: keep a verifier (scrypt, salted)
    of a manager's password so they can unlock this PC offline; any password sign-in also clears
    the account's failed attempts here (and so turns a PIN stopped after too many failures back on)."""
    digest = hash_secret(password) if password else ""
    with db.write() as s:
        g = s.get(Guide, guide_id)
        row = _account(s, guide_id, now)
        if g is not None and uses_password(g.role) and digest:
            row.password_verifier = digest
        row.failed_attempts = 0
        row.locked_until = None
        row.updated_at = now


def _actor(g: Guide) -> Actor:
    return Actor(guide_id=g.id, store_id=g.store_id, role=g.role, name=g.name)


class AccountService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    # --- who is on this PC ---------------------------------------------------------------------
    def users(self) -> list[PcUser]:
        """People of this store who can switch to this PC without HQ: guides with a PIN here,
        managers whose password this PC can check offline. Pinyin order, the signed-in one first."""
        with self.ctx.read() as s:
            rows = s.execute(select(Guide, PcAccount).join(PcAccount, PcAccount.guide_id == Guide.id)
                             .where(Guide.store_id == self.ctx.store_id)).all()
            enrolled = is_enrolled(s)
        out = [PcUser(g.id, g.name, g.role, bool(a.pin_hash), bool(a.password_verifier), g.active,
                      uses_password(g.role, enrolled))
               for g, a in rows if g.active and (a.pin_hash or a.password_verifier)]
        me = self.ctx.actor.guide_id
        return sorted(out, key=lambda u: (u.guide_id != me, sort_key(u.name)))

    def people_for_lock(self) -> list[PcUser]:
        """Who the lock screen offers: :meth:`users`, and the signed-in person first even without a
        PIN yet (on an HQ PC they can still sign in with their password)."""
        people = self.users()
        me = self.ctx.actor
        if me.guide_id not in {p.guide_id for p in people}:
            people.insert(0, PcUser(me.guide_id, me.name, me.role, False, False, True, self.uses_password(me.role)))
        return people

    def has_pin(self, guide_id: str) -> bool:
        with self.ctx.read() as s:
            row = s.get(PcAccount, guide_id)
            return bool(row and row.pin_hash)

    def attempts(self, guide_id: str) -> AttemptState:
        with self.ctx.read() as s:
            row = s.get(PcAccount, guide_id)
            return AttemptState(row.failed_attempts, row.locked_until) if row else AttemptState()

    def uses_password(self, role: str) -> bool:
        with self.ctx.read() as s:
            return uses_password(role, is_enrolled(s))

    # --- setting secrets -----------------------------------------------------------------------
    def set_pin(self, pin: str, confirm: str) -> None:
        """The signed-in guide sets (or changes) their PIN on this PC. They have just signed in with
        their full password (or own the offline profile), so no old PIN is asked."""
        actor = self.ctx.actor
        if self.uses_password(actor.role):
            raise UserError("security.pin.managers_use_password")
        check_pin_rules(pin)
        if pin != confirm:
            raise UserError("security.pin.mismatch")
        digest = hash_secret(pin)
        now = self.ctx.now_ms()
        with self.ctx.db.write() as s:
            row = _account(s, actor.guide_id, now)
            row.pin_hash = digest
            row.failed_attempts = 0
            row.locked_until = None
            row.updated_at = now

    def remember_password(self, guide_id: str, password: str) -> None:
        remember_password(self.ctx.db, guide_id, password, self.ctx.now_ms())

    def forget(self, guide_id: str) -> None:
        """Remove a person's PIN and verifier from this PC (their account at HQ is untouched)."""
        with self.ctx.db.write() as s:
            row = s.get(PcAccount, guide_id)
            if row is not None:
                s.delete(row)

    def add_local_guide(self, name: str, manager_id: str, manager_pin: str) -> Actor:
        """A PC without HQ: a new guide of the store gets a profile here, approved by the store
        manager's PIN (no HQ can vouch for them). Returns the guide, to switch to and set a PIN."""
        with self.ctx.read() as s:
            if is_enrolled(s) or local_store_id(s) != self.ctx.store_id:
                raise UserError("security.account.use_hq")
            manager = s.get(Guide, manager_id)
            store = s.get(Store, self.ctx.store_id)
            if manager is None or manager.role not in MANAGER_ROLES or manager.store_id != self.ctx.store_id:
                raise UserError("security.account.manager_needed")
            store_name = store.name if store is not None else ""
        self.verify(manager_id, manager_pin)
        return ensure_local_profile(self.ctx.db, store_name, name)

    # --- checking ------------------------------------------------------------------------------
    def verify(self, guide_id: str, secret: str,
               online_check: Callable[[str, str], bool] | None = None) -> Actor:
        """Check a PIN (guides) or the full password (managers) for ``guide_id`` and return them
        as the actor to use. Raises :class:`UserError` saying why not, counting the failure.

        ``online_check(guide_id, password)`` asks HQ (the views pass the sync service's sign-in);
        it is used for managers when given, else the stored verifier is."""
        now = self.ctx.now_ms()
        with self.ctx.read() as s:
            g = s.get(Guide, guide_id)
            row = s.get(PcAccount, guide_id)
            if g is None or g.store_id != self.ctx.store_id or not g.active:
                raise UserError("security.account.unknown")
            by_password = uses_password(g.role, is_enrolled(s))
            actor = _actor(g)
            state = AttemptState(row.failed_attempts, row.locked_until) if row else AttemptState()
            stored = (row.password_verifier if by_password else row.pin_hash) if row else ""
        wait = state.wait_ms(now)
        if wait:
            raise UserError("security.locked_out", seconds=(wait + 999) // 1000)
        if not by_password and state.pin_disabled:
            raise UserError("security.pin.disabled")
        if not secret:
            raise UserError("security.secret_required_password" if by_password else
                            "security.secret_required_pin")
        if by_password:
            if online_check is not None:
                ok = online_check(guide_id, secret)
            elif stored:
                ok = verify_secret(secret, stored)
            else:
                raise UserError("security.password.needs_online")
        else:
            if not stored:
                raise UserError("security.pin.not_set")
            ok = verify_secret(secret, stored)
        after = AttemptState()
        with self.ctx.db.write() as s:
            row = _account(s, guide_id, now)
            if ok:
                row.failed_attempts = 0
                row.locked_until = None
                if by_password and online_check is not None:
                    row.password_verifier = hash_secret(secret)
            else:
                after = after_failure(AttemptState(row.failed_attempts, row.locked_until), now)
                row.failed_attempts = after.failed
                row.locked_until = after.locked_until
            row.updated_at = now
        if ok:
            return actor
        if after.pin_disabled and not by_password:
            raise UserError("security.pin.disabled")
        if after.locked_until and after.locked_until > now:
            raise UserError("security.locked_out", seconds=(after.locked_until - now + 999) // 1000)
        raise UserError("security.wrong_password" if by_password else "security.pin.wrong",
                        left=MAX_ATTEMPTS - after.failed % MAX_ATTEMPTS)
