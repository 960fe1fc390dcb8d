"""A campaign segment evaluated in plain Python, for HQ, which keeps a store's book as synced rows.

The client evaluates the same segment in SQL (guide_app.db.segment_sql). Both follow the same
rules, and a test runs them on the same books and checks they agree:

- a tag reference matches a tag by id, or by name among corp and store tags;
- opted-out, deleted and merged customers are never targets;
- "days since the last purchase" counts whole days, and a customer who never bought does not match.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from guide_app.domain.packs import Segment
from guide_app.domain.stages import DAY_MS, StageThresholds, derive_stage


@dataclass(frozen=True)
class BookCustomer:
    id: str
    owner_guide_id: str
    birthday: str  # YYYY-MM-DD or ""
    stage: str  # manual override or ""
    created_at: int
    last_purchase_at: int | None
    total_spent_cents: int
    opted_out: bool  # on any channel
    tag_ids: frozenset[str]  # active tags only


@dataclass(frozen=True)
class BookTag:
    id: str
    name: str
    scope: str  # corp | store | personal


def resolve_refs(refs: Iterable[str], tags: Sequence[BookTag]) -> dict[str, frozenset[str]]:
    """The tag ids each reference means; references with no tag are absent."""
    out: dict[str, frozenset[str]] = {}
    for ref in set(refs):
        ids = frozenset(t.id for t in tags if t.id == ref or (t.name == ref and t.scope in ("corp", "store")))
        if ids:
            out[ref] = ids
    return out


def matches(segment: Segment, c: BookCustomer, tags: Mapping[str, frozenset[str]], *, now_ms: int,
            thresholds: StageThresholds = StageThresholds()) -> bool:  # noqa: B008 - frozen dataclass
    if c.opted_out:
        return False
    expr = segment.tags
    for ref in expr.all_of:
        if not (tags.get(ref, frozenset()) & c.tag_ids):
            return False
    if expr.any_of and not any(tags.get(ref, frozenset()) & c.tag_ids for ref in expr.any_of):
        return False
    if any(tags.get(ref, frozenset()) & c.tag_ids for ref in expr.none_of):
        return False
    if segment.birthday_months and not (
        len(c.birthday) == 10 and c.birthday[5:7].isdigit() and int(c.birthday[5:7]) in segment.birthday_months
    ):
        return False
    if segment.stages:
        stage = c.stage or derive_stage(c.created_at, c.last_purchase_at, now_ms, thresholds).value
        if stage not in segment.stages:
            return False
    days = segment.days_since_last_purchase
    if days is not None:
        if c.last_purchase_at is None:
            return False
        if days.min is not None and c.last_purchase_at > now_ms - days.min * DAY_MS:
            return False
        if days.max is not None and c.last_purchase_at <= now_ms - (days.max + 1) * DAY_MS:
            return False
    spend = segment.total_spend_cents
    if spend is not None:
        if spend.min is not None and c.total_spent_cents < spend.min:
            return False
        if spend.max is not None and c.total_spent_cents > spend.max:
            return False
    return True


def targets(segment: Segment, customers: Iterable[BookCustomer], tags: Sequence[BookTag], *,
            now_ms: int, thresholds: StageThresholds = StageThresholds()) -> list[BookCustomer]:  # noqa: B008
    e = segment.tags
    resolved = resolve_refs([*e.all_of, *e.any_of, *e.none_of], tags)
    return [c for c in customers if matches(segment, c, resolved, now_ms=now_ms, thresholds=thresholds)]
