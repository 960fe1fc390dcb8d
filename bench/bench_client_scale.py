"""Client at scale: a 200,000-customer book with 1,000,000 tag assignments and 500,000 follow-ups.

    python -m bench.bench_client_scale [--customers 200000] [--assignments 1000000] [--follow-ups 500000]
                                       [--queries 60] [--runs 3] [--page 100] [--no-sync]

1. Builds the book with the demo generator topped up to those totals, written by the bulk seeding path
   of services/demo_seed.py into a data folder, signed in as a guide of the store.
2. Start-up to usable window: the real app (``python -m guide_app --data-dir D --startup-figures``,
   offscreen) timed from spawning the process to the line it prints once the main window is shown and
   the customer list has painted its first page of rows. Raw limit: a bare ``python -c`` that imports
   sqlite3, opens the same file and runs the list's own query (every id in order, then the first
   page's customer rows), timed the same way. Median of ``--runs`` starts each, alternated.
3. Resident memory of the app once usable (VmRSS, VmHWM), next to the bare process's after its read;
   the app on an empty book is printed too (what Qt and the app cost without a book).
4. Search and tag-filter latency through ``CustomerQuery`` (ids + the first page's rows) as
   bench_book measures them, p95 over every query, next to the bare indexed SQL of each.
5. Initial sync: the same kind of book (same generator and totals, for HQ's demo store 上海南京西路店)
   written straight into a real HQ's SQLite file with HQ's demo writer (500 rows per version, as
   pushes make them), ``hq serve`` on 127.0.0.1, and a fresh client signed in as ``sh01.guide1``
   pulling everything from cursor 0. Raw limit: one bare sqlite3 ``executemany`` INSERT per table of
   the same rows into the same tables of a fresh client file, one commit.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from bench.bench_book import (
    EVERYONE,
    ms,
    pcts,
    people_of,
    search_kinds,
    tag_filters,
    time_searches,
    time_tag_filters,
)
from bench.figures import record
from guide_app.db import customer_list
from guide_app.db.engine import Database, open_database
from guide_app.db.models import Guide
from guide_app.domain.demo import DemoBook, DemoGuide, DemoOrg, DemoStore, generate_book, generate_org
from guide_app.domain.ids import pair_id
from guide_app.services.context import Actor, AppContext
from guide_app.services.customer_query import CustomerFilter, CustomerQuery
from guide_app.services.demo_seed import demo_counts, seed_demo
from guide_app.services.follow_ups import FollowUpService
from guide_app.services.org import remember_signed_in
from guide_app.services.sync_service import DbLocalStore, SyncService
from guide_app.services.tags import TagService
from guide_app.sync.protocol import PullResponse

ROOT = Path(__file__).resolve().parents[1]
SEED = 2026
HQ_STORE = "sh01"
HQ_GUIDE = "sh01.guide1"
HQ_STORE_ACCOUNTS = ("sh01.manager", "sh01.guide1", "sh01.guide2", "sh01.guide3", "floater.guide")

# what the bare process does for "start-up": the list's own query, then the first page's rows
RAW_START = """
import json, sqlite3, sys
path, sql, params, page = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
con = sqlite3.connect(path)
ids = [r[0] for r in con.execute(sql, params)]
first = ids[:page]
rows = con.execute("SELECT * FROM customer WHERE pk IN (%s)" % ",".join("?" * len(first)), first).fetchall()
mem = {}
for line in open("/proc/self/status"):
    key, _, value = line.partition(":")
    if key in ("VmRSS", "VmHWM"):
        mem[key] = int(value.split()[0])
print(json.dumps({"ready": bool(rows), "rows": len(ids), **mem}), flush=True)
"""


# --- 1. the book -----------------------------------------------------------------------------------


def build_client_book(data: Path, args: argparse.Namespace) -> tuple[Actor, Counter[str], float]:
    """The demo book in ``data/guide.db`` by the bulk path, signed in as a guide (not the manager)."""
    db = open_database(data / "guide.db")
    t0 = time.perf_counter()
    result = seed_demo(db, customers=args.customers, fast=True, assignments=args.assignments,
                       follow_ups=args.follow_ups)
    built = time.perf_counter() - t0
    with db.read() as s:
        guide = s.scalars(select(Guide).where(Guide.store_id == result.store_id, Guide.role == "guide")).first()
        assert guide is not None
        actor = Actor(guide.id, guide.store_id, role=guide.role, name=guide.name)
    remember_signed_in(db, actor)
    counts = demo_counts(db)
    db.dispose()
    return actor, counts, built


# --- 2, 3. start-up and memory ---------------------------------------------------------------------


def timed_start(cmd: list[str], log: Path) -> tuple[float, dict[str, Any]]:
    """ms from spawning ``cmd`` to the JSON line it prints, and that line; the process then exits."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    with log.open("ab") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env, cwd=ROOT, text=True)
        assert proc.stdout is not None
        figures: dict[str, Any] = {}
        for line in proc.stdout:
            if line.startswith("{"):
                figures = json.loads(line)
                break
        elapsed = (time.perf_counter() - t0) * 1000
        proc.stdout.read()
        rc = proc.wait(120)
    if rc != 0 or not figures.get("ready"):
        raise SystemExit(f"{' '.join(cmd[:4])} … did not get ready (exit {rc}): see {log}\n{log.read_text()[-2000:]}")
    return elapsed, figures


def app_cmd(data: Path) -> list[str]:
    return [sys.executable, "-m", "guide_app", "--data-dir", str(data), "--startup-figures"]


def raw_cmd(db_path: Path, actor: Actor, page: int) -> list[str]:
    """The bare process, given the exact SQL the app's first list query runs."""
    db = open_database(db_path)
    try:
        q = CustomerQuery(AppContext(db, actor))
        with db.read() as s:
            sql, params = customer_list.build(q.spec(s, EVERYONE))
    finally:
        db.dispose()
    return [sys.executable, "-c", RAW_START, str(db_path), sql, json.dumps(params), str(page)]


def startup(data: Path, actor: Actor, args: argparse.Namespace, work: Path) -> None:
    log = work / "app-start.log"
    raw = raw_cmd(data / "guide.db", actor, args.page)
    timed_start(app_cmd(data), log)  # the first start after the build: page cache warm for both below
    app_runs, raw_runs = [], []
    for _ in range(args.runs):
        app_runs.append(timed_start(app_cmd(data), log))
        raw_runs.append(timed_start(raw, log))
    empty = timed_start(app_cmd(work / "empty-book"), log)
    app_ms = statistics.median(t for t, _f in app_runs)
    raw_ms = statistics.median(t for t, _f in raw_runs)
    app_fig, raw_fig = app_runs[-1][1], raw_runs[-1][1]
    print(f"\nstart-up to usable window ({args.runs} starts each, median; min): app {app_ms:,.0f} ms "
          f"({min(t for t, _f in app_runs):,.0f}); bare python+sqlite3 list query {raw_ms:,.0f} ms "
          f"({min(t for t, _f in raw_runs):,.0f}); ratio {app_ms / raw_ms:.1f}x")
    print(f"  app: {app_fig['rows']:,} customers in the list, first row {app_fig['first_row']!r}; "
          f"{app_fig['waited_ms']:,.0f} ms of it from the window shown to the first rows painted")
    print(f"  app on an empty book: {empty[0]:,.0f} ms")
    mib = 1024.0
    app_rss, app_hwm = app_fig["VmRSS"] / mib, app_fig["VmHWM"] / mib
    raw_rss, raw_hwm = raw_fig["VmRSS"] / mib, raw_fig["VmHWM"] / mib
    empty_rss = empty[1]["VmRSS"] / mib
    print(f"resident memory once usable: app VmRSS {app_rss:.0f} MiB (VmHWM {app_hwm:.0f}); bare process "
          f"{raw_rss:.0f} MiB (VmHWM {raw_hwm:.0f}); app on an empty book {empty_rss:.0f} MiB")
    record("start-up to usable window (first page of the list painted)", app_ms, "ms", raw=raw_ms,
           note=f"median of {args.runs}; raw: bare python -c, sqlite3, the list query + first {args.page} rows; "
                f"empty book {empty[0]:,.0f} ms")
    record("resident memory once usable (VmRSS)", app_rss, "MiB", raw=raw_rss,
           note=f"VmHWM {app_hwm:.0f} MiB; raw: the bare process after the same read; "
                f"app on an empty book {empty_rss:.0f} MiB")


# --- 4. search and tag filter -----------------------------------------------------------------------


def queries(db_path: Path, actor: Actor, args: argparse.Namespace, n_customers: int) -> None:
    import random

    db = open_database(db_path)
    ctx = AppContext(db, actor)
    q = CustomerQuery(ctx)
    raw = sqlite3.connect(db_path)
    raw.execute("PRAGMA cache_size=-32000")  # as the app's connections
    page = args.page

    def open_list(f: CustomerFilter = EVERYONE) -> int:
        ids = q.ids(f)
        q.rows(ids[:page])
        return len(ids)

    with db.read() as s:
        sql, params = customer_list.build(q.spec(s, EVERYONE))
    start_work(ctx, q, page)
    print(f"\n{'what':<36}{'ours p50':>10}{'ours p95':>10}{'raw p50':>10}{'raw p95':>10}{'hits':>9}")

    def show(label: str, ours: list[float], bare: list[float], hits: float | None) -> None:
        o50, o95 = pcts(ours)
        r50, r95 = pcts(bare)
        print(f"{label:<36}{o50:>8.1f}ms{o95:>8.1f}ms{r50:>8.1f}ms{r95:>8.1f}ms"
              + (f"{hits:>9,.0f}" if hits is not None else ""))

    open_list()
    ours = [ms(open_list) for _ in range(10)]
    bare = [ms(lambda: [r[0] for r in raw.execute(sql, params)]) for _ in range(10)]
    show(f"list open (ids + {page} rows)", ours, bare, n_customers)
    o50, o95 = pcts(ours)
    r50, r95 = pcts(bare)
    record(f"list open (all ids + {page} rows), p95", o95, "ms", raw=r95,
           note=f"p50 {o50:.0f} ms (raw {r50:.0f} ms); raw: the list's own SQL on sqlite3")

    rnd = random.Random(11)
    people = people_of(raw, rnd.sample(range(1, n_customers + 1), args.queries))
    all_ours: list[float] = []
    all_bare: list[float] = []
    for label, col, texts in search_kinds(people):
        ours, bare, hits = time_searches(open_list, raw, ctx.store_id, col, texts)
        show(label, ours, bare, hits)
        all_ours += ours
        all_bare += bare
    o50, o95 = pcts(all_ours)
    r50, r95 = pcts(all_bare)
    show(f"search, all {len(all_ours)} queries", all_ours, all_bare, None)
    record("search while typing (6 kinds: name, surname, pinyin, phone digits), p95", o95, "ms", raw=r95,
           note=f"{len(all_ours)} queries; p50 {o50:.1f} ms (raw {r50:.2f} ms); raw: the bare FTS5 MATCH / "
                "prefix range")
    ours, bare, hits = time_tag_filters(open_list, raw, tag_filters(ctx, rnd, args.queries))
    show("tag filter (level AND 2 interests)", ours, bare, hits)
    o50, o95 = pcts(ours)
    r50, r95 = pcts(bare)
    record("tag filter (a level AND 2 interests), p95", o95, "ms", raw=r95,
           note=f"{len(ours)} filters, {hits:,.0f} hits on average; p50 {o50:.0f} ms (raw {r50:.0f} ms); raw: "
                "INTERSECT on the tag index")
    raw.close()
    db.dispose()


def start_work(ctx: AppContext, q: CustomerQuery, page: int) -> None:
    """What the customer page asks the DB thread for when the window opens, in that order, timed
    in-process (warm), with the Python memory each result holds: where the start-up's wait goes."""
    import tracemalloc

    follow_ups = FollowUpService(ctx)
    tags = TagService(ctx)
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("tag groups with live counts", tags.groups),
        ("ids of the whole list", q.ids),
        ("due today and overdue, with names", follow_ups.due_today),
    ]
    print("\nwhat the list page loads at start (DB thread, in order; warm, in-process):")
    ids: list[int] = []
    for label, call in steps:
        t0 = time.perf_counter()
        result = call()
        took = (time.perf_counter() - t0) * 1000
        tracemalloc.start()
        again = call()
        held = tracemalloc.get_traced_memory()[0] / 2**20
        tracemalloc.stop()
        del again
        ids = result if label.startswith("ids") else ids
        print(f"  {label:<36}{took:>8,.0f} ms  {len(result):>9,} items  {held:>6.1f} MiB of Python objects")
    t0 = time.perf_counter()
    q.rows(ids[:page])
    print(f"  {f'first page ({page} rows)':<36}{(time.perf_counter() - t0) * 1000:>8,.0f} ms")


# --- 5. initial sync --------------------------------------------------------------------------------


def hq_book(db_url: str, args: argparse.Namespace, now: int) -> tuple[DemoBook, float]:
    """HQ's demo org (no customers), then the store's book topped up to the totals, written with
    HQ's demo writer; returns the book (for the raw insert) and the seconds the rows took."""
    from hq.db import Database as HQDatabase
    from hq.db import upgrade
    from hq.demo import _Book
    from hq.demo import seed_demo as hq_seed_demo
    from hq.models import Account, Store
    from hq.sync_push import HQ_CLOCK

    upgrade(db_url)
    hq_db = HQDatabase(db_url)
    try:
        with hq_db.session() as s:
            summary = hq_seed_demo(s, customers_per_store=0, seed=SEED, now_ms=now)
        store_id = summary.stores[HQ_STORE]
        with hq_db.session() as s:
            by_name = {a.username: a for a in s.scalars(select(Account).where(Account.username.in_(HQ_STORE_ACCOUNTS)))}
            store_row = s.get(Store, store_id)
            assert store_row is not None
            guides = tuple(DemoGuide(by_name[u].id, store_id, by_name[u].display_name, by_name[u].role)
                           for u in HQ_STORE_ACCOUNTS)
            org = DemoOrg((DemoStore(store_id, store_row.name, store_row.region_id or "", ""),), guides,
                          generate_org(SEED, regions=1, stores_per_region=1, guides_per_store=1, now_ms=now).corp_groups)
        # the same seed, store and clock as HQ's seeding: its tag groups (already at HQ) get the same ids
        book = generate_book(org, store_id, customers=args.customers, seed=SEED, now_ms=now,
                             assignments=args.assignments, follow_ups=args.follow_ups)
        t0 = time.perf_counter()
        with hq_db.session() as s:
            store = s.get(Store, store_id)
            assert store is not None
            rows = _Book(s, store)
            n = 0

            def add(entity: str, row_id: str, data: dict[str, Any]) -> None:
                nonlocal n
                rows.add(entity, row_id, data)
                n += 1
                if n % 20_000 == 0:
                    rows.flush()

            for c in book.customers:
                add("customer", c.id, {
                    "store_id": store_id, "name": c.name, "phone": c.phone, "wechat_id": c.wechat_id,
                    "gender": c.gender, "birthday": c.birthday, "source": c.source, "owner_guide_id": c.owner_guide_id,
                    "stage": "", "preferences": c.preferences, "sizes": c.sizes, "notes": c.notes,
                    "consent_phone": c.consent_phone, "consent_sms": c.consent_sms, "consent_wechat": c.consent_wechat,
                    "created_at": c.created_at})
            for customer_id, tag_id in book.assignments:
                add("customer_tag", pair_id(customer_id, tag_id), {
                    "store_id": store_id, "customer_id": customer_id, "tag_id": tag_id, "added_hlc": HQ_CLOCK.tick(),
                    "removed_hlc": None})
            for p in book.purchases:
                add("purchase", p.id, {"store_id": store_id, "customer_id": p.customer_id, "guide_id": p.guide_id,
                                       "amount_cents": p.amount_cents, "items": p.items, "at": p.at, "origin": "guide"})
            for f in book.follow_ups:
                add("follow_up", f.id, {"store_id": store_id, "customer_id": f.customer_id, "guide_id": f.guide_id,
                                        "kind": f.kind, "note": f.note, "at": f.at, "next_at": f.next_at,
                                        "done": f.done})
            rows.flush()
        return book, time.perf_counter() - t0
    finally:
        hq_db.dispose()


def raw_insert(book: DemoBook, work: Path) -> tuple[int, float, float]:
    """The book's rows into the same tables of a fresh client file: one executemany per table, one
    commit; the parameters (field stamps as JSON) are made inside the timed part, as a client must."""
    path = work / "raw.db"
    open_database(path).dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    stamp = "0000000000000:00000:hq"

    def hlc(fields: tuple[str, ...]) -> str:
        return json.dumps(dict.fromkeys(fields, stamp))

    c_fields = ("store_id", "name", "phone", "wechat_id", "gender", "birthday", "source", "owner_guide_id", "stage",
                "preferences", "sizes", "notes", "consent_phone", "consent_sms", "consent_wechat", "created_at")
    ct_fields = ("store_id", "customer_id", "tag_id", "added_hlc", "removed_hlc")
    p_fields = ("store_id", "customer_id", "guide_id", "amount_cents", "items", "at", "origin")
    f_fields = ("store_id", "customer_id", "guide_id", "kind", "note", "at", "next_at", "done")
    sid = book.store_id
    t0, c0 = time.perf_counter(), time.thread_time()
    with con:
        con.executemany(
            "INSERT INTO customer (id, field_hlc, store_id, name, phone, wechat_id, gender, birthday, source, "
            "owner_guide_id, stage, preferences, sizes, notes, consent_phone, consent_sms, consent_wechat, created_at, "
            "updated_at, sort_name, total_spent_cents, order_count) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)",
            [(c.id, hlc(c_fields), sid, c.name, c.phone, c.wechat_id, c.gender, c.birthday, c.source, c.owner_guide_id,
              c.preferences, c.sizes, c.notes, c.consent_phone, c.consent_sms, c.consent_wechat, c.created_at,
              c.created_at, c.name) for c in book.customers])
        con.executemany(
            "INSERT INTO customer_tag (id, field_hlc, store_id, customer_id, tag_id, added_hlc, removed_hlc, active) "
            "VALUES (?, ?, ?, ?, ?, ?, NULL, 1)",
            [(pair_id(cid, tid), hlc(ct_fields), sid, cid, tid, stamp) for cid, tid in book.assignments])
        con.executemany(
            "INSERT INTO purchase (id, field_hlc, store_id, customer_id, guide_id, amount_cents, items, at, origin) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'guide')",
            [(p.id, hlc(p_fields), sid, p.customer_id, p.guide_id, p.amount_cents, p.items, p.at)
             for p in book.purchases])
        con.executemany(
            "INSERT INTO follow_up (id, field_hlc, store_id, customer_id, guide_id, kind, note, at, next_at, done) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(f.id, hlc(f_fields), sid, f.customer_id, f.guide_id, f.kind, f.note, f.at, f.next_at, int(f.done))
             for f in book.follow_ups])
    wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
    con.close()
    return len(book.customers) + len(book.assignments) + len(book.purchases) + len(book.follow_ups), wall, cpu


class ApplyTimer(DbLocalStore):
    """Time inside the page-apply transactions (wall and CPU of the applying thread), rows by entity."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.apply_s = 0.0
        self.apply_cpu_s = 0.0
        self.entities: Counter[str] = Counter()

    def apply_pull(self, page: PullResponse) -> None:
        t0, c0 = time.perf_counter(), time.thread_time()
        super().apply_pull(page)
        self.apply_s += time.perf_counter() - t0
        self.apply_cpu_s += time.thread_time() - c0
        self.entities.update(r.entity for r in page.rows)


def initial_sync(args: argparse.Namespace, work: Path) -> None:
    from bench.bench_sync import start_serve
    from tests.e2e.hq_process import DEMO_PASSWORD

    db_url = f"sqlite:///{work / 'hq.sqlite3'}"
    now = int(time.time() * 1000)
    t0 = time.perf_counter()
    book, write_s = hq_book(db_url, args, now)
    print(f"\nHQ: demo org and a book of {len(book.customers):,} customers, {len(book.assignments):,} tag "
          f"assignments, {len(book.purchases):,} purchases, {len(book.follow_ups):,} follow-ups "
          f"({write_s:.0f} s writing the rows; {time.perf_counter() - t0:.0f} s in all)")
    n_raw, raw_s, raw_cpu = raw_insert(book, work)
    expected = Counter({"customer": len(book.customers), "customer_tag": len(book.assignments),
                        "purchase": len(book.purchases), "follow_up": len(book.follow_ups)})
    del book
    gc.collect()
    hq = start_serve(db_url, work)
    try:
        db = open_database(work / "pc.db")
        service = SyncService(db, memory_tokens=True)
        timer = ApplyTimer(db)
        service.store = timer
        actor = service.login(hq.url, HQ_GUIDE, DEMO_PASSWORD)
        service.attach(AppContext(db, actor))
        t0 = time.perf_counter()
        report = service.sync_now()
        sync_s = time.perf_counter() - t0
        assert report is not None
        service.client.close()
        with db.read() as s:
            held = {t: int(s.scalar(text(f"SELECT count(*) FROM {t}")) or 0) for t in expected}
        db.dispose()
    finally:
        hq.stop()
    missing = {t: expected[t] - held[t] for t in expected if held[t] != expected[t]}
    if missing:
        raise SystemExit(f"the client does not hold the book after the initial sync: {missing}")
    book_rows = sum(expected.values())
    rate, raw_rate = report.pulled_rows / sync_s, n_raw / raw_s
    print(f"initial sync: {report.pulled_rows:,} rows in {report.pages} pages: {sync_s:.1f} s wall, {rate:,.0f} rows/s "
          f"({', '.join(f'{k} {v:,}' for k, v in timer.entities.most_common())})")
    print(f"  client apply: {timer.apply_s:.1f} s wall, {timer.apply_cpu_s:.1f} s CPU of the applying thread "
          f"({book_rows / timer.apply_cpu_s:,.0f} book rows per CPU second); the rest ({sync_s - timer.apply_s:.1f} s) "
          "is HQ building pages, HTTP and decoding")
    print(f"raw sqlite3 executemany INSERT of the same {n_raw:,} rows into the same tables: {raw_s:.1f} s wall, "
          f"{raw_cpu:.1f} s CPU, {raw_rate:,.0f} rows/s; initial sync / raw: {sync_s / raw_s:.0f}x")
    record(f"initial sync of the book from hq serve ({report.pulled_rows:,} rows)", sync_s, "s", raw=raw_s,
           note=f"{rate:,.0f} rows/s (raw {raw_rate:,.0f}); apply {timer.apply_cpu_s:.0f} s CPU; raw: one "
                "executemany INSERT per table")
    record("initial sync, client apply rate (CPU of the applying thread)", book_rows / timer.apply_cpu_s, "rows/s",
           raw=n_raw / raw_cpu, note="raw: the same inserts, CPU")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--assignments", type=int, default=1_000_000, help="tag assignments in the book")
    parser.add_argument("--follow-ups", type=int, default=500_000)
    parser.add_argument("--queries", type=int, default=60, help="queries per kind of search, and tag filters")
    parser.add_argument("--runs", type=int, default=3, help="timed starts of the app and of the bare process")
    parser.add_argument("--page", type=int, default=100, help="rows of the first page (the app's page size)")
    parser.add_argument("--no-sync", action="store_true", help="leave out the initial sync (5.)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    load = os.getloadavg()
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        work = Path(tmp)
        data = work / "data"
        actor, counts, built = build_client_book(data, args)
        print(f"book: {counts['customer']:,} customers, {counts['customer_tag']:,} tag assignments, "
              f"{counts['purchase']:,} purchases, {counts['follow_up']:,} follow-ups; built in {built:.0f} s "
              f"(file {(data / 'guide.db').stat().st_size / 2**20:,.0f} MiB); signed in as guide {actor.name}")
        startup(data, actor, args, work)
        queries(data / "guide.db", actor, args, counts["customer"])
        if not args.no_sync:
            initial_sync(args, work)
    print(f"\nbench_client_scale: {time.perf_counter() - started:.0f} s in all; load average now "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
