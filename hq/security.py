"""Passwords (argon2id), the org's secrets (token HMAC key, Ed25519 signing key pair, made on first
use and kept in the database so every process shares them), and access-token signing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hq.models import OrgSecret

# argon2id at OWASP's recommended floor (19 MiB, t=2, p=1): safe, and a login stays well under 100 ms
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_DUMMY_HASH = _hasher.hash("guide-desk-no-such-account")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant work whether or not the account exists, so timing does not reveal usernames."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's; rehashed at the next login."""
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _get_or_create(session: Session, name: str, make: Any, now_ms: int) -> str:
    row = session.get(OrgSecret, name)
    if row is not None:
        return row.value
    value = make()
    try:
        with session.begin_nested():
            session.add(OrgSecret(name=name, value=value, created_at=now_ms))
    except IntegrityError:  # another process made it first: use theirs
        row = session.get(OrgSecret, name, populate_existing=True)
        assert row is not None
        return row.value
    return str(value)


def _make_signing_key() -> str:
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return base64.b64encode(raw).decode()


@dataclass(frozen=True)
class OrgKeys:
    token_secret: bytes
    signing_private: str  # base64 raw Ed25519 private key; never leaves HQ

    @property
    def signing_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(self.signing_private))

    @property
    def signing_public_b64(self) -> str:
        pub = self.signing_key.public_key()
        return base64.b64encode(pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()

    def sign(self, data: bytes) -> bytes:
        return self.signing_key.sign(data)


def load_keys(session: Session, now_ms: int) -> OrgKeys:
    secret = _get_or_create(session, "token_hmac", lambda: secrets.token_hex(32), now_ms)
    signing = _get_or_create(session, "signing_ed25519", _make_signing_key, now_ms)
    return OrgKeys(bytes.fromhex(secret), signing)


class TokenError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class AccessClaims:
    session_id: str
    account_id: str
    device_id: str
    expires_ms: int


def sign_access_token(keys: OrgKeys, claims: AccessClaims) -> str:
    payload = _b64(
        json.dumps(
            {"s": claims.session_id, "a": claims.account_id, "d": claims.device_id, "exp": claims.expires_ms},
            separators=(",", ":"),
        ).encode()
    )
    mac = hmac.new(keys.token_secret, b"gd1." + payload.encode(), hashlib.sha256).digest()
    return f"gd1.{payload}.{_b64(mac)}"


def read_access_token(keys: OrgKeys, token: str, now_ms: int, *, allow_expired: bool = False) -> AccessClaims:
    try:
        prefix, payload, mac = token.split(".")
        if prefix != "gd1":
            raise ValueError(prefix)
        expected = hmac.new(keys.token_secret, b"gd1." + payload.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(mac)):
            raise TokenError("token_invalid")
        data = json.loads(_unb64(payload))
        claims = AccessClaims(str(data["s"]), str(data["a"]), str(data["d"]), int(data["exp"]))
    except TokenError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise TokenError("token_invalid") from exc
    if claims.expires_ms <= now_ms and not allow_expired:
        raise TokenError("token_expired")
    return claims
