"""Sign-in, the pinned HQ key, sign-out, and a production session kept in the real Secret Service."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from keyring.backends import SecretService

from guide_app.db.engine import open_database
from guide_app.domain.errors import UserError
from guide_app.i18n import tr
from guide_app.services.context import AppContext
from guide_app.services.sync_service import HQ_KEY, SyncService
from guide_app.sync.errors import AuthRequiredError, HqKeyMismatchError
from guide_app.sync.tokens import SERVICE, KeyringTokenStore
from tests.e2e.clients import PC
from tests.e2e.hq_process import DEMO_PASSWORD, HQProcess
from tests.unit.sync.test_keyring import _secret_service

pytestmark = pytest.mark.e2e


def test_enrollment_pins_the_hq_key_and_refuses_another(hq: HQProcess, tmp_path: Path, pcs: list[object]) -> None:
    a = PC(tmp_path / "a.db", hq.url, "gz01.manager")
    pcs.append(a)
    device = a.sync_service.client.device_id
    assert a.sync_service.store.get_state(HQ_KEY)
    a.sync_service.login(hq.url, "gz01.manager", DEMO_PASSWORD)  # same HQ, same key: fine, same device
    assert a.sync_service.client.device_id == device
    a.sync_service.store.set_state(HQ_KEY, "c29tZW9uZSBlbHNlJ3Mga2V5")  # as if an impostor answered
    with pytest.raises(HqKeyMismatchError) as info:
        a.sync_service.login(hq.url, "gz01.manager", DEMO_PASSWORD)
    assert "密钥" in info.value.message()


def test_a_multi_store_account_signs_in_on_a_pc_its_store_enrolled(hq: HQProcess, tmp_path: Path) -> None:
    db = open_database(tmp_path / "pc.db")
    service = SyncService(db, memory_tokens=True)
    with pytest.raises(UserError) as info:
        service.login(hq.url, "floater.guide", DEMO_PASSWORD)  # two stores: which one is this PC?
    assert "多家门店" in tr(info.value.key)
    service.login(hq.url, "sh01.guide1", DEMO_PASSWORD)  # the store's guide enrolls the PC
    actor = service.login(hq.url, "floater.guide", DEMO_PASSWORD)
    assert actor.store_id == service.store.get_state("store_id")
    service.client.close()
    db.dispose()


def test_sign_out_keeps_unsynced_changes_until_the_next_sign_in(hq: HQProcess, tmp_path: Path,
                                                                pcs: list[object]) -> None:
    a = PC(tmp_path / "a.db", hq.url, "sz01.manager")
    pcs.append(a)
    cid = a.create("登出前的客户", "")
    a.sync_service.logout()
    assert a.sync_service.status().signed_in is False
    with pytest.raises(AuthRequiredError):
        a.sync()
    assert a.outbox_status() == {"pending": 1}
    a.sync_service.login(hq.url, "sz01.manager", DEMO_PASSWORD)
    a.sync()
    assert a.outbox_status() == {"acked": 1}
    observer = PC(tmp_path / "b.db", hq.url, "sz01.guide3")
    pcs.append(observer)
    observer.sync()
    assert observer.customer(cid).name == "登出前的客户"


@pytest.mark.keyring
def test_production_session_lives_in_the_secret_service_and_resumes(hq: HQProcess, tmp_path: Path) -> None:
    if _secret_service() is None:
        message = "no unlocked Secret Service on DBUS_SESSION_BUS_ADDRESS (run under .ci/with-keyring)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    db = open_database(tmp_path / "pc.db")
    first = SyncService(db)  # production: refresh token in the OS keyring
    actor = first.login(hq.url, "hz01.guide1", DEMO_PASSWORD)
    tokens = first.client.tokens
    assert isinstance(tokens, KeyringTokenStore)
    stored = SecretService.Keyring().get_password(SERVICE, tokens.entry)
    assert stored and stored == tokens.refresh_token()
    first.client.close()

    again = SyncService(db)  # the next start of the app
    resumed = again.resume()
    assert resumed is not None and resumed.guide_id == actor.guide_id
    again.attach(AppContext(db, resumed))
    assert again.sync_now() is not None  # the access token comes from the keyring's refresh token
    assert SecretService.Keyring().get_password(SERVICE, tokens.entry) != stored  # rotated
    again.logout()
    assert SecretService.Keyring().get_password(SERVICE, tokens.entry) is None
    assert SyncService(db).resume() is None
    db.dispose()
