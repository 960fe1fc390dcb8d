"""Sync figures over loopback against a real ``hq serve`` process.

    python -m bench.bench_sync [--customers 100000] [--edits 100]

1. Initial sync of a store of N customers (spread over versions of 500 rows, as pushes make them):
   wall time of the whole pull (HTTP, JSON, merge replay, search keys, cursor per page), and the
   client's apply rate (time inside the page-apply transactions) next to a raw SQLite bulk insert
   of the same customer rows into the same table of a fresh client file, measured in this run.
2. Incremental round trip: a guide edits ``--edits`` customers; one sync pushes them and pulls the
   resulting version back.

The HQ book is written straight into HQ's tables with HQ's own demo writer (``hq.demo._Book``), so
seeding 100k rows takes seconds rather than 100k pushes. The leaderboard ledger gets what those pushes
would have left in it (each customer's item and acquisition event, then the rollups rebuilt), so an
edit in the round trip is an edit of a counted customer, as at a real HQ, and not its first counting.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bench.figures import record
from guide_app.db.engine import open_database
from guide_app.domain.ids import uuid7
from guide_app.services.context import AppContext
from guide_app.services.customers import CustomerInput, CustomerService
from guide_app.services.sync_service import DbLocalStore, SyncService
from guide_app.sync.protocol import PullResponse, RowChange
from tests.e2e.hq_process import DEMO_PASSWORD, HQProcess, free_port

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红鹏辉玲建华宇浩凯"
STORE_NAME = "上海南京西路店"
VERSION_ROWS = 500


def seed_hq(workdir: Path, customers: int) -> str:
    import subprocess

    from tests.e2e.hq_process import hq_command

    db_url = f"sqlite:///{workdir / 'hq.sqlite3'}"
    subprocess.run([*hq_command(), "admin", "seed-demo", "--db", db_url, "--customers", "5"], check=True,
                   stdout=subprocess.DEVNULL)
    from hq.demo import _Book
    from hq.models import Store

    rnd = random.Random(7)
    engine = create_engine(db_url)
    t0 = time.perf_counter()
    with Session(engine) as session, session.begin():
        store = session.scalars(select(Store).where(Store.name == STORE_NAME)).one()
        owner = ""
        for start in range(0, customers, VERSION_ROWS):
            book = _Book(session, store)
            for i in range(start, min(customers, start + VERSION_ROWS)):
                name = rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.randint(1, 2)))
                book.add("customer", uuid7(1_700_000_000_000 + i), {
                    "store_id": store.id, "name": name, "phone": f"+86139{i:08d}", "wechat_id": f"wx{i:07d}",
                    "gender": rnd.choice(["female", "male", ""]), "birthday": "", "source": "门店自然进店",
                    "owner_guide_id": owner, "stage": "", "preferences": "", "sizes": "",
                    "notes": "喜欢通勤款" if i % 3 == 0 else "", "consent_phone": "unknown",
                    "consent_sms": "unknown", "consent_wechat": "unknown", "created_at": 1_700_000_000_000 + i,
                    "merged_into": None,
                })
            book.flush()
        seed_ledger(session, store)
    engine.dispose()
    print(f"seeded HQ with {customers} customers in {time.perf_counter() - t0:.1f} s")
    return db_url


def seed_ledger(session: Session, store: Any) -> None:
    """What ``hq.ledger.record_row`` leaves for customers pushed by a PC (manual channel, unique phones,
    counted for their owner on their creation day), written in bulk."""
    from sqlalchemy import insert

    from hq import ledger
    from hq.models import LedgerEvent, LedgerItem, SyncRow

    zone = ledger.org_time_zone(session)
    items, events = [], []
    for row_id, data in session.execute(select(SyncRow.id, SyncRow.data).where(
            SyncRow.store_id == store.id, SyncRow.entity == "customer")):
        at, guide = int(data["created_at"]), str(data.get("owner_guide_id") or "")
        day = ledger.local_day(at, zone)
        items.append({"entity": "customer", "id": row_id, "store_id": store.id, "region_id": store.region_id,
                      "guide_id": guide, "campaign_id": "", "day": day, "at": at, "channel": "manual",
                      "phone": data.get("phone") or "", "counts": {"new_customers": 1}})
        events.append({"metric": "new_customers", "day": day, "store_id": store.id, "region_id": store.region_id,
                       "guide_id": guide, "campaign_id": "", "delta": 1, "subject": f"customer:{row_id}", "at": at})
    done = set(session.scalars(select(LedgerItem.id).where(LedgerItem.store_id == store.id)))
    session.execute(insert(LedgerItem), [i for i in items if i["id"] not in done])
    session.execute(insert(LedgerEvent), [e for e, i in zip(events, items, strict=True) if i["id"] not in done])
    ledger.rebuild_rollups(session)


def start_serve(db_url: str, workdir: Path) -> HQProcess:
    import subprocess

    import httpx

    from tests.e2e.hq_process import hq_command

    port = free_port()
    log = workdir / "hq.log"
    proc = subprocess.Popen([*hq_command(), "serve", "--db", db_url, "--port", str(port), "--log-level", "warning"],
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return HQProcess(url, db_url, proc, log)
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"hq serve did not start: {log.read_text()[-1000:]}")


# the customer fields the raw insert writes, in its column order (store_id … consent_wechat, created_at)
RAW_FIELDS = ("store_id", "name", "phone", "wechat_id", "gender", "birthday", "source", "owner_guide_id", "stage",
              "preferences", "sizes", "notes", "consent_phone", "consent_sms", "consent_wechat", "created_at")
RawRow = tuple[str, tuple[Any, ...], dict[str, str]]  # id, RAW_FIELDS values, field stamps


def raw_row(r: RowChange) -> RawRow:
    return r.id, tuple(r.fields[k] for k in RAW_FIELDS), r.hlc


class TimedStore(DbLocalStore):
    """Measures the time spent applying pages and keeps the customer rows for the raw comparison
    (compactly: 100k pydantic rows kept alive would slow every garbage collection of the apply)."""

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.apply_s = 0.0
        self.apply_cpu_s = 0.0  # CPU of the applying thread: steadier than wall time on a busy box
        self.rows: list[RawRow] = []

    def apply_pull(self, page: PullResponse) -> None:
        t0, c0 = time.perf_counter(), time.thread_time()
        super().apply_pull(page)
        self.apply_s += time.perf_counter() - t0
        self.apply_cpu_s += time.thread_time() - c0
        self.rows.extend(raw_row(r) for r in page.rows if r.entity == "customer")


def raw_insert_seconds(rows: list[RawRow], workdir: Path) -> tuple[float, float]:
    """The same customer rows into the same table of a fresh client file: one executemany, one commit."""
    path = workdir / "raw.db"
    open_database(path).dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    cols = ("id", "store_id", "name", "phone", "wechat_id", "gender", "birthday", "source", "owner_guide_id",
            "stage", "preferences", "sizes", "notes", "consent_phone", "consent_sms", "consent_wechat",
            "created_at", "updated_at", "merged_into", "sort_name", "total_spent_cents", "order_count",
            "field_hlc", "deleted_hlc")
    t0, c0 = time.perf_counter(), time.thread_time()
    values = []
    for row_id, f, hlc in rows:
        values.append((row_id, *f, f[-1], None, f[1], 0, 0, json.dumps(hlc), None))
    with con:
        con.executemany(f"INSERT INTO customer ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", values)
    elapsed, cpu = time.perf_counter() - t0, time.thread_time() - c0
    con.close()
    return elapsed, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5, help="incremental round trips to time")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db_url = seed_hq(work, args.customers)
        hq = start_serve(db_url, work)
        try:
            db = open_database(work / "pc.db")
            service = SyncService(db, memory_tokens=True)
            service.store = TimedStore(db)
            actor = service.login(hq.url, "sh01.guide1", DEMO_PASSWORD)
            ctx = AppContext(db, actor)
            service.attach(ctx)
            http = {"s": 0.0}
            for name in ("push", "pull"):
                call = getattr(service.client, name)

                def timed(*a: Any, _call: Any = call, **kw: Any) -> Any:
                    t = time.perf_counter()
                    try:
                        return _call(*a, **kw)
                    finally:
                        http["s"] += time.perf_counter() - t

                setattr(service.client, name, timed)
            t0 = time.perf_counter()
            report = service.sync_now()
            initial_s = time.perf_counter() - t0
            initial_http = http["s"]
            assert report is not None
            store = service.store
            assert isinstance(store, TimedStore)
            n = len(store.rows)
            raw_s, raw_cpu = raw_insert_seconds(store.rows, work)
            apply_rate, raw_rate = n / store.apply_s, n / raw_s
            print(f"initial sync: {report.pulled_rows} rows ({n} customers) in {report.pages} pages: "
                  f"{initial_s:.1f} s wall (target < 30 s)")
            print(f"  in pull calls (HQ building pages, HTTP, decoding): {initial_http:.1f} s; client apply and bookkeeping: "
                  f"{initial_s - initial_http:.1f} s")
            print(f"  client apply: {store.apply_s:.1f} s = {apply_rate:,.0f} customers/s; raw SQLite bulk insert "
                  f"of the same rows: {raw_s:.2f} s = {raw_rate:,.0f} rows/s; ratio {apply_rate / raw_rate:.2f} "
                  f"(target >= 0.25)")
            print(f"  in CPU time of the applying thread: apply {store.apply_cpu_s:.1f} s "
                  f"({n / store.apply_cpu_s:,.0f}/s), raw {raw_cpu:.2f} s ({n / raw_cpu:,.0f}/s), ratio "
                  f"{raw_cpu / store.apply_cpu_s:.2f}")
            record(f"initial sync of {n:,} customers from hq serve", initial_s, "s",
                   note=f"{report.pulled_rows:,} rows in {report.pages} pages; {initial_http:.1f} s in pull calls; "
                        "target < 30 s")
            record("client apply rate, CPU of the applying thread", n / store.apply_cpu_s, "customers/s",
                   raw=n / raw_cpu, note="raw: one executemany INSERT of the same rows; target >= 0.25")
            record("client apply rate, wall", apply_rate, "customers/s", raw=raw_rate)
            svc = CustomerService(ctx)
            ids = [r[0] for r in store.rows]
            rnd = random.Random(3)
            times, in_http = [], []
            for round_no in range(args.rounds):
                for cid in rnd.sample(ids, args.edits):
                    c = svc.get(cid)
                    data = CustomerInput.from_customer(c)
                    data.notes = f"第{round_no}轮回访"
                    svc.update(cid, data)
                http["s"] = 0.0
                t0 = time.perf_counter()
                r = service.sync_now()
                times.append(time.perf_counter() - t0)
                in_http.append(http["s"])
                assert r is not None and r.applied == args.edits, r
            print(f"incremental round trip of {args.edits} changes (push, then pull the version back): "
                  f"median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms over "
                  f"{args.rounds} rounds (target < 300 ms)")
            client_ms = statistics.median(t - h for t, h in zip(times, in_http, strict=True)) * 1000
            print(f"  of which waiting for HQ (HTTP push + pull, HQ's transaction): median "
                  f"{statistics.median(in_http) * 1000:.0f} ms; client work (outbox, record, apply): "
                  f"{client_ms:.0f} ms")
            record(f"incremental round trip of {args.edits} changes, median", statistics.median(times) * 1000, "ms",
                   note=f"max {max(times) * 1000:.0f} ms over {args.rounds} rounds; waiting for HQ "
                        f"{statistics.median(in_http) * 1000:.0f} ms; target < 300 ms")
            service.client.close()
            db.dispose()
        finally:
            hq.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
