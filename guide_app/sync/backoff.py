"""Exponential backoff with full jitter for retrying HQ calls (network errors, 5xx, 429).

Full jitter (a random delay between 0 and the exponential cap) spreads the retries of many store
PCs that lost the network together, so they do not all hit HQ in the same second when it returns.
A ``Retry-After`` from HQ is honoured as a floor.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    base_s: float = 1.0
    factor: float = 2.0
    cap_s: float = 300.0
    max_attempts: int = 6  # tries per request before the engine gives up and reports "offline"
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before try number ``attempt + 1`` (``attempt`` counts from 1)."""
        ceiling = min(self.cap_s, self.base_s * self.factor ** max(0, attempt - 1))
        wait = self.rng.uniform(0, ceiling)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.cap_s))
        return wait


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds; the HTTP-date form is rare from our HQ and is treated as absent."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
