"""PINs on a shared PC: hashed, wrong PINs counted, waits after five, PIN off after fifteen; managers
use their password; the lock survives a restart and unlocking as another guide switches the PC."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from guide_app.db.engine import open_database
from guide_app.db.models import Guide, PcAccount, SyncState
from guide_app.db.state import set_state
from guide_app.domain.errors import UserError
from guide_app.domain.pins import check_pin_rules, hash_secret, verify_secret
from guide_app.services.accounts import AccountService
from guide_app.services.context import Actor, AppContext
from guide_app.services.lock import DEFAULT_IDLE_MINUTES, LockService
from guide_app.services.org import signed_in_actor
from tests.unit.services.conftest import FakeTime

GUIDE = Actor("guide-1", "store-1", name="小王")
OTHER = Actor("guide-2", "store-1", name="小李")
MANAGER = Actor("mgr-1", "store-1", role="store_manager", name="陈店长")


@pytest.fixture()
def team(ctx: AppContext) -> AppContext:
    with ctx.db.write() as s:
        for a in (GUIDE, OTHER, MANAGER):
            s.add(Guide(id=a.guide_id, store_id=a.store_id, name=a.name, role=a.role, active=True))
        s.add(Guide(id="far-1", store_id="store-2", name="外店导购", role="guide", active=True))
        set_state(s, "device_id", "pc-1")  # enrolled at HQ: managers have HQ passwords
    return ctx


def as_(ctx: AppContext, actor: Actor) -> AppContext:
    return AppContext(ctx.db, actor, now_ms=ctx._now)


def test_pin_rules_and_hashing() -> None:
    for bad, key in (("12a4", "security.pin.digits_only"), ("123", "security.pin.length"),
                     ("123456789", "security.pin.length"), ("1111", "security.pin.too_simple"),
                     ("4321", "security.pin.too_simple"), ("２４６８", "security.pin.digits_only")):
        with pytest.raises(UserError) as exc:
            check_pin_rules(bad)
        assert exc.value.key == key
    a, b = hash_secret("2580"), hash_secret("2580")
    assert a != b and "2580" not in a  # salted: the same PIN never hashes alike
    assert verify_secret("2580", a) and not verify_secret("2581", a)
    assert not verify_secret("2580", "plain-2580") and not verify_secret("2580", "scrypt$x$y$z$a$b")


def test_pin_is_stored_hashed_and_checked(team: AppContext) -> None:
    AccountService(as_(team, GUIDE)).set_pin("2580", "2580")
    with team.read() as s:
        stored = s.scalars(select(PcAccount.pin_hash).where(PcAccount.guide_id == GUIDE.guide_id)).one()
    assert stored.startswith("scrypt$") and "2580" not in stored
    actor = AccountService(team).verify(GUIDE.guide_id, "2580")
    assert (actor.guide_id, actor.name) == (GUIDE.guide_id, "小王")
    with pytest.raises(UserError) as exc:
        AccountService(as_(team, GUIDE)).set_pin("2580", "2581")
    assert exc.value.key == "security.pin.mismatch"


def test_wrong_pins_lock_out_then_disable_the_pin(team: AppContext, fake_time: FakeTime) -> None:
    accounts = AccountService(as_(team, GUIDE))
    accounts.set_pin("2580", "2580")
    for left in (4, 3, 2, 1):
        with pytest.raises(UserError) as exc:
            accounts.verify(GUIDE.guide_id, "0000")
        assert exc.value.key == "security.pin.wrong" and exc.value.params["left"] == left
    with pytest.raises(UserError) as exc:
        accounts.verify(GUIDE.guide_id, "0000")  # fifth: a 30 s wait starts
    assert exc.value.key == "security.locked_out" and exc.value.params["seconds"] == 30
    with pytest.raises(UserError) as exc:
        accounts.verify(GUIDE.guide_id, "2580")  # even the right PIN waits
    assert exc.value.key == "security.locked_out"
    fake_time.ms += 30_000
    assert accounts.verify(GUIDE.guide_id, "2580").guide_id == GUIDE.guide_id  # success resets the count
    assert accounts.attempts(GUIDE.guide_id).failed == 0
    for _ in range(15):
        fake_time.ms += 16 * 60_000
        with pytest.raises(UserError):
            accounts.verify(GUIDE.guide_id, "9999")
    fake_time.ms += 16 * 60_000
    with pytest.raises(UserError) as exc:
        accounts.verify(GUIDE.guide_id, "2580")
    assert exc.value.key == "security.pin.disabled"  # a full password sign-in is needed now
    accounts.remember_password(GUIDE.guide_id, "")  # what an online sign-in does
    assert accounts.verify(GUIDE.guide_id, "2580").guide_id == GUIDE.guide_id


def test_managers_use_their_password_never_a_pin(team: AppContext) -> None:
    mgr = AccountService(as_(team, MANAGER))
    with pytest.raises(UserError) as exc:
        mgr.set_pin("2580", "2580")
    assert exc.value.key == "security.pin.managers_use_password"
    with pytest.raises(UserError) as exc:
        mgr.verify(MANAGER.guide_id, "long-password-1")
    assert exc.value.key == "security.password.needs_online"  # never signed in online on this PC
    mgr.remember_password(MANAGER.guide_id, "long-password-1")  # after an online sign-in
    assert mgr.verify(MANAGER.guide_id, "long-password-1").role == "store_manager"  # offline
    with pytest.raises(UserError) as exc:
        mgr.verify(MANAGER.guide_id, "2580")
    assert exc.value.key == "security.wrong_password"
    asked: list[tuple[str, str]] = []

    def hq_says_yes(guide_id: str, password: str) -> bool:
        asked.append((guide_id, password))
        return True

    online = mgr.verify(MANAGER.guide_id, "new-password-2", online_check=hq_says_yes)
    assert online.guide_id == MANAGER.guide_id and asked == [(MANAGER.guide_id, "new-password-2")]
    assert mgr.verify(MANAGER.guide_id, "new-password-2").guide_id == MANAGER.guide_id  # verifier updated


def test_people_of_another_store_or_without_a_pin_cannot_switch_in(team: AppContext) -> None:
    AccountService(as_(team, GUIDE)).set_pin("2580", "2580")
    accounts = AccountService(team)
    assert [u.guide_id for u in accounts.users()] == [GUIDE.guide_id]
    with pytest.raises(UserError) as exc:
        accounts.verify("far-1", "2580")
    assert exc.value.key == "security.account.unknown"
    with pytest.raises(UserError) as exc:
        accounts.verify(OTHER.guide_id, "2580")
    assert exc.value.key == "security.pin.not_set"


def test_lock_survives_a_restart_and_unlocking_as_another_guide_switches(team: AppContext, tmp_path: Path,
                                                                        fake_time: FakeTime) -> None:
    AccountService(as_(team, GUIDE)).set_pin("2580", "2580")
    AccountService(as_(team, OTHER)).set_pin("1357", "1357")
    lock = LockService(as_(team, GUIDE))
    assert lock.idle_minutes() == DEFAULT_IDLE_MINUTES == 5
    lock.lock("idle")
    team.db.dispose()
    db = open_database(tmp_path / "book.db")  # the app restarts
    again = LockService(AppContext(db, GUIDE, now_ms=fake_time))
    state = again.state()
    assert state.locked and state.guide_id == GUIDE.guide_id and state.reason == "idle"
    with pytest.raises(UserError):
        again.unlock(OTHER.guide_id, "2580")
    assert again.state().locked
    actor = again.unlock(OTHER.guide_id, "1357")
    assert actor.guide_id == again.ctx.actor.guide_id == OTHER.guide_id
    assert not again.state().locked
    remembered = signed_in_actor(db)
    assert remembered is not None and remembered.guide_id == OTHER.guide_id  # the next start opens as 小李
    with pytest.raises(UserError) as exc:
        again.set_idle_minutes(0)
    assert exc.value.key == "security.idle.bad_minutes"
    again.set_idle_minutes(10)
    assert again.idle_minutes() == 10
    db.dispose()


def test_on_a_pc_without_hq_a_manager_profile_uses_a_pin(team: AppContext) -> None:
    with team.db.write() as s:
        s.delete(s.get(SyncState, "device_id"))
    mgr = AccountService(as_(team, MANAGER))
    mgr.set_pin("2580", "2580")  # no HQ password exists for an offline profile
    assert mgr.verify(MANAGER.guide_id, "2580").role == "store_manager"


def test_a_lock_is_only_offered_when_someone_can_lift_it(team: AppContext) -> None:
    guide_lock = LockService(as_(team, GUIDE))
    assert guide_lock.can_unlock()  # enrolled: the lock screen can sign in with the full password
    with team.db.write() as s:
        s.delete(s.get(SyncState, "device_id"))
    assert not guide_lock.can_unlock()  # no HQ and no PIN: nobody could unlock it
    AccountService(as_(team, GUIDE)).set_pin("2580", "2580")
    assert guide_lock.can_unlock()


def test_an_hq_pc_resumed_from_the_keyring_opens_locked_as_whoever_used_it_last(team: AppContext) -> None:
    from guide_app.services.lock import lock_on_start
    from guide_app.services.org import remember_signed_in

    remember_signed_in(team.db, OTHER)  # 小李 switched in before the app was closed
    actor = lock_on_start(team.db, GUIDE)  # the keyring session is 小王's
    assert actor.guide_id == OTHER.guide_id
    state = LockService(as_(team, OTHER)).state()
    assert state.locked and state.guide_id == OTHER.guide_id and state.reason == "start"


def test_on_a_pc_without_hq_the_manager_approves_a_new_guide_with_their_pin(team: AppContext) -> None:
    from guide_app.db.models import Store
    from guide_app.services.org import LOCAL_STORE_KEY

    with team.db.write() as s:
        s.delete(s.get(SyncState, "device_id"))
        s.add(Store(id="store-1", name="南京西路店", region_id=None, region_name=""))
        set_state(s, LOCAL_STORE_KEY, "store-1")
    AccountService(as_(team, MANAGER)).set_pin("2580", "2580")
    accounts = AccountService(as_(team, GUIDE))
    with pytest.raises(UserError) as exc:
        accounts.add_local_guide("小赵", MANAGER.guide_id, "1111")
    assert exc.value.key == "security.pin.wrong"
    with pytest.raises(UserError) as exc:
        accounts.add_local_guide("小赵", GUIDE.guide_id, "2580")  # a guide cannot approve
    assert exc.value.key == "security.account.manager_needed"
    new = accounts.add_local_guide("小赵", MANAGER.guide_id, "2580")
    assert (new.name, new.role, new.store_id) == ("小赵", "guide", "store-1")
    with team.db.write() as s:
        set_state(s, "device_id", "pc-1")
    with pytest.raises(UserError) as exc:
        accounts.add_local_guide("小钱", MANAGER.guide_id, "2580")
    assert exc.value.key == "security.account.use_hq"  # an HQ PC: HQ creates accounts
