"""Login, enrollment, rate limits, refresh rotation and reuse detection, logout, revocation."""

from __future__ import annotations

import base64
from collections.abc import Callable

from fastapi.testclient import TestClient

from hq import config
from hq.db import Database
from tests.hq.conftest import OrgFixture
from tests.hq_fixtures import VERSION_HEADERS, SyncDevice


def login(http: TestClient, username: str, password: str, **extra: object) -> tuple[int, dict]:  # type: ignore[type-arg]
    r = http.post("/v1/auth/login", json={"username": username, "password": password, **extra},
                  headers=VERSION_HEADERS)
    return r.status_code, r.json()


def test_login_enrolls_device_and_returns_store_account_key_and_time(http: TestClient, test_org: OrgFixture) -> None:
    status, body = login(http, "guide.a", test_org.password, device_name="收银台1")
    assert status == 200, body
    assert body["store"]["id"] == test_org.store_a
    assert body["store"]["name"] == "上海店" and body["store"]["region_name"] == "华东区"
    assert body["account"]["username"] == "guide.a" and body["account"]["role"] == "guide"
    assert body["account"]["store_ids"] == [test_org.store_a]
    assert len(base64.b64decode(body["signing_public_key"])) == 32  # Ed25519 public key
    assert body["access_expires_in"] == config.ACCESS_TOKEN_SECONDS
    assert body["server_time_ms"] > 1_700_000_000_000
    assert body["device_id"] and body["refresh_token"] and body["access_token"]
    # the same org key on every login; a known device logs in again without a new enrollment
    status, again = login(http, "guide.a2", test_org.password, device_id=body["device_id"])
    assert status == 200, again
    assert again["device_id"] == body["device_id"]
    assert again["signing_public_key"] == body["signing_public_key"]


def test_bad_password_and_unknown_user_are_the_same_401(http: TestClient, test_org: OrgFixture) -> None:
    s1, b1 = login(http, "guide.a", "wrong-password")
    s2, b2 = login(http, "nobody", "wrong-password")
    assert (s1, b1["code"]) == (401, "bad_credentials") == (s2, b2["code"])
    assert b1["message_zh"] == "用户名或密码错误"


def test_login_rate_limit_per_username_is_kept_in_the_database(
    http: TestClient, test_org: OrgFixture, hq_database: Database
) -> None:
    for _ in range(config.LOGIN_MAX_FAILURES_PER_USER):
        assert login(http, "guide.a", "wrong-password")[0] == 401
    status, body = login(http, "guide.a", test_org.password)  # even the right password now waits
    assert status == 429 and body["code"] == "login_rate_limited"
    assert "分钟后再试" in body["message_zh"]
    # another user from the same address is not locked out by guide.a's failures
    assert login(http, "guide.b", test_org.password)[0] == 200
    # the count lives in the database: a fresh app on the same database (another process) agrees
    from hq.app import create_app

    with TestClient(create_app(hq_database.url)) as other:
        assert login(other, "guide.a", test_org.password)[0] == 429


def test_login_rate_limit_per_address(http: TestClient, test_org: OrgFixture, monkeypatch: object) -> None:
    import pytest

    mp = pytest.MonkeyPatch()
    mp.setattr(config, "LOGIN_MAX_FAILURES_PER_ADDRESS", 3)
    try:
        for i in range(3):
            assert login(http, f"user{i}", "wrong-password")[0] == 401
        status, body = login(http, "guide.b", test_org.password)
        assert status == 429 and body["code"] == "login_rate_limited"
    finally:
        mp.undo()


def test_account_of_several_stores_must_choose_and_may_not_pick_a_foreign_store(
    http: TestClient, test_org: OrgFixture
) -> None:
    status, body = login(http, "multi", test_org.password)
    assert (status, body["code"]) == (400, "store_required")
    status, body = login(http, "multi", test_org.password, store_id=test_org.store_b)
    assert status == 200 and body["store"]["id"] == test_org.store_b
    status, body = login(http, "guide.a", test_org.password, store_id=test_org.store_b)
    assert (status, body["code"]) == (403, "store_forbidden")
    # a guide of store B cannot log in on a PC enrolled to store A
    _, enrolled = login(http, "guide.a", test_org.password)
    status, body = login(http, "guide.b", test_org.password, device_id=enrolled["device_id"])
    assert (status, body["code"]) == (403, "store_forbidden")


def test_region_manager_may_enroll_into_stores_of_their_region_only(http: TestClient, test_org: OrgFixture) -> None:
    assert login(http, "rm.a", test_org.password, store_id=test_org.store_a2)[0] == 200
    status, body = login(http, "rm.a", test_org.password, store_id=test_org.store_b)
    assert (status, body["code"]) == (403, "store_forbidden")


def test_refresh_rotates_and_reuse_revokes_the_chain(
    http: TestClient, device: Callable[..., SyncDevice]
) -> None:
    dev = device()
    first = dev.refresh
    r = http.post("/v1/auth/refresh", json={"refresh_token": first, "device_id": dev.device_id},
                  headers=VERSION_HEADERS)
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first and second["access_token"]
    dev.access = second["access_token"]
    assert dev.pull_raw().status_code == 200
    # the old token comes back: someone has a copy; the whole session ends
    r = http.post("/v1/auth/refresh", json={"refresh_token": first, "device_id": dev.device_id},
                  headers=VERSION_HEADERS)
    assert r.status_code == 401 and r.json()["code"] == "refresh_reused"
    r = http.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"], "device_id": dev.device_id},
                  headers=VERSION_HEADERS)
    assert r.status_code == 401 and r.json()["code"] == "session_revoked"
    r = dev.pull_raw()
    assert r.status_code == 401 and r.json()["code"] == "session_revoked"
    # a new login starts a fresh session on the same device
    dev.login()
    assert dev.pull_raw().status_code == 200


def test_refresh_with_unknown_token_or_other_device(http: TestClient, device: Callable[..., SyncDevice]) -> None:
    dev = device()
    r = http.post("/v1/auth/refresh", json={"refresh_token": "nope", "device_id": dev.device_id},
                  headers=VERSION_HEADERS)
    assert r.status_code == 401 and r.json()["code"] == "refresh_invalid"
    r = http.post("/v1/auth/refresh", json={"refresh_token": dev.refresh, "device_id": "other"},
                  headers=VERSION_HEADERS)
    assert r.status_code == 401 and r.json()["code"] == "device_mismatch"


def test_logout_ends_the_session(http: TestClient, device: Callable[..., SyncDevice]) -> None:
    dev = device()
    r = http.post("/v1/auth/logout", json={"refresh_token": dev.refresh}, headers=dev.headers)
    assert r.status_code == 204
    assert dev.pull_raw().json()["code"] == "session_revoked"
    r = http.post("/v1/auth/refresh", json={"refresh_token": dev.refresh, "device_id": dev.device_id},
                  headers=VERSION_HEADERS)
    assert r.status_code == 401


def test_missing_bad_and_expired_tokens(http: TestClient, device: Callable[..., SyncDevice],
                                        monkeypatch: object) -> None:
    dev = device()
    r = http.get("/v1/sync/pull", headers=VERSION_HEADERS)
    assert r.status_code == 401 and r.json()["code"] == "token_missing"
    r = http.get("/v1/sync/pull", headers={**VERSION_HEADERS, "Authorization": "Bearer gd1.abc.def"})
    assert r.status_code == 401 and r.json()["code"] == "token_invalid"
    tampered = dev.access[:-2] + ("AA" if not dev.access.endswith("AA") else "BB")
    r = http.get("/v1/sync/pull", headers={**VERSION_HEADERS, "Authorization": f"Bearer {tampered}"})
    assert r.status_code == 401 and r.json()["code"] == "token_invalid"
    import pytest

    from hq import auth

    mp = pytest.MonkeyPatch()
    mp.setattr(auth, "now_ms", lambda: 10**15)  # far past the 15-minute lifetime
    try:
        r = dev.pull_raw()
        assert r.status_code == 401 and r.json()["code"] == "token_expired"
    finally:
        mp.undo()


def test_revoked_device_and_disabled_account_get_401_on_every_call(
    http: TestClient, device: Callable[..., SyncDevice], hq_database: Database, test_org: OrgFixture
) -> None:
    from hq import org

    dev = device()
    other = device("guide.a2")
    with hq_database.session() as s:
        org.revoke_device(s, dev.device_id)
    for r in (dev.pull_raw(), dev.push_raw([dev.new_customer()]),
              http.post("/v1/auth/refresh", json={"refresh_token": dev.refresh, "device_id": dev.device_id},
                        headers=VERSION_HEADERS)):
        assert r.status_code == 401 and r.json()["code"] == "device_revoked", r.text
    assert "停用" in dev.pull_raw().json()["message_zh"]
    status, body = login(http, "guide.a", test_org.password, device_id=dev.device_id)
    assert (status, body["code"]) == (401, "device_revoked")

    with hq_database.session() as s:
        org.disable_account(s, "guide.a2")
    for r in (other.pull_raw(), other.push_raw([other.new_customer()])):
        assert r.status_code == 401 and r.json()["code"] == "account_disabled", r.text
    assert login(http, "guide.a2", test_org.password)[1]["code"] == "account_disabled"


def test_unknown_device_id_asks_to_enroll_again(http: TestClient, test_org: OrgFixture) -> None:
    status, body = login(http, "guide.a", test_org.password, device_id="0190aaaa-0000-7000-8000-000000000000")
    assert (status, body["code"]) == (401, "device_unknown")


def test_login_request_validation_is_an_error_body(http: TestClient, test_org: OrgFixture) -> None:
    r = http.post("/v1/auth/login", json={"username": ""}, headers=VERSION_HEADERS)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "invalid_request" and body["message_zh"].startswith("请求格式不正确")


def test_password_reset_signs_the_account_out_everywhere(
    http: TestClient, device: Callable[..., SyncDevice], hq_database: Database
) -> None:
    from hq import org

    dev, other = device("guide.a"), device("guide.a2")
    with hq_database.session() as s:
        org.set_password(s, "guide.a", "brand-new-pass")
    r = dev.pull_raw()
    assert r.status_code == 401 and r.json()["code"] == "session_revoked"
    assert other.pull_raw().status_code == 200  # other accounts keep working
    assert login(http, "guide.a", "brand-new-pass")[0] == 200


def test_weaker_password_hashes_are_upgraded_at_login(
    http: TestClient, test_org: OrgFixture, hq_database: Database
) -> None:
    from argon2 import PasswordHasher
    from sqlalchemy import select

    from hq.models import Account
    from hq.security import needs_rehash

    weak = PasswordHasher(time_cost=1, memory_cost=32, parallelism=1).hash(test_org.password)
    with hq_database.session() as s:
        s.scalars(select(Account).where(Account.username == "guide.a")).one().password_hash = weak
    assert needs_rehash(weak)
    assert login(http, "guide.a", test_org.password)[0] == 200
    with hq_database.session() as s:
        stored = s.scalars(select(Account).where(Account.username == "guide.a")).one().password_hash
    assert stored != weak and not needs_rehash(stored)
    assert login(http, "guide.a", test_org.password)[0] == 200
