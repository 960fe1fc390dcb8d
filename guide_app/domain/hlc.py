"""Hybrid logical clock stamps, sortable as text: ``<ms:013d>-<counter:04x>-<node>``.

A stamp orders writes across PCs even when their wall clocks disagree a little; HQ refuses stamps
more than five minutes ahead of its own clock and tells the client its time, which the client then
folds in with :meth:`Clock.observe_server_time` (re-basing).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_COUNTER = 0xFFFF
MAX_SKEW_MS = 5 * 60 * 1000


@dataclass(frozen=True, order=True)
class Stamp:
    ms: int
    counter: int
    node: str

    def __str__(self) -> str:
        return f"{self.ms:013d}-{self.counter:04x}-{self.node}"

    @classmethod
    def parse(cls, text: str) -> Stamp:
        try:
            ms_s, counter_s, node = text.split("-", 2)
            stamp = cls(int(ms_s), int(counter_s, 16), node)
        except (ValueError, AttributeError) as exc:
            raise ValueError(f"not an HLC stamp: {text!r}") from exc
        if len(ms_s) != 13 or len(counter_s) != 4 or not node:
            raise ValueError(f"not an HLC stamp: {text!r}")
        return stamp


def parse_ms(text: str) -> int:
    return Stamp.parse(text).ms


class Clock:
    """Thread-safe HLC for one node (a device, or HQ itself)."""

    def __init__(self, node: str, wall: Callable[[], int] | None = None, offset_ms: int = 0) -> None:
        if "-" in node or not node:
            raise ValueError("node id must be non-empty and contain no '-'")
        self.node = node
        self._wall = wall or (lambda: int(time.time() * 1000))
        self._last = Stamp(0, 0, node)
        self._lock = threading.Lock()
        self.offset_ms = offset_ms  # added to the wall clock after the server told us our clock is off

    def now_ms(self) -> int:
        return self._wall() + self.offset_ms

    def tick(self) -> str:
        with self._lock:
            wall = self.now_ms()
            if wall > self._last.ms:
                self._last = Stamp(wall, 0, self.node)
            else:
                self._last = self._bump(self._last.ms, self._last.counter)
            return str(self._last)

    def observe(self, remote: str) -> None:
        """Fold in a stamp seen from elsewhere so our next stamp sorts after it."""
        other = Stamp.parse(remote)
        with self._lock:
            wall = self.now_ms()
            top = max(wall, self._last.ms, other.ms)
            if top == self._last.ms == other.ms:
                counter = max(self._last.counter, other.counter)
                self._last = self._bump(top, counter)
            elif top == self._last.ms:
                self._last = self._bump(top, self._last.counter)
            elif top == other.ms:
                self._last = self._bump(top, other.counter)
            else:
                self._last = Stamp(top, 0, self.node)

    def observe_server_time(self, server_ms: int, tolerance_ms: int = 2000) -> bool:
        """Re-base on the server's clock when ours is off by more than ``tolerance_ms``.

        Returns True when the offset changed. Our stamps never go backwards: the last stamp is kept.
        """
        skew = server_ms - self._wall()
        if abs(skew - self.offset_ms) > tolerance_ms:
            self.offset_ms = skew
            return True
        return False

    def drop_future(self, limit_ms: int) -> bool:
        """Forget a last stamp beyond ``limit_ms`` (made while our clock ran ahead, and refused by
        HQ anyway), so stamps after a re-base are accepted. Returns True when it did."""
        with self._lock:
            if self._last.ms > limit_ms:
                self._last = Stamp(min(limit_ms, self.now_ms()), 0, self.node)
                return True
            return False

    def _bump(self, ms: int, counter: int) -> Stamp:
        if counter >= MAX_COUNTER:
            return Stamp(ms + 1, 0, self.node)
        return Stamp(ms, counter + 1, self.node)


def too_far_ahead(stamp: str, server_ms: int, max_skew_ms: int = MAX_SKEW_MS) -> bool:
    return Stamp.parse(stamp).ms > server_ms + max_skew_ms
