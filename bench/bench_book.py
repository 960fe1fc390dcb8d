"""Customer book on 100k customers: list open and search-while-typing latency, next to raw SQLite.

    python -m bench.bench_book [--customers 100000] [--queries 60] [--page 50]

Builds a demo book (bulk seeding path, ~3 tag assignments per customer) in a temp dir, then times
what the guide waits for: ``CustomerQuery.ids(filter)`` plus ``rows()`` of the first page. Next to
each figure is the bare equivalent indexed query (the FTS5 MATCH, the prefix range or the tag index
range alone, fetched to the last row) on a plain sqlite3 connection to the same file, measured in
the same run; the ratio says what filtering, joining, sorting and building rows cost on top. For
the stage and owner filters the raw figure is the list query's own SQL run bare on sqlite3.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench.figures import record
from guide_app.db import customer_list
from guide_app.db.customer_list import fts_phrase
from guide_app.db.engine import open_database
from guide_app.db.search_index import search_keys
from guide_app.services.context import AppContext
from guide_app.services.customer_query import CustomerFilter, CustomerQuery, TagFilter
from guide_app.services.demo_seed import demo_counts, seed_demo
from guide_app.services.follow_ups import FollowUpService
from guide_app.services.purchases import local_day
from guide_app.services.tags import TagService

EVERYONE = CustomerFilter()


def ms(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def _fetch(raw: sqlite3.Connection, sql: str, params: dict[str, Any]) -> list[Any]:
    return raw.execute(sql, params).fetchall()


def pcts(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def raw_text(raw: sqlite3.Connection, store_id: str, col: str, q: str) -> Callable[[], object]:
    """The bare indexed lookup a query of this length maps to."""
    if len(q) >= 3:
        match = (f"{{{col}}} : " if col else "") + fts_phrase(q)
        return lambda: raw.execute("SELECT rowid FROM customer_fts WHERE customer_fts MATCH ?", (match,)).fetchall()
    hi = q[:-1] + chr(ord(q[-1]) + 1)
    column = col or "name"
    sql = f"SELECT pk FROM customer_search WHERE store_id = ? AND {column} >= ? AND {column} < ?"
    return lambda: raw.execute(sql, (store_id, q, hi)).fetchall()


def raw_tags(raw: sqlite3.Connection, tf: TagFilter) -> Callable[[], object]:
    """The groups' customer ids intersected on the tag index alone (no customer rows, no sort)."""
    sql = " INTERSECT ".join(
        f"SELECT customer_id FROM customer_tag WHERE tag_id IN ({','.join('?' * len(g))}) AND active = 1"
        for g in tf.groups)
    params = [t for g in tf.groups for t in g]
    return lambda: raw.execute(sql, params).fetchall()


Timed = tuple[list[float], list[float], float]  # ours (ms), raw (ms), mean hits


def people_of(raw: sqlite3.Connection, pks: list[int]) -> list[tuple[str, str, str]]:
    """(name, phone, WeChat id) of these customers: what the searches look for."""
    return [raw.execute("SELECT name, phone, wechat_id FROM customer WHERE pk = ?", (pk,)).fetchone() for pk in pks]


def search_kinds(people: list[tuple[str, str, str]]) -> list[tuple[str, str, list[str]]]:
    """(label, search column, texts typed) of each kind of search a guide makes."""
    return [
        ("search name (full name)", "name", [p[0] for p in people]),
        ("search name (surname, 1 char)", "name", [p[0][0] for p in people]),
        ("search pinyin initials", "py_initials",
         [search_keys(p[0], "", "")["py_initials"].split(" ")[0] for p in people]),
        ("search pinyin full (6 letters)", "py_full",
         [search_keys(p[0], "", "")["py_full"].split(" ")[0][:6] for p in people]),
        ("search phone last 4", "phone_digits", [p[1][-4:] for p in people]),
        ("search phone middle 4", "phone_digits", [p[1][5:9] for p in people]),
    ]


def time_searches(open_list: Callable[[CustomerFilter], int], raw: sqlite3.Connection, store: str, col: str,
                  texts: list[str]) -> Timed:
    ours, bare, hits = [], [], []
    for text_ in texts:
        f = CustomerFilter(text=text_)
        open_list(f)  # first keystroke of this text warms nothing the next one would not
        t = time.perf_counter()
        hits.append(open_list(f))
        ours.append((time.perf_counter() - t) * 1000)
        bare.append(ms(raw_text(raw, store, "" if col == "name" else col, text_.lower())))
    return ours, bare, statistics.mean(hits)


def tag_filters(ctx: AppContext, rnd: random.Random, n: int) -> list[TagFilter]:
    """A customer level (not the lowest) AND two interests, n times at random."""
    groups = {g.name: g for g in TagService(ctx).groups(with_counts=False)}
    level = [t.id for t in groups["客户等级"].tags]
    interests = [t.id for t in groups["兴趣偏好"].tags]
    return [TagFilter(((rnd.choice(level[1:]),), tuple(rnd.sample(interests, 2)))) for _ in range(n)]


def time_tag_filters(open_list: Callable[[CustomerFilter], int], raw: sqlite3.Connection,
                     filters: list[TagFilter]) -> Timed:
    ours, bare, hits = [], [], []
    for tf in filters:
        f = CustomerFilter(tags=tf)
        t = time.perf_counter()
        hits.append(open_list(f))
        ours.append((time.perf_counter() - t) * 1000)
        bare.append(ms(raw_tags(raw, tf)))
    return ours, bare, statistics.mean(hits)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=60, help="queries per kind")
    ap.add_argument("--page", type=int, default=50, help="rows of the first page")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "book.db"
        db = open_database(path)
        t = time.perf_counter()
        result = seed_demo(db, customers=args.customers, fast=True)
        build_s = time.perf_counter() - t
        counts = demo_counts(db)
        print(f"book: {counts['customer']:,} customers, {counts['customer_tag']:,} tag assignments, "
              f"{counts['purchase']:,} purchases, {counts['follow_up']:,} follow-ups; built in {build_s:.1f} s")
        ctx = AppContext(db, result.actor)
        q = CustomerQuery(ctx)
        raw = sqlite3.connect(path)
        raw.execute("PRAGMA cache_size=-32000")
        store = ctx.store_id
        page = args.page

        def open_list(f: CustomerFilter = EVERYONE) -> int:
            ids = q.ids(f)
            q.rows(ids[:page])
            return len(ids)

        def raw_open() -> None:
            pks = [r[0] for r in raw.execute(
                "SELECT pk FROM customer WHERE store_id = ? AND deleted_hlc IS NULL AND merged_into IS NULL "
                "ORDER BY sort_name", (store,))]
            marks = ",".join("?" * len(pks[:page]))
            raw.execute(f"SELECT * FROM customer WHERE pk IN ({marks})", pks[:page]).fetchall()

        print(f"\n{'what':<34}{'ours p50':>10}{'ours p95':>10}{'raw p50':>10}{'raw p95':>10}{'ratio':>8}"
              f"{'hits':>9}")

        def report(label: str, ours: list[float], bare: list[float], hits: float) -> None:
            o50, o95 = pcts(ours)
            r50, r95 = pcts(bare)
            print(f"{label:<34}{o50:>8.1f}ms{o95:>8.1f}ms{r50:>8.1f}ms{r95:>8.1f}ms{o50 / max(r50, 1e-3):>7.1f}x"
                  f"{hits:>9.0f}")
            record(f"{label}, p50", o50, "ms", raw=r50, note=f"p95 {o95:.1f} ms (raw {r95:.1f} ms); {hits:,.0f} hits")

        cold = ms(open_list)
        ours = [ms(open_list) for _ in range(10)]
        bare = [ms(raw_open) for _ in range(10)]
        report(f"list open (ids + {page} rows)", ours, bare, counts["customer"])
        print(f"{'  first open after build':<34}{cold:>8.1f}ms")

        for label, f in (("stage filter (active), by name", CustomerFilter(stage="active")),
                         ("my customers, lost, by last buy", CustomerFilter(owner_guide_id=ctx.actor.guide_id,
                                                                         stage="lost", sort="last_purchase"))):
            with db.read() as s:
                sql, params = customer_list.build(q.spec(s, f))
            n = open_list(f)
            ours = [ms(partial(open_list, f)) for _ in range(10)]
            bare = [ms(partial(_fetch, raw, sql, params)) for _ in range(10)]
            report(label, ours, bare, n)

        rnd = random.Random(11)
        people = people_of(raw, rnd.sample(range(1, counts["customer"] + 1), args.queries))
        for label, col, texts in search_kinds(people):
            report(label, *time_searches(open_list, raw, store, col, texts))
        filters = tag_filters(ctx, rnd, args.queries)
        report("tag filter (level AND 2 interests)", *time_tag_filters(open_list, raw, filters))

        ours, bare, hits = [], [], []
        for p, tf in zip(people, filters, strict=False):
            f = CustomerFilter(text=p[0][0], tags=tf, stage="active", sort="last_purchase", descending=True)
            n = 0

            def run_all(f: CustomerFilter = f) -> None:
                nonlocal n
                n = open_list(f)

            ours.append(ms(run_all))
            hits.append(n)
            bare.append(ms(raw_text(raw, store, "name", p[0][0])))
        report("surname + tags + stage + sort", ours, bare, statistics.mean(hits))
        tags = TagService(ctx)
        n_groups = len(tags.groups(with_counts=False))
        ours = [ms(tags.groups) for _ in range(5)]
        bare = [ms(lambda: raw.execute(
            "SELECT tag_id, count(*) FROM customer_tag WHERE active = 1 GROUP BY tag_id").fetchall())
            for _ in range(5)]
        report("tag page (groups + live counts)", ours, bare, n_groups)
        follow_ups = FollowUpService(ctx)
        day = local_day(ctx.now_ms())
        due: list[object] = []
        ours = [ms(lambda: due.extend(follow_ups.due_today(day))) for _ in range(5)]
        bare = [ms(lambda: raw.execute(
            "SELECT id FROM follow_up WHERE store_id = ? AND done = 0 AND next_at != '' AND next_at <= ?",
            (store, day.isoformat())).fetchall()) for _ in range(5)]
        report("due today (with customer names)", ours, bare, len(due) / 5)
        raw.close()
        db.dispose()


if __name__ == "__main__":
    main()
