"""Sync use cases: sign in (enrolling this PC), run a sync, show its state, handle refused changes,
sign out; plus :class:`DbLocalStore`, the engine's view of the local file, and
:class:`SyncScheduler`, the Qt-free policy deciding when a background sync is due.

The engine (``guide_app.sync.engine``) never touches SQLite; everything it stores goes through
:class:`DbLocalStore`, one transaction per call, so a killed process leaves either a whole page
with its cursor or neither, and a push result is recorded for all rows of a batch at once.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, update

from guide_app.db import outbox as outbox_rows
from guide_app.db.engine import Database
from guide_app.db.models import Base, Customer, Guide, Outbox, Store
from guide_app.db.search_index import unindex_customer
from guide_app.db.state import get_state, set_state
from guide_app.domain.errors import UserError
from guide_app.domain.hlc import Stamp
from guide_app.i18n import tr
from guide_app.services.codes import StatDay, replace_code_stats
from guide_app.services.context import Actor, AppContext, wall_ms
from guide_app.services.pack_sync import PackSyncReport, sync_packs
from guide_app.services.packs import PackService
from guide_app.services.sync_apply import apply_org, apply_page
from guide_app.sync.backoff import Backoff
from guide_app.sync.client import HqClient
from guide_app.sync.engine import CLOCK_OFFSET_KEY, Progress, Stopped, SyncEngine, SyncReport
from guide_app.sync.errors import (
    AuthRequiredError,
    HqKeyMismatchError,
    NotEnrolledError,
    SyncError,
)
from guide_app.sync.protocol import MAX_PULL_LIMIT, LoginRequest, Mutation, PullResponse, PushResponse
from guide_app.sync.tokens import (
    KeyringTokenStore,
    MemoryTokenStore,
    TokenStore,
    keyring_entry,
    secure_keyring,
)

log = logging.getLogger(__name__)

# sync_state keys
DEVICE_ID = "device_id"
STORE_ID = "store_id"
STORE_NAME = "store_name"
HQ_URL = "hq_url"
HQ_KEY = "hq_public_key"
ACCOUNT = "account"  # JSON of the signed-in account
PULL_CURSOR = "pull_cursor"
STORE_VERSION = "store_version"
LAST_SYNC = "last_sync_ms"
LAST_PUSH_SEQ = "last_push_seq"


# --- the engine's local store ------------------------------------------------------------------
class DbLocalStore:
    """:class:`guide_app.sync.engine.LocalStore` on the local SQLite file."""

    def __init__(self, db: Database, now_ms: Callable[[], int] = wall_ms) -> None:
        self.db = db
        self.now_ms = now_ms

    def first_pending_seq(self) -> int | None:
        with self.db.read() as s:
            value = s.scalar(select(func.min(Outbox.device_seq)).where(Outbox.status == "pending"))
            return int(value) if value is not None else None

    def pending_count(self) -> int:
        with self.db.read() as s:
            return outbox_rows.pending_count(s)

    def mutations_from(self, seq: int, limit: int) -> list[Mutation]:
        with self.db.read() as s:
            rows = s.scalars(select(Outbox).where(Outbox.device_seq >= seq)
                             .order_by(Outbox.device_seq).limit(limit)).all()
            return [Mutation(seq=r.device_seq, op_id=r.op_id, entity=r.entity, entity_id=r.entity_id,
                             fields=dict(r.fields or {}), hlc=dict(r.field_hlc or {}), deleted_hlc=r.deleted_hlc)
                    for r in rows]

    def record_push(self, sent: Sequence[int], response: PushResponse) -> None:
        results = {r.seq: r for r in response.results}
        with self.db.write() as s:
            rows = {r.device_seq: r for r in s.scalars(select(Outbox).where(Outbox.device_seq.in_(list(sent))))}
            for seq in sent:
                row = rows.get(seq)
                if row is None:
                    continue
                r = results.get(seq)
                # a duplicate that carries a code is the repeat of an earlier refusal whose answer we lost
                if r is not None and (r.status == "rejected" or (r.status == "duplicate" and r.code)):
                    if row.status == "pending":
                        row.status = "rejected"
                        row.reject_code = r.code[:40]
                        row.reject_reason = r.reason
                elif (r is not None or seq <= response.last_seq) and row.status == "pending":
                    row.status = "acked"
            set_state(s, LAST_PUSH_SEQ, str(response.last_seq))

    def pull_cursor(self) -> int:
        return int(self.get_state(PULL_CURSOR) or 0)

    def apply_pull(self, page: PullResponse) -> None:
        with self.db.write() as s:
            if page.org:
                apply_org(s, page.org)
            apply_page(s, page.rows, page.history, now_ms=self.now_ms())
            for stats in page.code_stats:  # HQ-owned figures of the codes that moved, replaced whole
                replace_code_stats(s, stats.code_id, [StatDay(**d.model_dump()) for d in stats.days])
            set_state(s, PULL_CURSOR, str(page.next_cursor))
            set_state(s, STORE_VERSION, str(page.store_version))

    def get_state(self, key: str) -> str | None:
        with self.db.read() as s:
            return get_state(s, key)

    def set_state(self, key: str, value: str) -> None:
        with self.db.write() as s:
            set_state(s, key, value)


# --- what the status bar shows -----------------------------------------------------------------
@dataclass
class RejectedChange:
    seq: int
    entity: str
    entity_id: str
    customer_id: str  # the customer to open to correct it ("" when not about a customer)
    title: str  # e.g. the customer's name
    fields: list[str]
    code: str
    reason: str
    at: int


@dataclass
class SyncStatus:
    signed_in: bool = False
    online: bool | None = None  # None: not tried yet this run
    running: bool = False
    last_sync_ms: int | None = None
    pending: int = 0
    rejected: int = 0
    progress: Progress | None = None
    error: str = ""  # the last failure, in the user's language
    memory_tokens: bool = False  # demo: the session lives in memory only


def reject_text(code: str, reason: str) -> str:
    """HQ's own zh_CN reason, or our translation of its code when it sent none."""
    if reason:
        return reason
    key = f"sync.reject.{code.removeprefix('rej.')}"
    text = tr(key)
    return text if text != key else tr("sync.reject.unknown", code=code)


# --- sign-in, sync, status ---------------------------------------------------------------------
class SyncService:
    """Owns the HQ client, the token store and the engine for one local file."""

    def __init__(
        self,
        db: Database,
        *,
        hq_url: str | None = None,
        memory_tokens: bool = False,
        transport: httpx.BaseTransport | None = None,
        now_ms: Callable[[], int] = wall_ms,
        protocol_version: int | None = None,
        backoff: Backoff | None = None,
        pull_limit: int = MAX_PULL_LIMIT,  # big pages: fewer round trips for an initial sync
        packs_dir: Path | None = None,
    ) -> None:
        self.db = db
        # where campaign packs install; when set, each round also brings the store's packs in line
        self.packs_dir = packs_dir
        self.last_pack_report: PackSyncReport | None = None
        self.backoff = backoff
        self.pull_limit = pull_limit
        self.memory_tokens = memory_tokens
        self.transport = transport
        self.now_ms = now_ms
        self.store = DbLocalStore(db, now_ms)
        self.ctx: AppContext | None = None
        self.actor: Actor | None = None
        self._lock = threading.Lock()  # one sync at a time
        self._stop = threading.Event()
        self._status = SyncStatus(memory_tokens=memory_tokens)
        self._listeners: list[Callable[[SyncStatus], None]] = []
        self._protocol_version = protocol_version
        url = hq_url or self.store.get_state(HQ_URL) or ""
        self.client = self._make_client(url, MemoryTokenStore())
        last = self.store.get_state(LAST_SYNC)
        self._status.last_sync_ms = int(last) if last else None

    def _make_client(self, url: str, tokens: TokenStore) -> HqClient:
        kw: dict[str, Any] = {"transport": self.transport}
        if self._protocol_version is not None:
            kw["protocol_version"] = self._protocol_version
        return HqClient(url, tokens, device_id=self.store.get_state(DEVICE_ID), **kw)

    @property
    def hq_url(self) -> str:
        return self.client.base_url

    # --- listeners (the status widget subscribes through tasks.py) ----------------------------
    def subscribe(self, listener: Callable[[SyncStatus], None]) -> None:
        self._listeners.append(listener)

    def _notify(self) -> None:
        snapshot = self.status()
        for listener in list(self._listeners):
            listener(snapshot)

    # --- enrollment and sign-in ----------------------------------------------------------------
    def login(self, hq_url: str, username: str, password: str, *, store_id: str | None = None) -> Actor:
        """Sign in; the first sign-in on this PC enrolls it as a device of the account's store."""
        hq_url = hq_url.strip().rstrip("/")
        if not hq_url.startswith(("http://", "https://")):
            raise UserError("sync.login.bad_url", value=hq_url)
        if not username.strip() or not password:
            raise UserError("sync.login.missing")
        backend = None if self.memory_tokens else secure_keyring()  # refuse before sending a password
        if hq_url != self.client.base_url:
            self.client.close()
            self.client = self._make_client(hq_url, MemoryTokenStore())
        prev_url = self.store.get_state(HQ_URL)
        prev_store = self.store.get_state(STORE_ID)
        device_id = self.store.get_state(DEVICE_ID)
        if prev_url not in (None, hq_url):
            device_id = None  # a different HQ: this PC enrolls there afresh
        request = LoginRequest(username=username.strip(), password=password, device_id=device_id,
                               device_name=socket.gethostname()[:100], store_id=store_id)
        try:
            result = self.client.login(request)
        except SyncError as exc:
            if device_id and exc.code in ("device_unknown", "device_revoked", "device_mismatch"):
                result = self.client.login(request.model_copy(update={"device_id": None}))
            elif exc.code == "store_required":
                # HQ does not list the stores here: the PC is enrolled by a one-store account first
                raise UserError("sync.login.store_required") from exc
            else:
                raise
        pinned = self.store.get_state(HQ_KEY)
        if pinned and pinned != result.signing_public_key and prev_url == hq_url:
            raise HqKeyMismatchError(f"pinned {pinned[:12]}…, got {result.signing_public_key[:12]}…")
        tokens: TokenStore
        if backend is None:
            tokens = MemoryTokenStore()
            log.warning("demo: the refresh token is kept in memory only, not in the OS keyring")
        else:
            tokens = KeyringTokenStore(keyring_entry(hq_url, result.device_id, result.account.id), backend)
        tokens.save(result)
        self.client.tokens = tokens
        self.client.device_id = result.device_id
        account = result.account
        with self.db.write() as s:
            if prev_url not in (None, hq_url) or prev_store not in (None, result.store.id):
                # another HQ or another store: its versions are not ours, pull from the beginning
                set_state(s, PULL_CURSOR, "0")
            set_state(s, HQ_URL, hq_url)
            set_state(s, DEVICE_ID, result.device_id)
            set_state(s, STORE_ID, result.store.id)
            set_state(s, STORE_NAME, result.store.name)
            if not pinned or prev_url != hq_url:
                set_state(s, HQ_KEY, result.signing_public_key)
            set_state(s, ACCOUNT, account.model_dump_json())
            apply_org(s, {"stores": [result.store.model_dump()]})
            if s.get(Guide, account.id) is None:
                s.add(Guide(id=account.id, store_id=result.store.id, name=account.display_name,
                            role=account.role, active=True))
            skew = result.server_time_ms - self.now_ms()
            if abs(skew) > 2000:
                set_state(s, CLOCK_OFFSET_KEY, str(skew))
        self.actor = Actor(guide_id=account.id, store_id=result.store.id, role=account.role,
                           name=account.display_name)
        self._status.signed_in = True
        self._status.error = ""
        self._notify()
        return self.actor

    def resume(self) -> Actor | None:
        """The signed-in guide of the last run, when the keyring still holds their session."""
        raw, device_id, url = (self.store.get_state(k) for k in (ACCOUNT, DEVICE_ID, HQ_URL))
        store_id = self.store.get_state(STORE_ID)
        if self.memory_tokens or not (raw and device_id and url and store_id):
            return None
        account = json.loads(raw)
        try:
            tokens = KeyringTokenStore(keyring_entry(url, device_id, account["id"]))
            if not tokens.refresh_token():
                return None
        except SyncError:
            return None
        self.client.tokens = tokens
        self.client.device_id = device_id
        self.actor = Actor(guide_id=account["id"], store_id=store_id, role=account.get("role", "guide"),
                           name=account.get("display_name", ""))
        self._status.signed_in = True
        return self.actor

    def signed_in_username(self) -> str:
        """The account this PC last signed in with ("" before the first sign-in)."""
        raw = self.store.get_state(ACCOUNT)
        return str(json.loads(raw).get("username", "")) if raw else ""

    def attach(self, ctx: AppContext) -> None:
        """Use the app's context (its HLC clock and the signed-in guide) for syncing."""
        self.ctx = ctx
        self.actor = ctx.actor

    def logout(self) -> None:
        """Sign out: the session ends at HQ and in the keyring; unsynced changes stay in the outbox."""
        self._stop.set()
        with self._lock:
            self.client.logout()
            self._stop.clear()
        self.actor = None
        self._status.signed_in = False
        self._notify()

    def stop(self) -> None:
        """Ask a running sync to stop at the next page or batch (app closing)."""
        self._stop.set()

    # --- syncing ---------------------------------------------------------------------------------
    def sync_now(self) -> SyncReport | None:
        """One push-then-pull round; returns None when another round is already running.

        Runs on the network executor. Failures are reported in :meth:`status` and re-raised.
        """
        if self.ctx is None:
            raise NotEnrolledError("no context attached")
        if not self.store.get_state(DEVICE_ID):
            raise NotEnrolledError("not enrolled")
        if not self._lock.acquire(blocking=False):
            return None
        self._stop.clear()
        try:
            self._status.running = True
            self._status.progress = None
            self._notify()
            engine = SyncEngine(self.client, self.store, self.ctx.clock, stop=self._stop,
                                progress=self._on_progress, backoff=self.backoff,
                                pull_limit=self.pull_limit)
            report = engine.sync()
            if self.packs_dir is not None:
                self._sync_packs()
            now = self.now_ms()
            self.store.set_state(LAST_SYNC, str(now))
            self._status.online = True
            self._status.last_sync_ms = now
            self._status.error = ""
            return report
        except Stopped:
            return None
        except SyncError as exc:
            self._status.online = False if exc.retryable else self._status.online
            if isinstance(exc, AuthRequiredError):
                self._status.signed_in = False
            self._status.error = exc.message()
            raise
        finally:
            self._status.running = False
            self._status.progress = None
            self._lock.release()
            self._notify()

    def _sync_packs(self) -> None:
        """Campaign packs after the data: a pack that fails to download is retried next round and
        never fails the round that brought the customers (their changes are already safe)."""
        assert self.ctx is not None and self.packs_dir is not None
        try:
            self.last_pack_report = sync_packs(self.client, PackService(self.ctx, self.packs_dir),
                                               cancelled=self._stop.is_set)
        except SyncError as exc:
            log.warning("campaign packs not brought in this round: %s", exc)

    def _on_progress(self, progress: Progress) -> None:
        self._status.progress = progress
        self._notify()

    def status(self) -> SyncStatus:
        with self.db.read() as s:
            pending = outbox_rows.pending_count(s)
            rejected = int(s.scalar(select(func.count()).select_from(Outbox)
                                    .where(Outbox.status == "rejected")) or 0)
        st = self._status
        return SyncStatus(signed_in=st.signed_in, online=st.online, running=st.running,
                          last_sync_ms=st.last_sync_ms, pending=pending, rejected=rejected,
                          progress=st.progress, error=st.error, memory_tokens=st.memory_tokens)

    # --- refused changes ---------------------------------------------------------------------------
    def rejected(self) -> list[RejectedChange]:
        with self.db.read() as s:
            rows = s.scalars(select(Outbox).where(Outbox.status == "rejected").order_by(Outbox.device_seq)).all()
            out: list[RejectedChange] = []
            for r in rows:
                customer_id = r.entity_id if r.entity == "customer" else str((r.fields or {}).get("customer_id", ""))
                title = ""
                if customer_id:
                    title = s.scalar(select(Customer.name).where(Customer.id == customer_id)) or ""
                fields = sorted(r.fields or {}) or (["deleted"] if r.deleted_hlc else [])
                out.append(RejectedChange(
                    seq=r.device_seq, entity=r.entity, entity_id=r.entity_id, customer_id=customer_id,
                    title=title, fields=fields, code=r.reject_code, reason=reject_text(r.reject_code, r.reject_reason),
                    at=r.created_at,
                ))
            return out

    def discard_rejected(self, seq: int) -> None:
        """Give up a refused change: HQ's values come back on the next sync.

        The refused fields lose their local stamps, so HQ's row wins when it arrives; a refused new
        row (HQ never had it) is retired locally. The pull restarts from the beginning so HQ's
        current row is fetched even if it has not changed since (merging is idempotent)."""
        with self.db.write() as s:
            row = s.get(Outbox, seq)
            if row is None or row.status != "rejected":
                raise UserError("sync.reject.gone")
            table = Base.metadata.tables.get(row.entity)
            local = None
            if table is not None:
                local = s.execute(select(table).where(table.c.id == row.entity_id)).mappings().first()
            if local is not None and table is not None:
                hlc = dict(local["field_hlc"] or {})
                if self._was_new_row(s, row, hlc):
                    tomb = str(Stamp(self.now_ms(), 0, "local"))
                    s.execute(update(table).where(table.c.id == row.entity_id).values(deleted_hlc=tomb))
                    if row.entity == "customer":
                        unindex_customer(s, int(local["pk"]))
                else:
                    for name, stamp in (row.field_hlc or {}).items():
                        if hlc.get(name) == stamp:
                            hlc[name] = ""  # sorts below every real stamp: HQ's value wins on the next pull
                    s.execute(update(table).where(table.c.id == row.entity_id).values(field_hlc=hlc))
                    set_state(s, PULL_CURSOR, "0")
            row.status = "discarded"
        self._notify()

    @staticmethod
    def _was_new_row(s: Any, row: Outbox, hlc: dict[str, str]) -> bool:
        earlier_acked = s.scalar(select(func.count()).select_from(Outbox).where(
            Outbox.entity_id == row.entity_id, Outbox.device_seq < row.device_seq, Outbox.status == "acked"))
        if earlier_acked:
            return False
        nodes = {Stamp.parse(v).node for v in hlc.values() if v}
        mine = {Stamp.parse(v).node for v in (row.field_hlc or {}).values() if v}
        return bool(mine) and nodes <= mine

    def resubmit_rejected(self, seq: int) -> None:
        """Send a refused change again with fresh stamps (after the guide corrected the record, or
        after the clock was re-based): every refused field still holding its refused value is
        re-stamped into one new outbox mutation, and the refused row is marked resolved."""
        if self.ctx is None:
            raise NotEnrolledError("no context attached")
        with self.ctx.write() as w:
            row = w.session.get(Outbox, seq)
            if row is None or row.status != "rejected":
                raise UserError("sync.reject.gone")
            table = Base.metadata.tables.get(row.entity)
            local = None
            if table is not None:
                local = w.session.execute(select(table).where(table.c.id == row.entity_id)).mappings().first()
            if local is not None and table is not None:
                hlc = dict(local["field_hlc"] or {})
                names = [n for n, st in (row.field_hlc or {}).items() if hlc.get(n) == st]
                if names or row.deleted_hlc:
                    stamp = w.stamp()
                    values = {n: local[n] for n in names}
                    hlc.update({n: stamp for n in names})
                    changes: dict[str, Any] = {"field_hlc": hlc}
                    deleted = None
                    if row.deleted_hlc and local["deleted_hlc"] == row.deleted_hlc:
                        deleted = changes["deleted_hlc"] = stamp
                    w.session.execute(update(table).where(table.c.id == row.entity_id).values(changes))
                    outbox_rows.append(w.session, entity=row.entity, entity_id=row.entity_id, fields=values,
                                       field_hlc={n: stamp for n in names}, deleted_hlc=deleted,
                                       now_ms=self.ctx.now_ms())
                    w.mutations += 1
            row.status = "resolved"
        self._notify()


# --- when to sync ----------------------------------------------------------------------------------
@dataclass
class SyncScheduler:
    """Decides when a background sync is due: at start, every ``interval_s``, ``debounce_s`` after
    local changes (so a burst of edits goes in one push), on demand, and sooner again after a
    failure with its own backoff. Qt-free: the view layer ticks :meth:`due` from a timer."""

    interval_s: float = 180.0
    debounce_s: float = 5.0
    max_debounce_s: float = 30.0  # a guide typing without pause still syncs this soon
    retry_s: float = 30.0
    max_retry_s: float = 600.0
    monotonic: Callable[[], float] = time.monotonic
    _next: float | None = field(default=None, init=False)
    _running: bool = field(default=False, init=False)
    _again: bool = field(default=False, init=False)
    _failures: int = field(default=0, init=False)
    _burst_start: float | None = field(default=None, init=False)
    _change_due: float | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def _at(self, delay: float) -> None:
        when = self.monotonic() + delay
        self._next = when if self._next is None else min(self._next, when)

    def on_start(self) -> None:
        with self._lock:
            self._at(0)

    def request_now(self) -> None:
        with self._lock:
            self._failures = 0
            if self._running:
                self._again = True
            self._at(0)

    def on_local_change(self) -> None:
        """AppContext.after_write hook: changes are waiting for HQ."""
        with self._lock:
            if self._running:
                self._again = True
                return
            now = self.monotonic()
            if self._burst_start is None:
                self._burst_start = now
            # each change pushes the sync back (one push for a burst), up to max_debounce_s
            self._change_due = min(now + self.debounce_s, self._burst_start + self.max_debounce_s)

    def _due_at(self) -> float | None:
        times = [t for t in (self._next, self._change_due) if t is not None]
        return min(times) if times else None

    def due(self) -> bool:
        """True (once) when a sync should start now; the caller then runs it and reports back."""
        with self._lock:
            at = self._due_at()
            if self._running or at is None or self.monotonic() < at:
                return False
            self._running = True
            self._next = self._change_due = self._burst_start = None
            return True

    def finished(self, ok: bool) -> None:
        with self._lock:
            self._running = False
            if ok:
                self._failures = 0
                self._at(self.debounce_s if self._again else self.interval_s)
            else:
                self._failures += 1
                self._at(min(self.max_retry_s, self.retry_s * 2 ** (self._failures - 1)))
            self._again = False

    def seconds_until_due(self) -> float | None:
        with self._lock:
            at = self._due_at()
            if at is None:
                return None
            return max(0.0, at - self.monotonic())


def is_enrolled(db: Database) -> bool:
    """Whether this PC has signed in to an HQ before (it then syncs, and signs in rather than using
    an offline profile)."""
    with db.read() as s:
        return bool(get_state(s, DEVICE_ID))


def store_summary(db: Database) -> dict[str, str]:
    """The enrolled store and account, for the window title and the login dialog."""
    with db.read() as s:
        out = {k: get_state(s, k) or "" for k in (STORE_ID, STORE_NAME, HQ_URL, DEVICE_ID)}
        account = get_state(s, ACCOUNT)
        out["username"] = json.loads(account)["username"] if account else ""
        if out[STORE_ID] and not out[STORE_NAME]:
            store = s.get(Store, out[STORE_ID])
            out[STORE_NAME] = store.name if store else ""
        return out
