"""SQL of the customer list: search while typing, tag / stage / owner filters and sort in one query.

Search never scans the book: queries of 3+ characters go to the FTS5 trigram table ``customer_fts``
(substring match over name, pinyin full and initials, phone digits, wechat id); 1-2 character
queries are prefix ranges on the indexed ``customer_search`` columns, the given name's keys included
(see ``_prefix_cols``). The matching rows drive the query (``CROSS JOIN`` fixes SQLite's join
order), so a keystroke costs the number of hits, not the size of the book. Without a search, the tag groups drive (INTERSECT / EXCEPT of customer ids read
from the tag index alone); without either, the partial "live customers" sort index does.

Runs on the raw sqlite3 cursor of the session's connection: the list opens on 100k ids, and
building 100k ORM/Row objects would cost more than the query itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from guide_app.domain.phones import digits_only
from guide_app.domain.pinyin_keys import is_han

SORTS = ("name", "last_purchase", "created")
STAGES = ("new", "active", "sleeping", "lost")
_PHONEISH = re.compile(r"^\+?[\d\s\-()]+$")
_MAX_QUERY = 64  # longer input is cut: nobody types more, and FTS phrases stay cheap
_SEARCH_COLS = ("name", "py_full", "py_initials", "wechat")


@dataclass(frozen=True)
class ListSpec:
    """What to list. ``cutoffs`` comes from domain.stages.stage_cutoffs (needed for a stage filter)."""

    store_id: str
    text: str = ""
    tag_groups: tuple[tuple[str, ...], ...] = ()
    tag_none_of: tuple[str, ...] = ()
    stage: str = ""
    cutoffs: Mapping[str, int] = field(default_factory=dict)
    owner_guide_id: str = ""
    sort: str = "name"
    descending: bool = False


@dataclass(frozen=True)
class SearchTerm:
    text: str  # normalised: lower case, no spaces; digits only for a phone-like query
    digits: bool


def normalize_query(raw: str) -> SearchTerm | None:
    text = (raw or "").strip()
    if not text:
        return None
    if _PHONEISH.match(text) and any(ch.isdigit() for ch in text):
        digits = digits_only(text)
        if text.startswith("+86") or (len(digits) > 11 and digits.startswith("86")):
            digits = digits[2:]
        return SearchTerm(digits[:_MAX_QUERY], True) if digits else None
    squeezed = "".join(text.split()).lower()[:_MAX_QUERY]
    return SearchTerm(squeezed, False) if squeezed else None


def fts_phrase(text: str) -> str:
    """One FTS5 string literal: the text in double quotes, inner quotes doubled, so any input
    (quotes, ``*``, ``-``, ``OR``, ``NEAR``) is matched literally instead of parsed as syntax."""
    return '"' + text.replace('"', '""') + '"'


def _prefix_bounds(text: str) -> tuple[str, str]:
    last = ord(text[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:  # surrogates cannot be stored; skip to the next real code point
        last = 0xE000
    return text, text[:-1] + chr(min(last, 0x10FFFF))


def _prefix(col: str, n: int) -> str:
    return f"SELECT pk FROM customer_search WHERE store_id = :store AND {col} >= :lo{n} AND {col} < :hi{n}"


def search_sql(term: SearchTerm, params: dict[str, Any]) -> str:
    """A query of matching customer pks (the caller checks store and liveness on the join)."""
    q = term.text
    parts: list[str] = []
    if term.digits:
        if len(q) >= 4:  # any run of 4+ digits: last four, middle digits, whole number
            params["fts"] = "{phone_digits wechat} : " + fts_phrase(q)
            return "SELECT rowid AS pk FROM customer_fts WHERE customer_fts MATCH :fts"
        params["lo0"], params["hi0"] = _prefix_bounds(q)
        parts.append(_prefix("phone_digits", 0))
        if len(q) == 3:
            params["fts"] = "{wechat} : " + fts_phrase(q)
            parts.append("SELECT rowid AS pk FROM customer_fts WHERE customer_fts MATCH :fts")
        else:
            params["lo1"], params["hi1"] = params["lo0"], params["hi0"]
            parts.append(_prefix("wechat", 1))
        return " UNION ".join(parts)
    if len(q) >= 3:
        params["fts"] = fts_phrase(q)
        return "SELECT rowid AS pk FROM customer_fts WHERE customer_fts MATCH :fts"
    for n, col in enumerate(_prefix_cols(q)):
        params[f"lo{n}"], params[f"hi{n}"] = _prefix_bounds(q)
        parts.append(_prefix(col, n))
    if len(q) == 1 and is_han(q):
        params["last"] = q
        parts.append("SELECT pk FROM customer_search WHERE store_id = :store AND name_last = :last")
    return " UNION ".join(parts)


def _prefix_cols(q: str) -> tuple[str, ...]:
    """customer_search columns a 1-2 character query is a prefix of.

    Staff often know a customer by the given name only: two characters also match the given name and
    its initials (小明, xm → 王小明; 娜娜 → 欧阳娜娜). One Chinese character also matches the given
    name's first character and, in search_sql, its last (芳 → 王芳; 明 → 王小明, 李明辉): one of
    thousands of characters is selective, so this adds hits of the order of the surname's own (王
    alone is some 7% of Chinese people). One letter does not: one of 26, it would add a large slice of
    the book to every first keystroke, which is nearly always the start of a surname or its pinyin."""
    if len(q) == 2:
        return (*_SEARCH_COLS, "name_tail", "py_initials_tail")
    if is_han(q):
        return (*_SEARCH_COLS, "name_tail")
    return _SEARCH_COLS


def _in_list(prefix: str, values: Sequence[str], params: dict[str, Any]) -> str:
    names = []
    for i, v in enumerate(values):
        params[f"{prefix}_{i}"] = v
        names.append(f":{prefix}_{i}")
    return ", ".join(names)


def stage_sql(stage: str) -> str:
    """Stage as a predicate on indexed columns, mirroring domain.stages.derive_stage exactly
    (a manual override in ``customer.stage`` wins)."""
    derived = {
        "new": "c.last_purchase_at IS NULL AND c.created_at >= :new_since",
        "active": "c.last_purchase_at > :sleeping_before",
        "sleeping": "(c.last_purchase_at IS NULL AND c.created_at < :new_since AND c.created_at >= :lost_before)"
        " OR (c.last_purchase_at > :lost_before AND c.last_purchase_at <= :sleeping_before)",
        "lost": "(c.last_purchase_at IS NULL AND c.created_at < :lost_before)"
        " OR c.last_purchase_at <= :lost_before",
    }[stage]
    return f"(c.stage = '{stage}' OR (c.stage = '' AND ({derived})))"


# Each sort lists its index's full key (see models.Customer), so the index order is the whole ORDER BY:
# no sort step, and a total order (pk last) that stays put while the guide scrolls.
_ORDER_KEYS = {
    "name": ("c.sort_name", "c.stage", "c.created_at", "c.last_purchase_at", "c.owner_guide_id", "c.pk"),
    "created": ("c.created_at", "c.stage", "c.last_purchase_at", "c.owner_guide_id", "c.pk"),
    "last_purchase": ("c.last_purchase_at", "c.stage", "c.created_at", "c.owner_guide_id", "c.pk"),
}


def order_sql(sort: str, descending: bool) -> str:
    keys = list(_ORDER_KEYS[sort])
    if descending:  # SQLite puts NULL last when descending: never-bought customers end the list
        return ", ".join(f"{k} DESC" for k in keys)
    if sort == "last_purchase":
        keys[0] += " NULLS LAST"  # and here too
    return ", ".join(keys)


def build(spec: ListSpec, *, select: str = "c.pk", ordered: bool = True) -> tuple[str, dict[str, Any]]:
    if spec.sort not in SORTS:
        raise ValueError(f"unknown sort {spec.sort!r}")
    params: dict[str, Any] = {"store": spec.store_id}
    where = ["c.store_id = :store", "c.deleted_hlc IS NULL", "c.merged_into IS NULL"]
    sources: list[str] = []
    term = normalize_query(spec.text)
    groups = [g for g in spec.tag_groups if g]
    none_of_done = False
    if term is not None:
        sources.append(f"({search_sql(term, params)}) AS hit")
        where.append("c.pk = hit.pk")
    elif groups:
        # set algebra on the (tag_id, active, customer_id) index alone, then look up only the matches
        parts = [
            f"SELECT customer_id FROM customer_tag WHERE tag_id IN ({_in_list(f'g{n}', g, params)}) AND active = 1"
            for n, g in enumerate(groups)
        ]
        drive = " INTERSECT ".join(parts)
        if spec.tag_none_of:
            ids = _in_list("x", spec.tag_none_of, params)
            drive += f" EXCEPT SELECT customer_id FROM customer_tag WHERE tag_id IN ({ids}) AND active = 1"
            none_of_done = True
        elif len(parts) == 1 and len(groups[0]) > 1:
            drive = drive.replace("SELECT", "SELECT DISTINCT", 1)  # one customer may carry several
        sources.append(f"({drive}) AS drive")
        where.append("c.id = drive.customer_id")
        groups = []
    for n, group in enumerate(groups, start=1):
        ids = _in_list(f"g{n}", group, params)
        where.append(
            "EXISTS (SELECT 1 FROM customer_tag ct WHERE ct.customer_id = c.id"
            f" AND ct.tag_id IN ({ids}) AND ct.active = 1)"
        )
    if spec.tag_none_of and not none_of_done:
        ids = _in_list("x", spec.tag_none_of, params)
        where.append(
            "NOT EXISTS (SELECT 1 FROM customer_tag ct WHERE ct.customer_id = c.id"
            f" AND ct.tag_id IN ({ids}) AND ct.active = 1)"
        )
    if spec.stage:
        if spec.stage not in STAGES:
            raise ValueError(f"unknown stage {spec.stage!r}")
        where.append(stage_sql(spec.stage))
        params.update({k: spec.cutoffs[k] for k in ("new_since", "sleeping_before", "lost_before")})
    if spec.owner_guide_id:
        # unary + : a plain check on the index entry; as a constraint SQLite would sort the list again
        where.append("+c.owner_guide_id = :owner")
        params["owner"] = spec.owner_guide_id
    sources.append("customer AS c")
    sql = f"SELECT {select} FROM {' CROSS JOIN '.join(sources)} WHERE {' AND '.join(where)}"
    if ordered:
        sql += f" ORDER BY {order_sql(spec.sort, spec.descending)}"
    return sql, params


def raw_cursor(session: Session) -> Any:
    """A sqlite3 cursor on the session's connection, inside its transaction: for big read-only lists
    where building SQLAlchemy rows would cost more than the query."""
    conn = session.connection().connection.driver_connection
    assert conn is not None
    return conn.cursor()


def select_pks(session: Session, spec: ListSpec) -> list[int]:
    sql, params = build(spec)
    return [r[0] for r in raw_cursor(session).execute(sql, params)]


def count(session: Session, spec: ListSpec) -> int:
    sql, params = build(spec, select="count(*)", ordered=False)
    return int(raw_cursor(session).execute(sql, params).fetchone()[0])


def query_plan(session: Session, spec: ListSpec) -> list[str]:
    """EXPLAIN QUERY PLAN lines of the list query (tests check that it never scans the book)."""
    sql, params = build(spec)
    return [r[3] for r in raw_cursor(session).execute("EXPLAIN QUERY PLAN " + sql, params)]


_ROW_COLS = (
    "c.pk, c.id, c.name, c.phone, c.wechat_id, c.gender, c.stage, c.owner_guide_id, COALESCE(g.name, ''), "
    "c.last_purchase_at, c.created_at, c.total_spent_cents, c.order_count"
)


def load_rows(session: Session, pks: Sequence[int]) -> dict[int, tuple[Any, ...]]:
    """Display columns of the given customers, keyed by pk (the caller restores the order)."""
    out: dict[int, tuple[Any, ...]] = {}
    cur = raw_cursor(session)
    for start in range(0, len(pks), 500):
        chunk = list(pks[start:start + 500])
        marks = ", ".join("?" * len(chunk))
        sql = (f"SELECT {_ROW_COLS} FROM customer c LEFT JOIN guide g ON g.id = c.owner_guide_id "
               f"WHERE c.pk IN ({marks})")
        for r in cur.execute(sql, chunk):
            out[r[0]] = tuple(r)
    return out


def visible_groups_sql(alias: str = "tg") -> str:
    """Tag groups this guide sees: corp, this store's, and their own personal ones."""
    return (f"{alias}.deleted_hlc IS NULL AND ({alias}.scope = 'corp' OR ({alias}.store_id = :store AND "
            f"({alias}.scope = 'store' OR {alias}.owner_guide_id = :guide)))")


def load_tags(session: Session, customer_ids: Sequence[str], store_id: str,
              guide_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """Active tags of each customer: (tag_id, tag name, group_id, group name, colour, scope, multi)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    cur = raw_cursor(session)
    for start in range(0, len(customer_ids), 500):
        chunk = list(customer_ids[start:start + 500])
        params: dict[str, Any] = {"store": store_id, "guide": guide_id}
        ids = _in_list("c", chunk, params)
        sql = (
            "SELECT ct.customer_id, t.id, t.name, tg.id, tg.name, tg.color, tg.scope, tg.multi "
            "FROM customer_tag ct JOIN tag t ON t.id = ct.tag_id JOIN tag_group tg ON tg.id = t.group_id "
            f"WHERE ct.customer_id IN ({ids}) AND ct.active = 1 AND t.deleted_hlc IS NULL "
            f"AND {visible_groups_sql()} "
            "ORDER BY CASE tg.scope WHEN 'corp' THEN 0 WHEN 'store' THEN 1 ELSE 2 END, tg.sort_order, tg.pk, "
            "t.sort_order, t.pk"
        )
        for r in cur.execute(sql, params):
            out.setdefault(r[0], []).append(tuple(r[1:]))
    return out
