"""Login with device enrollment, rotating refresh tokens (reuse revokes the chain), logout, and the
check every authenticated call passes: token valid, session live, device not revoked, account
enabled and still allowed in the device's store."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from guide_app.domain.ids import uuid7
from guide_app.sync.protocol import LoginRequest, LoginResponse, RefreshRequest, TokenPair
from hq import config, ratelimit
from hq.errors import ApiError
from hq.models import Account, AuthSession, Device, RefreshToken, Store
from hq.org import account_info, account_store_ids, may_access_store, store_info
from hq.security import (
    AccessClaims,
    OrgKeys,
    TokenError,
    hash_password,
    needs_rehash,
    new_refresh_token,
    read_access_token,
    sha256_hex,
    sign_access_token,
    verify_password,
)


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Caller:
    """Who is calling, checked against the database on this request."""

    account_id: str
    device_id: str
    store_id: str
    session_id: str
    role: str


def _unauthorized(code: str, detail: str, *, keep_changes: bool = False) -> ApiError:
    return ApiError(401, code, detail, headers={"WWW-Authenticate": "Bearer"}, keep_changes=keep_changes)


def _issue(session: Session, keys: OrgKeys, auth: AuthSession, now: int) -> TokenPair:
    refresh = new_refresh_token()
    session.add(
        RefreshToken(
            token_hash=sha256_hex(refresh),
            session_id=auth.id,
            issued_at=now,
            expires_at=now + config.REFRESH_TOKEN_SECONDS * 1000,
        )
    )
    access = sign_access_token(
        keys,
        AccessClaims(auth.id, auth.account_id, auth.device_id, now + config.ACCESS_TOKEN_SECONDS * 1000),
    )
    return TokenPair(access_token=access, access_expires_in=config.ACCESS_TOKEN_SECONDS, refresh_token=refresh)


def _check_account_device(session: Session, account: Account, device: Device) -> None:
    if account.disabled_at is not None:
        raise _unauthorized("account_disabled", "account is disabled")
    if device.revoked_at is not None:
        raise _unauthorized("device_revoked", "device is revoked")
    if not may_access_store(session, account, device.store_id):
        raise ApiError(403, "store_forbidden", "account may not access the device's store")


def login(session: Session, keys: OrgKeys, req: LoginRequest, address: str) -> LoginResponse:
    now = now_ms()
    username = req.username.strip()
    if ratelimit.limited(session, username=username, address=address, now_ms=now):
        minutes = config.LOGIN_WINDOW_SECONDS // 60
        raise ApiError(
            429,
            "login_rate_limited",
            "too many failed logins; try again later",
            headers={"Retry-After": str(config.LOGIN_WINDOW_SECONDS)},
            minutes=minutes,
        )
    account = session.scalar(select(Account).where(Account.username == username))
    if not verify_password(account.password_hash if account else None, req.password) or account is None:
        ratelimit.record(session, username=username, address=address, now_ms=now, ok=False)
        raise _unauthorized("bad_credentials", "unknown username or wrong password", keep_changes=True)
    ratelimit.record(session, username=username, address=address, now_ms=now, ok=True)
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(req.password)
    if account.disabled_at is not None:
        raise _unauthorized("account_disabled", "account is disabled")

    if req.device_id:
        device = session.get(Device, req.device_id)
        if device is None:
            raise _unauthorized("device_unknown", "device id not known to HQ; log in without it to enroll")
        if req.store_id and req.store_id != device.store_id:
            raise ApiError(403, "store_forbidden", "this device is enrolled to another store")
        _check_account_device(session, account, device)
        device.last_seen_at = now
        if req.device_name:
            device.name = req.device_name
    else:
        store_id = req.store_id
        if store_id is None:
            ids = account_store_ids(session, account)
            if len(ids) != 1:
                raise ApiError(400, "store_required", "account belongs to several stores; send store_id")
            store_id = ids[0]
        if session.get(Store, store_id) is None:
            raise ApiError(404, "store_unknown", f"no store {store_id}")
        if not may_access_store(session, account, store_id):
            raise ApiError(403, "store_forbidden", "account may not access this store")
        device = Device(
            id=uuid7(now),
            store_id=store_id,
            enrolled_by=account.id,
            name=req.device_name,
            last_seq=0,
            enrolled_at=now,
            last_seen_at=now,
        )
        session.add(device)
        session.flush()

    auth = AuthSession(id=uuid7(now), account_id=account.id, device_id=device.id, created_at=now)
    session.add(auth)
    session.flush()
    tokens = _issue(session, keys, auth, now)
    store = session.get(Store, device.store_id)
    assert store is not None
    return LoginResponse(
        **tokens.model_dump(),
        device_id=device.id,
        store=store_info(session, store),
        account=account_info(session, account),
        signing_public_key=keys.signing_public_b64,
        server_time_ms=now_ms(),
    )


def revoke_session(session: Session, session_id: str, reason: str, now: int) -> None:
    session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )


def refresh(session: Session, keys: OrgKeys, req: RefreshRequest) -> TokenPair:
    now = now_ms()
    token = session.get(RefreshToken, sha256_hex(req.refresh_token))
    if token is None:
        raise _unauthorized("refresh_invalid", "unknown refresh token")
    auth = session.get(AuthSession, token.session_id)
    assert auth is not None
    if auth.device_id != req.device_id:
        raise _unauthorized("device_mismatch", "refresh token belongs to another device")
    if auth.revoked_at is not None:
        raise _unauthorized("session_revoked", f"session revoked ({auth.revoked_reason})")
    # Rotate atomically: of two requests racing with the same token only one wins the update.
    won = cast(
        CursorResult[tuple[()]],
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == token.token_hash, RefreshToken.used_at.is_(None))
            .values(used_at=now)
        ),
    ).rowcount
    if not won:
        # An old refresh token came back: someone holds a copy. End the whole chain.
        revoke_session(session, auth.id, "refresh_reused", now)
        raise _unauthorized("refresh_reused", "refresh token was already used; session revoked", keep_changes=True)
    if token.expires_at <= now:
        raise _unauthorized("refresh_expired", "refresh token expired")
    account = session.get(Account, auth.account_id)
    device = session.get(Device, auth.device_id)
    assert account is not None and device is not None
    _check_account_device(session, account, device)
    device.last_seen_at = now
    return _issue(session, keys, auth, now)


def logout(session: Session, keys: OrgKeys, refresh_token: str | None, bearer: str | None) -> bool:
    """End the session named by the refresh token or by the (possibly expired) access token."""
    now = now_ms()
    session_ids: set[str] = set()
    if refresh_token:
        token = session.get(RefreshToken, sha256_hex(refresh_token))
        if token is not None:
            session_ids.add(token.session_id)
    if bearer:
        try:
            session_ids.add(read_access_token(keys, bearer, now, allow_expired=True).session_id)
        except TokenError:
            pass
    for sid in session_ids:
        revoke_session(session, sid, "logout", now)
    return bool(session_ids)


def authenticate(session: Session, keys: OrgKeys, bearer: str | None) -> Caller:
    if not bearer:
        raise _unauthorized("token_missing", "Authorization: Bearer <access token> is required")
    try:
        claims = read_access_token(keys, bearer, now_ms())
    except TokenError as exc:
        raise _unauthorized(exc.code, "access token rejected") from exc
    auth = session.get(AuthSession, claims.session_id)
    if auth is None or auth.account_id != claims.account_id or auth.device_id != claims.device_id:
        raise _unauthorized("token_invalid", "access token does not match a session")
    if auth.revoked_at is not None:
        raise _unauthorized("session_revoked", f"session revoked ({auth.revoked_reason})")
    account = session.get(Account, claims.account_id)
    device = session.get(Device, claims.device_id)
    if account is None or device is None:
        raise _unauthorized("token_invalid", "access token names an unknown account or device")
    _check_account_device(session, account, device)
    return Caller(account.id, device.id, device.store_id, auth.id, account.role)
