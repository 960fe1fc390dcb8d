"""A campaign segment (domain.packs.Segment) as one SQL query over the local customer book.

Tag references in a pack are tag ids or names; :func:`resolve_tags` turns each into the set of local
tag ids it means, and :func:`build` writes one query of indexed predicates (no per-row Python), so a
100k-customer book answers in well under a frame of the campaign page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from guide_app.db.customer_list import stage_sql
from guide_app.domain.packs import Segment
from guide_app.domain.stages import DAY_MS

# Opted out on any channel means "do not contact me": such a customer is never a campaign target.
NOT_OPTED_OUT = ("c.consent_phone != 'opted_out' AND c.consent_sms != 'opted_out' "
                 "AND c.consent_wechat != 'opted_out'")
_ACTIVE_TAG = "SELECT ct.customer_id FROM customer_tag ct WHERE ct.active = 1 AND ct.deleted_hlc IS NULL"


@dataclass
class TagResolution:
    """Local tag ids per reference; ``unknown`` lists references this PC has no tag for."""

    ids: dict[str, list[str]] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)


def resolve_tags(session: Session, refs: Sequence[str]) -> TagResolution:
    """A reference matches a tag by id, or by name among corp and store tags (a guide's personal tag
    of the same name is not what HQ meant)."""
    out = TagResolution()
    wanted = sorted(set(refs))
    if not wanted:
        return out
    params: dict[str, Any] = {}
    names = _in_list("r", wanted, params)
    rows = session.execute(
        text(
            "SELECT t.id, t.name, tg.scope FROM tag t JOIN tag_group tg ON tg.id = t.group_id "
            f"WHERE t.deleted_hlc IS NULL AND tg.deleted_hlc IS NULL AND (t.id IN ({names}) OR t.name IN ({names}))"
        ),
        params,
    ).all()
    for ref in wanted:
        ids = sorted({r[0] for r in rows if r[0] == ref or (r[1] == ref and r[2] in ("corp", "store"))})
        if ids:
            out.ids[ref] = ids
        else:
            out.unknown.append(ref)
    return out


def _in_list(prefix: str, values: Sequence[Any], params: dict[str, Any]) -> str:
    names = []
    for i, v in enumerate(values):
        params[f"{prefix}_{i}"] = v
        names.append(f":{prefix}_{i}")
    return ", ".join(names)


def build(
    segment: Segment,
    tags: TagResolution,
    *,
    store_id: str,
    now_ms: int,
    cutoffs: dict[str, int],
    owner_guide_id: str | None = None,
    customer_id: str | None = None,
    select: str = "c.id",
) -> tuple[str, dict[str, Any]] | None:
    """The target query and its parameters, or None when no customer can match (an ``all_of`` tag
    this PC does not have)."""
    params: dict[str, Any] = {"store": store_id}
    where = ["c.store_id = :store", "c.deleted_hlc IS NULL", "c.merged_into IS NULL", NOT_OPTED_OUT]
    if owner_guide_id is not None:
        params["owner"] = owner_guide_id
        where.append("c.owner_guide_id = :owner")
    if customer_id is not None:
        params["cid"] = customer_id
        where.append("c.id = :cid")
    # The first tag condition drives the query (an IN list over the tag index); the others are
    # checked per candidate through the (customer_id, tag_id) index, which beats building one
    # temporary table per tag on a large book.
    tag_sets: list[tuple[str, list[str]]] = []
    for ref in segment.tags.all_of:
        if ref not in tags.ids:
            return None
        tag_sets.append(("has", tags.ids[ref]))
    if segment.tags.any_of:
        any_ids = sorted({t for ref in segment.tags.any_of for t in tags.ids.get(ref, [])})
        if not any_ids:
            return None
        tag_sets.append(("has", any_ids))
    none_ids = sorted({t for ref in segment.tags.none_of for t in tags.ids.get(ref, [])})
    if none_ids:
        tag_sets.append(("lacks", none_ids))
    for i, (kind, ids) in enumerate(tag_sets):
        names = _in_list(f"tag{i}", ids, params)
        if i == 0 and kind == "has":
            where.append(f"c.id IN ({_ACTIVE_TAG} AND ct.tag_id IN ({names}))")
        else:
            exists = (f"EXISTS (SELECT 1 FROM customer_tag ct WHERE ct.customer_id = c.id AND ct.tag_id IN ({names}) "
                      "AND ct.active = 1 AND ct.deleted_hlc IS NULL)")
            where.append(exists if kind == "has" else "NOT " + exists)
    if segment.birthday_months:
        months = [f"{m:02d}" for m in sorted(set(segment.birthday_months))]
        where.append(f"length(c.birthday) = 10 AND substr(c.birthday, 6, 2) IN ({_in_list('bm', months, params)})")
    if segment.stages:
        params.update(cutoffs)
        where.append("(" + " OR ".join(stage_sql(s) for s in sorted(set(segment.stages))) + ")")
    days = segment.days_since_last_purchase
    if days is not None:
        # whole days elapsed: d >= min  <=>  last <= now - min days;  d <= max  <=>  last > now - (max+1) days
        where.append("c.last_purchase_at IS NOT NULL")
        if days.min is not None:
            params["bought_before"] = now_ms - days.min * DAY_MS
            where.append("c.last_purchase_at <= :bought_before")
        if days.max is not None:
            params["bought_after"] = now_ms - (days.max + 1) * DAY_MS
            where.append("c.last_purchase_at > :bought_after")
    spend = segment.total_spend_cents
    if spend is not None:
        if spend.min is not None:
            params["spend_min"] = spend.min
            where.append("c.total_spent_cents >= :spend_min")
        if spend.max is not None:
            params["spend_max"] = spend.max
            where.append("c.total_spent_cents <= :spend_max")
    return f"SELECT {select} FROM customer c WHERE " + " AND ".join(where), params
