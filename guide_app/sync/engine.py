"""The push/pull loop: always push the outbox first, then pull pages until HQ has nothing more.

Why a :class:`LocalStore` protocol: ``guide_app.sync`` may import only the domain (and the wire
protocol, httpx, pydantic, keyring), never ``guide_app.db``, so the engine cannot touch SQLite. It
asks a small store for what it needs — pending mutations in device_seq order, recording push
results, applying a pull page together with its cursor in one transaction, and the sync_state
keys — and ``guide_app.services.sync_service.DbLocalStore`` implements that on the local file.
That keeps the engine testable against a fake store and an httpx mock transport, and keeps every
transaction boundary where the data is.

Guarantees it relies on and keeps:
- push is idempotent by device_seq, so a response lost after HQ committed is simply re-sent and
  acknowledged as a duplicate; a gap (HQ expects an earlier seq) re-sends from what HQ expects;
- a pull page and its cursor are stored together, so a crash resumes from the last whole page;
- transient failures (network, 5xx, 429) are retried with jittered exponential backoff, honouring
  ``Retry-After``; anything else stops the run with a typed error for the user;
- HQ's clock re-bases ours (persisted as ``clock_offset_ms``), so our stamps stop being refused.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol, TypeVar

from guide_app.domain.hlc import MAX_SKEW_MS, Clock
from guide_app.sync.backoff import Backoff
from guide_app.sync.client import HqClient
from guide_app.sync.errors import BadResponseError, RequestError, SeqGapError, ServerError, SyncError
from guide_app.sync.protocol import (
    DEFAULT_PULL_LIMIT,
    MAX_PUSH_BYTES,
    MAX_PUSH_MUTATIONS,
    Mutation,
    PullResponse,
    PushRequest,
    PushResponse,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

CLOCK_OFFSET_KEY = "clock_offset_ms"
_ENVELOPE_BYTES = 200  # the PushRequest wrapper around the mutations


class LocalStore(Protocol):
    """What the engine needs from the local database; each method is one transaction."""

    def first_pending_seq(self) -> int | None:
        """The lowest device_seq still waiting for HQ, or None when the outbox is drained."""

    def mutations_from(self, seq: int, limit: int) -> list[Mutation]:
        """Up to ``limit`` outbox rows with device_seq >= ``seq``, in order, whatever their status
        (a gap re-send may need rows we thought acknowledged)."""

    def record_push(self, sent: Sequence[int], response: PushResponse) -> None:
        """Mark the results: applied/duplicate → acked, rejected → rejected with code and reason
        (kept and shown); a duplicate with a code repeats an earlier refusal and is rejected too.
        Sent rows at or below ``response.last_seq`` without a result are acked."""

    def pending_count(self) -> int: ...

    def pull_cursor(self) -> int: ...

    def apply_pull(self, page: PullResponse) -> None:
        """Apply the page's rows, history and org data and store ``page.next_cursor``, atomically."""

    def get_state(self, key: str) -> str | None: ...

    def set_state(self, key: str, value: str) -> None: ...


class Stopped(Exception):
    """The run was asked to stop (app closing, user signed out); nothing half-done is left."""


@dataclass
class Progress:
    phase: str  # "push" | "pull"
    done: int  # push: mutations sent; pull: the version reached
    total: int  # push: mutations pending at start; pull: the store's version at HQ
    initial: bool = False  # pulling from cursor 0: the first full download of the store


@dataclass
class SyncReport:
    applied: int = 0
    duplicates: int = 0
    rejected: int = 0
    pulled_rows: int = 0
    pages: int = 0
    cursor: int = 0
    store_version: int = 0
    rejected_seqs: list[int] = field(default_factory=list)


def mutation_size(m: Mutation) -> int:
    return len(m.model_dump_json()) + 1


def fit_batch(candidates: Sequence[Mutation], max_count: int = MAX_PUSH_MUTATIONS,
              max_bytes: int = MAX_PUSH_BYTES) -> list[Mutation]:
    """The longest prefix within both push limits (at least one mutation, so nothing is stuck)."""
    batch: list[Mutation] = []
    size = _ENVELOPE_BYTES
    for m in candidates[:max_count]:
        size += mutation_size(m)
        if batch and size > max_bytes:
            break
        batch.append(m)
    return batch


class SyncEngine:
    def __init__(
        self,
        client: HqClient,
        store: LocalStore,
        clock: Clock,
        *,
        backoff: Backoff | None = None,
        stop: threading.Event | None = None,
        progress: Callable[[Progress], None] | None = None,
        pull_limit: int = DEFAULT_PULL_LIMIT,
    ) -> None:
        self.client = client
        self.store = store
        self.clock = clock
        self.backoff = backoff or Backoff()
        self.stop_event = stop or threading.Event()
        self.progress = progress
        self.pull_limit = pull_limit

    def request_stop(self) -> None:
        self.stop_event.set()

    def _check_stop(self) -> None:
        if self.stop_event.is_set():
            raise Stopped()

    # --- retry ------------------------------------------------------------------------------------
    def _retrying(self, call: Callable[[], T]) -> T:
        attempt = 0
        while True:
            self._check_stop()
            attempt += 1
            try:
                return call()
            except SeqGapError:
                raise
            except SyncError as exc:
                if not exc.retryable or attempt >= self.backoff.max_attempts:
                    raise
                retry_after = exc.retry_after if isinstance(exc, ServerError) else None
                wait = self.backoff.delay(attempt, retry_after)
                log.info("sync: %s; retry %d in %.1fs", exc.detail or exc.key, attempt, wait)
                if self.stop_event.wait(wait):
                    raise Stopped() from exc

    def _observe_server_time(self, server_ms: int) -> None:
        if self.clock.observe_server_time(server_ms):
            # stamps more than the allowed skew ahead of HQ would be refused: stop issuing them
            self.clock.drop_future(server_ms + MAX_SKEW_MS)
            self.store.set_state(CLOCK_OFFSET_KEY, str(self.clock.offset_ms))
            log.warning("sync: clock re-based on HQ, offset now %d ms", self.clock.offset_ms)

    # --- push -------------------------------------------------------------------------------------
    def push(self, report: SyncReport | None = None) -> SyncReport:
        report = report or SyncReport()
        device_id = self.client.device_id or ""
        total = self.store.pending_count()
        resend_from: int | None = None  # set after a gap: re-send from the seq HQ expects
        sent_total = 0
        stalls = 0
        while True:
            self._check_stop()
            first = self.store.first_pending_seq()
            if resend_from is not None and first is not None and resend_from >= first:
                resend_from = None  # caught up with what HQ had lost
            from_seq = resend_from if resend_from is not None else first
            if from_seq is None:
                return report
            batch = fit_batch(self.store.mutations_from(from_seq, MAX_PUSH_MUTATIONS))
            if not batch:
                return report
            request = PushRequest(device_id=device_id, mutations=batch)
            try:
                response = self._retrying(partial(self.client.push, request))
            except SeqGapError as gap:
                expected = gap.expected_seq or self._probe_last_seq() + 1
                if expected >= from_seq:  # HQ wants later rows than we sent: resending cannot help
                    raise BadResponseError(f"gap answered for seq {from_seq}, HQ expects {expected}") from gap
                log.warning("sync: HQ expects seq %d, we sent from %d: re-sending", expected, from_seq)
                resend_from = expected
                continue
            self._observe_server_time(response.server_time_ms)
            self.store.record_push([m.seq for m in batch], response)
            for r in response.results:
                if r.status == "applied":
                    report.applied += 1
                elif r.status == "duplicate" and not r.code:
                    report.duplicates += 1
                else:  # refused now, or a repeat of a refusal whose answer was lost
                    report.rejected += 1
                    report.rejected_seqs.append(r.seq)
            sent_total += len(batch)
            if self.progress:
                self.progress(Progress("push", min(sent_total, total), total))
            if resend_from is not None:
                resend_from = batch[-1].seq + 1
                continue
            if self.store.first_pending_seq() == first:
                stalls += 1  # HQ answered without acknowledging anything we sent
                if stalls >= 2:
                    raise BadResponseError(f"HQ did not acknowledge seq {first}")
            else:
                stalls = 0

    def _probe_last_seq(self) -> int:
        """An empty push tells us the last seq HQ has for this device."""
        request = PushRequest(device_id=self.client.device_id or "", mutations=[])
        response = self._retrying(lambda: self.client.push(request))
        return response.last_seq

    # --- pull -------------------------------------------------------------------------------------
    def pull(self, report: SyncReport | None = None) -> SyncReport:
        """Pull pages until HQ has no more, each applied with its cursor in one transaction, in
        order. Fetch and apply take turns on the calling thread (threads belong to tasks.py);
        pages are large and HQ builds them cheaply, so the wait per page is short."""
        report = report or SyncReport()
        cursor = self.store.pull_cursor()
        initial = cursor == 0
        while True:
            try:
                page = self._fetch(cursor)
            except RequestError as exc:
                if exc.code != "cursor_ahead" or cursor == 0:
                    raise
                # HQ went back in time (restored from a backup): merging is idempotent, so pull
                # the store again from the start; our lost pushes come back through the gap path
                log.warning("sync: HQ is behind our cursor %d; pulling the store again", cursor)
                cursor, initial = 0, True
                continue
            self._check_stop()
            self._observe_server_time(page.server_time_ms)
            if page.next_cursor < cursor:
                raise BadResponseError(f"cursor went back from {cursor} to {page.next_cursor}")
            self.store.apply_pull(page)
            cursor = page.next_cursor
            report.pages += 1
            report.pulled_rows += len(page.rows)
            report.cursor = cursor
            report.store_version = page.store_version
            if self.progress:
                self.progress(Progress("pull", cursor, max(page.store_version, cursor), initial))
            if not page.has_more:
                return report

    def _fetch(self, cursor: int) -> PullResponse:
        self._check_stop()
        return self._retrying(partial(self.client.pull, cursor, self.pull_limit))

    def sync(self) -> SyncReport:
        """One full round: push everything pending, then pull to the end."""
        report = self.push()
        return self.pull(report)
