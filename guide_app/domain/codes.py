"""Acquisition codes (活码): the short code text, channels, limits and the landing URL.

The code text doubles as a WeCom contact-way ``state`` later, so it stays at most 30 characters.
It is drawn with :mod:`secrets` from an alphabet that survives being read aloud or retyped: lower
case only (URLs and ``state`` compare it exactly; one case means no Aa confusion) and without the
look-alikes 0/o, 1/l/i. 17 characters of 31 symbols carry 17·log2(31) ≈ 84 bits.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from collections.abc import Callable, Container
from zoneinfo import ZoneInfo

from guide_app.domain.errors import UserError

CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
CODE_LENGTH = 17
CODE_MAX_LENGTH = 30  # WeCom contact-way ``state`` limit
MIN_ENTROPY_BITS = 80

CHANNELS = ("counter", "package_card", "poster", "event")
CUSTOM_CHANNEL_PREFIX = "custom:"
CUSTOM_CHANNEL_MAX = 20

LABEL_MAX = 40
WELCOME_MAX = 1000
CAMPAIGN_ID_MAX = 36
AUTO_TAGS_MAX = 10
LOGO_MAX_BYTES = 48_000  # base64 of a small PNG; keeps the synced row small
LOGO_MAX_PX = 256

ORG_TZ = ZoneInfo("Asia/Shanghai")  # expiry dates are whole days in the org's time zone

_ALPHABET_SET = frozenset(CODE_ALPHABET)


def entropy_bits(length: int = CODE_LENGTH, alphabet: str = CODE_ALPHABET) -> float:
    return length * math.log2(len(alphabet))


def new_code_text(taken: Container[str] = (), *, token: Callable[[str], str] = secrets.choice) -> str:
    """A fresh random code not in ``taken`` (a collision needs ~2^42 codes; the check is cheap)."""
    while True:
        text = "".join(token(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if text not in taken:
            return text


def is_code_text(text: str) -> bool:
    return 0 < len(text) <= CODE_MAX_LENGTH and set(text) <= _ALPHABET_SET


def normalize_channel(channel: str) -> str:
    """A built-in channel key, or ``custom:<name>`` for a guide's own; anything else is refused."""
    channel = channel.strip()
    if channel in CHANNELS:
        return channel
    if channel.startswith(CUSTOM_CHANNEL_PREFIX):
        name = channel[len(CUSTOM_CHANNEL_PREFIX):].strip()
        if not name:
            raise UserError("code.custom_channel_required")
        if len(name) > CUSTOM_CHANNEL_MAX:
            raise UserError("code.custom_channel_too_long", limit=CUSTOM_CHANNEL_MAX)
        return CUSTOM_CHANNEL_PREFIX + name
    raise UserError("code.bad_channel", value=channel)


def custom_channel_name(channel: str) -> str | None:
    return channel[len(CUSTOM_CHANNEL_PREFIX):] if channel.startswith(CUSTOM_CHANNEL_PREFIX) else None


def end_of_day_ms(day: dt.date, tz: dt.tzinfo = ORG_TZ) -> int:
    """The last millisecond of ``day`` in the org's zone: a code "valid until 5 May" works all that day."""
    start_next = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    return int(start_next.timestamp() * 1000) - 1


def day_of_ms(ms: int, tz: dt.tzinfo = ORG_TZ) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000, tz).date()


def landing_url(public_url: str, code: str) -> str:
    """What the QR code holds: ``<HQ public URL>/a/<code>``."""
    return f"{public_url.rstrip('/')}/a/{code}"
