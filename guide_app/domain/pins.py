"""PINs and local password verifiers for a shared counter PC: rules, hashing, attempt limits.

A PIN is short, so its hash must be slow: scrypt (memory-hard, in the standard library) with a
random salt per PIN. The stored text names its parameters, so they can be raised later and old
hashes still verify. Attempt limits make guessing impractical where slowness alone cannot.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import secrets
from dataclasses import dataclass

from guide_app.domain.errors import UserError

PIN_MIN = 4
PIN_MAX = 8
# scrypt cost: ~16 MiB and a few tens of ms per check on a counter PC
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_DKLEN = 32
_SCHEME = "scrypt"

# failed attempts allowed before a wait, and the waits (doubling up to the last)
MAX_ATTEMPTS = 5
LOCKOUT_MS = (30_000, 60_000, 5 * 60_000, 15 * 60_000)
# after this many failures in a row the PIN stops working: a full password sign-in is needed
PIN_DISABLED_AFTER = 15


def check_pin_rules(pin: str) -> str:
    """The PIN if acceptable, else :class:`UserError`: 4–8 digits, not one repeated digit, not a run."""
    if not pin.isdigit() or not pin.isascii():
        raise UserError("security.pin.digits_only")
    if not PIN_MIN <= len(pin) <= PIN_MAX:
        raise UserError("security.pin.length", min=PIN_MIN, max=PIN_MAX)
    if len(set(pin)) == 1:
        raise UserError("security.pin.too_simple")
    steps = {int(b) - int(a) for a, b in itertools.pairwise(pin)}
    if steps in ({1}, {-1}):
        raise UserError("security.pin.too_simple")
    return pin


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_secret(secret: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """``scrypt$n$r$p$salt$hash`` for a PIN or a password; a new random salt every call."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=_DKLEN,
                            maxmem=128 * n * r * p + 1024 * 1024)
    return f"{_SCHEME}${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, stored: str) -> bool:
    """Whether ``secret`` matches ``stored`` (constant-time compare); False for unreadable text."""
    try:
        scheme, n_s, r_s, p_s, salt_s, digest_s = stored.split("$")
        if scheme != _SCHEME:
            return False
        n, r, p = int(n_s), int(r_s), int(p_s)
        salt, digest = base64.b64decode(salt_s), base64.b64decode(digest_s)
        if not (2 <= n <= 2**20 and 1 <= r <= 32 and 1 <= p <= 16):
            return False
        test = hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=len(digest),
                              maxmem=128 * n * r * p + 1024 * 1024)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(test, digest)


@dataclass(frozen=True)
class AttemptState:
    failed: int = 0  # failures in a row since the last success
    locked_until: int | None = None  # epoch ms; no attempt is checked before it

    def wait_ms(self, now_ms: int) -> int:
        return max(0, (self.locked_until or 0) - now_ms)

    @property
    def pin_disabled(self) -> bool:
        return self.failed >= PIN_DISABLED_AFTER


def after_failure(state: AttemptState, now_ms: int) -> AttemptState:
    """One more failure: every MAX_ATTEMPTS-th failure starts a wait, longer each time."""
    failed = state.failed + 1
    locked_until = state.locked_until
    if failed % MAX_ATTEMPTS == 0:
        step = min(failed // MAX_ATTEMPTS, len(LOCKOUT_MS)) - 1
        locked_until = now_ms + LOCKOUT_MS[step]
    return AttemptState(failed, locked_until)
