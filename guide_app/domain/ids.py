"""Row ids: UUIDv7 text, made where the row is born, so an offline PC never needs the server to name a row."""

from __future__ import annotations

import os
import time
import uuid

_NAMESPACE = uuid.UUID("6f1c2a52-3c4e-4b7a-9c61-2d9b0a7e5f10")


def uuid7(ms: int | None = None) -> str:
    """A time-ordered RFC 9562 version-7 UUID as text (sorts by creation time)."""
    ts = int(time.time() * 1000) if ms is None else ms
    rand = int.from_bytes(os.urandom(10), "big")
    rand_a = rand >> 62 & 0xFFF
    rand_b = rand & ((1 << 62) - 1)
    value = (ts & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return str(uuid.UUID(int=value))


def pair_id(*parts: str) -> str:
    """Deterministic id for a row that is defined by its parts (e.g. customer+tag).

    Two PCs that tag the same customer with the same tag offline then name the same row, so the
    server merges one assignment instead of having to dedupe two.
    """
    return str(uuid.uuid5(_NAMESPACE, "|".join(parts)))
