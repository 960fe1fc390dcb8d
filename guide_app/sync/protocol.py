"""The wire contract between the client and HQ, written once and imported by both sides.

Every request carries ``X-Guide-Protocol`` and ``X-Guide-Schema`` headers; HQ serves a window of
versions and answers 426 with a :class:`ErrorBody` outside it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field

PROTOCOL_VERSION = 1
SCHEMA_VERSION = 1
PROTOCOL_HEADER = "X-Guide-Protocol"
SCHEMA_HEADER = "X-Guide-Schema"
MAX_PUSH_MUTATIONS = 200
MAX_PUSH_BYTES = 1_000_000
DEFAULT_PULL_LIMIT = 500
MAX_PULL_LIMIT = 2000  # what an initial sync asks for: each page is one client transaction and index flush

Entity = Literal["customer", "tag_group", "tag", "customer_tag", "follow_up", "purchase", "audit_log",
                 "acquisition_code", "campaign_task"]


class ErrorBody(BaseModel):
    """Every non-2xx answer: a stable code, an English detail for logs, and a zh_CN message to show."""

    code: str
    detail: str
    message_zh: str = ""
    expected_seq: int | None = None  # with code "seq_gap" (409): the seq HQ expects next from this device


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    device_id: str | None = None  # known device re-logging in; None to enroll this PC
    device_name: str = Field(default="", max_length=100)
    store_id: str | None = None  # the store to enroll into, for accounts of several stores


class StoreInfo(BaseModel):
    id: str
    name: str
    region_id: str | None = None
    region_name: str = ""


class AccountInfo(BaseModel):
    id: str
    username: str
    display_name: str
    role: Literal["guide", "store_manager", "region_manager", "hq_admin"]
    store_ids: list[str]


class TokenPair(BaseModel):
    access_token: str
    access_expires_in: int
    refresh_token: str


class LoginResponse(TokenPair):
    device_id: str
    store: StoreInfo
    account: AccountInfo
    signing_public_key: str  # Ed25519, base64; the client pins it on first enrollment
    server_time_ms: int


class RefreshRequest(BaseModel):
    refresh_token: str
    device_id: str


class LogoutRequest(BaseModel):
    """Ends the session of this refresh token (the access token in the header also works alone)."""

    refresh_token: str | None = None


class Mutation(BaseModel):
    seq: int = Field(ge=1)  # device_seq: per device, contiguous from 1
    op_id: str
    entity: str  # validated by HQ so an unknown entity is a recorded rejection, not a 422 for the batch
    entity_id: str
    fields: dict[str, Any] = Field(default_factory=dict)
    hlc: dict[str, str] = Field(default_factory=dict)
    deleted_hlc: str | None = None


class PushRequest(BaseModel):
    device_id: str
    mutations: list[Mutation] = Field(max_length=MAX_PUSH_MUTATIONS)


class MutationResult(BaseModel):
    seq: int
    status: Literal["applied", "duplicate", "rejected"]
    code: str = ""  # for rejected: a stable reason code the client translates
    reason: str = ""  # for rejected: human text (zh_CN) saying what was wrong


class PushResponse(BaseModel):
    last_seq: int  # the highest seq HQ has accepted (applied, duplicate or rejected) for this device
    results: list[MutationResult]
    server_time_ms: int


class RowChange(BaseModel):
    """The full current state of one row as HQ holds it, with its per-field stamps."""

    entity: str
    id: str
    fields: dict[str, Any]
    hlc: dict[str, str]
    deleted_hlc: str | None = None
    version: int


class HistoryEntry(BaseModel):
    """A losing value HQ kept when two writes met, so no one's typing is lost."""

    customer_id: str
    field: str
    value: Any
    hlc: str
    winner_hlc: str


class CodeStatDay(BaseModel):
    """One acquisition code's figures for one day (YYYY-MM-DD in the org's time zone)."""

    day: str
    scans: int = 0
    leads: int = 0
    new_customers: int = 0
    existing_customers: int = 0


class CodeStatsChange(BaseModel):
    """HQ-owned: every day of one code's figures, replacing what the PC holds for that code."""

    code_id: str
    days: list[CodeStatDay]


class PullResponse(BaseModel):
    rows: list[RowChange]
    history: list[HistoryEntry] = Field(default_factory=list)
    next_cursor: int
    has_more: bool
    store_version: int  # the store's current version, for progress of an initial sync
    server_time_ms: int
    org: dict[str, Any] | None = None  # HQ-owned: stores, guides (sent on the first page and on change)
    code_stats: list[CodeStatsChange] = Field(default_factory=list)  # codes whose figures changed in this page


# --- leaderboards: GET /v1/leaderboards, GET /v1/leaderboards/trend ------------------------------
BoardScope = Literal["store", "region", "company"]
BoardUnit = Literal["guide", "store", "region"]
BoardMetric = Literal["new_customers", "qr_adds", "sales", "orders", "follow_ups", "task_rate", "imports"]
BoardPeriod = Literal["today", "week", "month", "custom", "campaign"]


class LeaderboardRow(BaseModel):
    """One ranked guide, store or region. ``value`` is a count, cents (sales) or a 0..1 rate (task_rate,
    None when it had no tasks); ties share a rank (1, 1, 3)."""

    key: str  # guide, store or region id
    name: str
    store_id: str = ""  # a guide's or a store's store (drill-down)
    region_id: str = ""
    value: float | None
    rank: int
    prev_value: float | None = None
    prev_rank: int | None = None
    gap_to_next: float | None = None  # how much more this row needs to reach the rank above
    done: int | None = None  # task_rate: tasks done / assigned
    assigned: int | None = None
    is_me: bool = False


class LeaderboardResponse(BaseModel):
    scope: BoardScope
    scope_id: str  # store or region id; "" for the company
    scope_name: str
    unit: BoardUnit
    metric: BoardMetric
    period: BoardPeriod
    start: str  # ISO dates, inclusive, in the org's time zone
    end: str
    prev_start: str
    prev_end: str
    campaign_id: str = ""
    time_zone: str
    as_of_ms: int
    total: int  # rows on the whole board (the caller may see fewer)
    complete: bool  # False: only the caller's own row(s) of a board outside their full view
    rows: list[LeaderboardRow]


class TrendPoint(BaseModel):
    start: str  # Monday of the week, ISO
    end: str
    value: float | None
    mine: float | None = None  # the caller's own value that week (a guide's, on a board of guides)


class LeaderboardTrend(BaseModel):
    scope: BoardScope
    scope_id: str
    scope_name: str
    metric: BoardMetric
    time_zone: str
    as_of_ms: int
    points: list[TrendPoint]


class PackInfo(BaseModel):
    """A published campaign pack a store should have; the archive is fetched from ``GET
    /v1/packs/{id}/{version}`` (``Range: bytes=N-`` resumes) and checked against size and sha256."""

    id: str
    version: int
    title: str
    valid_from: str
    valid_to: str
    size: int
    sha256: str


class PackListResponse(BaseModel):
    packs: list[PackInfo]
    withdrawn: list[str] = Field(default_factory=list)  # pack ids HQ withdrew: devices remove them


# --- campaign progress: GET /v1/packs/{pack_id}/progress ------------------------------------------
ProgressScope = Literal["own", "store", "region", "company"]


def completion(done: dict[str, int], targets: int, task_count: int) -> float:
    """Share of the (target customer, task) pairs done, 0..1."""
    total = targets * task_count
    return sum(done.values()) / total if total else 0.0


class PackProgressTask(BaseModel):
    id: str
    title: str
    due: str  # ISO date: the task's own due day or the campaign's last day


class PackProgressRow(BaseModel):
    """One guide in one store: their target customers (worked out by HQ from the synced book) and how
    many of them have each task done."""

    store_id: str
    store_name: str
    guide_id: str
    guide_name: str
    targets: int
    done: dict[str, int]  # task id -> target customers with that task done
    outcomes: dict[str, int] = Field(default_factory=dict)  # outcome -> tasks done with it

    def completion(self, task_count: int) -> float:
        return completion(self.done, self.targets, task_count)


class PackProgressStore(BaseModel):
    """The totals of one store's rows in this answer; every store of the caller's scope the pack is
    published to has one, also with no targets yet."""

    store_id: str
    store_name: str
    region_id: str
    region_name: str
    guides: int  # guides with target customers
    targets: int
    done: dict[str, int]
    outcomes: dict[str, int] = Field(default_factory=dict)

    def completion(self, task_count: int) -> float:
        return completion(self.done, self.targets, task_count)


class PackProgressResponse(BaseModel):
    """Completion of one campaign in the caller's scope: a guide's own rows, a store manager's stores,
    a regional manager's region, or every store (HQ)."""

    pack_id: str
    version: int
    title: str
    valid_from: str
    valid_to: str
    scope: ProgressScope
    tasks: list[PackProgressTask]
    stores: list[PackProgressStore]  # by store name (pinyin order)
    rows: list[PackProgressRow]  # by store, then guide name (pinyin order)
    as_of_ms: int  # when HQ worked it out (from what the PCs had synced by then)


# --- campaign overview: GET /v1/packs/progress ---------------------------------------------------
PackRunState = Literal["upcoming", "running", "ended"]
OVERVIEW_ENDED_DAYS = 30  # an ended campaign stays in the overview this many days after its last day


class PackOverviewItem(BaseModel):
    """One campaign published to stores of the caller's scope, with its completion there (the totals
    of what ``GET /v1/packs/{pack_id}/progress`` answers the same caller)."""

    pack_id: str
    version: int
    title: str
    valid_from: str
    valid_to: str
    state: PackRunState  # by HQ's day in the org's zone
    stores: int  # stores of the caller's scope it is published to
    guides: int  # guides with target customers
    targets: int
    tasks: int
    done: int  # (target customer, task) pairs done

    @computed_field  # type: ignore[prop-decorator]
    @property
    def completion(self) -> float:
        """Share of the (target customer, task) pairs done, 0..1 (sent along for other readers of the API)."""
        return completion({"": self.done}, self.targets, self.tasks)


class PackOverviewResponse(BaseModel):
    """The published campaigns that reach any store of the caller's scope, whether or not they reach
    the store of the asking PC: running and upcoming ones, and ended ones for ``ended_days`` days after
    their last day. Running first, then upcoming, then ended; newest start first within each."""

    scope: ProgressScope
    ended_days: int
    packs: list[PackOverviewItem]
    as_of_ms: int


class ExportEntry(BaseModel):
    """One export the signed-in account made on any PC, as HQ holds its audit entry."""

    id: str  # the audit entry's id (the same on the PC that wrote it)
    rows: int = Field(ge=0)  # customers in the file
    at: int  # ms, the exporting PC's time


class ExportsTodayResponse(BaseModel):
    """The signed-in account's exports HQ holds since ``since_ms`` (the asking PC's local midnight), from
    every PC; a PC adds its own entries not pushed yet (by id) to count the day's exports."""

    account_id: str
    since_ms: int
    entries: list[ExportEntry]
