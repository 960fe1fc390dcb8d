"""HQ under load: many counter PCs syncing at once against ``hq serve --workers W`` over loopback.

    python -m bench.bench_hq_load --devices 200 --db postgres|sqlite --workers 4 --seconds 30

1. Builds its data: a throwaway PostgreSQL (tests/pg.py) or a SQLite file; an org of
   ``devices / --per-store`` stores (one region per 25 stores, the corp tag groups, per store a manager
   and guides, one account per PC, a small demo book written with HQ's demo writer and counted by the
   ledger). Accounts share one argon2 hash made once, so seeding 125 stores takes seconds.
2. Starts ``hq serve --workers W`` on 127.0.0.1 and enrolls every PC with a real login (argon2 and all),
   then each PC pulls its store from cursor 0.
3. The raw limit, with the same client setup (one asyncio loop, one httpx pool with a connection per
   PC, the same concurrency): bare ``GET /healthz`` round trips (HTTP, uvicorn, FastAPI, one ``SELECT 1``).
4. The load: every PC runs bounded sync cycles with no pause between them (all PCs "sync at once"):
   push a small batch of what a guide does at the counter (a new customer, a tag on them, a follow-up,
   an edit of some customer of the store, now and then a purchase; valid HLC stamps, contiguous seqs),
   then pull until ``has_more`` is false, and every few cycles a leaderboard read
   (``GET /v1/leaderboards``: the store's week, or the company's month). A push that failed is sent
   again on the next cycle, as the client's outbox does.
5. Convergence: after the load every PC pulls once more; each store's version at HQ must equal every
   one of its PCs' cursors, each PC's ``last_seq`` at HQ its own seq, and every customer a PC was told
   was applied must be in HQ's rows.

Prints per operation: count, ops/s, p50/p95/p99 latency and errors (any exception or non-2xx; the
first few are printed), the healthz floor and the ratio, and the CPU each party used during the load
(this client, the HQ workers, PostgreSQL) since all of them share the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.figures import record
from guide_app.domain.hlc import Clock
from guide_app.domain.ids import pair_id, uuid7
from guide_app.sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION, SCHEMA_HEADER, SCHEMA_VERSION

PASSWORD = "load-pass-2024"
VERSION_HEADERS = {PROTOCOL_HEADER: str(PROTOCOL_VERSION), SCHEMA_HEADER: str(SCHEMA_VERSION)}
STORES_PER_REGION = 25
SHOWN_ERRORS = 5
NOTES = ("喜欢通勤款", "下周到店试穿", "生日月送券", "对羊毛过敏", "偏爱浅色", "尺码偏大一号")
ITEMS = ("针织开衫", "羊毛大衣", "丝巾", "阔腿裤", "衬衫", "连衣裙")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞"


# --- setup ---------------------------------------------------------------------------------------


@dataclass
class Org:
    stores: list[str]
    accounts: list[tuple[str, str]]  # (username, store id), one per PC


def seed_org(db_url: str, devices: int, per_store: int, book: int) -> Org:
    """Regions, stores, one account per PC and a small book per store, straight into HQ's tables with
    HQ's own admin and demo functions."""
    from guide_app.domain.demo import DemoGuide, DemoOrg, DemoStore, generate_org
    from hq import corp, ledger, org
    from hq.db import Database, upgrade
    from hq.demo import _seed_book
    from hq.models import Account, AccountStore, Store
    from hq.security import hash_password

    upgrade(db_url)
    db = Database(db_url)
    now = org.now_ms()
    password_hash = hash_password(PASSWORD)  # once: argon2 per account would be most of the setup
    n_stores = math.ceil(devices / per_store)
    result = Org([], [])
    try:
        with db.session() as session:
            corp_groups = generate_org(2026, regions=1, stores_per_region=1, guides_per_store=1,
                                       now_ms=now).corp_groups
            for g in corp_groups:
                corp.create_corp_tag_group(session, g.name, [t.name for t in g.tags], color=g.color, multi=g.multi,
                                           sort_order=g.sort_order, group_id=g.id, tag_ids=[t.id for t in g.tags])
            demo_stores: list[DemoStore] = []
            guides: list[DemoGuide] = []
            region = None
            for i in range(n_stores):
                if i % STORES_PER_REGION == 0:
                    region = org.create_region(session, f"压测区域{i // STORES_PER_REGION + 1:02d}")
                assert region is not None
                store = org.create_store(session, f"压测门店{i + 1:04d}", region.id)
                demo_stores.append(DemoStore(store.id, store.name, region.id, region.name))
                result.stores.append(store.id)
                for k in range(per_store):
                    role = "store_manager" if k == 0 else "guide"
                    username = f"s{i + 1:04d}.{'manager' if k == 0 else f'guide{k}'}"
                    account = Account(id=uuid7(), username=username, display_name=f"导购{i + 1:04d}-{k}", role=role,
                                      password_hash=password_hash, created_at=now)
                    session.add(account)
                    session.flush()
                    session.add(AccountStore(account_id=account.id, store_id=store.id))
                    guides.append(DemoGuide(account.id, store.id, account.display_name, role))
                    if len(result.accounts) < devices:
                        result.accounts.append((username, store.id))
            session.flush()
            org.mark_org_changed(session, result.stores)
            demo_org = DemoOrg(tuple(demo_stores), tuple(guides), corp_groups)
            for store_id in result.stores:
                store_row = session.get(Store, store_id)
                assert store_row is not None
                _seed_book(session, store_row, demo_org, book, 2026, now)
                ledger.backfill(session, store_row, now)
    finally:
        db.dispose()
    return result


@contextmanager
def database(kind: str, workdir: Path) -> Iterator[tuple[str, Any]]:
    """(SQLAlchemy URL, PostgreSQL server or None) of a fresh, empty database."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'hq.sqlite3'}", None
        return
    from tests.pg import start_postgres

    server = start_postgres()
    try:
        yield server.create_database("hq_load"), server
    finally:
        server.stop()


# --- CPU accounting (/proc) ----------------------------------------------------------------------


def _proc_table() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds used so far)."""
    tick = os.sysconf("SC_CLK_TCK")
    table: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        table[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    return table


def tree_cpu(root: int | None) -> float:
    """CPU seconds of a process and its live descendants."""
    if root is None:
        return 0.0
    table = _proc_table()
    children: dict[int, list[int]] = defaultdict(list)
    for pid, (ppid, _cpu) in table.items():
        children[ppid].append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            total += table[pid][1]
        todo += children.get(pid, [])
    return total


def postmaster_pid(server: Any) -> int | None:
    if server is None:
        return None
    try:
        return int((server.data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# --- measurements --------------------------------------------------------------------------------


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    shown: list[str] = field(default_factory=list)
    rejected: int = 0

    def ok(self, op: str, seconds: float) -> None:
        self.latencies[op].append(seconds)

    def error(self, op: str, what: str) -> None:
        self.errors[op] += 1
        if len(self.shown) < SHOWN_ERRORS:
            self.shown.append(f"{op}: {what}")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def row(op: str, stats: Stats, seconds: float, label: str = "") -> str:
    lat = stats.latencies.get(op, [])
    ms = [x * 1000 for x in lat]
    return (f"{label or op:<18} {len(lat):>8} {len(lat) / seconds:>9.1f} {pct(ms, .5):>9.0f} {pct(ms, .95):>9.0f} "
            f"{pct(ms, .99):>9.0f} {stats.errors.get(op, 0):>7}")


HEADER = f"{'operation':<18} {'count':>8} {'ops/s':>9} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'errors':>7}"


# --- one counter PC ------------------------------------------------------------------------------


class PC:
    def __init__(self, index: int, username: str, http: httpx.AsyncClient, stats: Stats, rnd: random.Random) -> None:
        self.index = index
        self.username = username
        self.http = http
        self.stats = stats
        self.rnd = rnd
        self.clock = Clock(uuid7().replace("-", "")[-12:])
        self.device_id = ""
        self.store_id = ""
        self.account_id = ""
        self.headers: dict[str, str] = {}
        self.seq = 0
        self.cursor = 0
        self.pending: list[dict[str, Any]] = []  # the outbox: a batch HQ has not acknowledged yet
        self.customers: list[str] = []  # live customer ids of the store, as pulled
        self.tags: list[str] = []
        self.made = 0
        self.applied_customers: list[str] = []
        self.cycles = 0

    async def call(self, op: str, method: str, url: str, **kw: Any) -> httpx.Response | None:
        t0 = time.perf_counter()
        try:
            r = await self.http.request(method, url, **kw)
        except Exception as exc:
            cause = exc.__cause__ or exc.__context__
            self.stats.error(op, f"{type(exc).__name__}: {exc!r} after {time.perf_counter() - t0:.3f} s"
                                 f"{f' (from {cause!r})' if cause else ''}"[:400])
            return None
        elapsed = time.perf_counter() - t0
        if r.status_code // 100 != 2:
            self.stats.error(op, f"HTTP {r.status_code} {r.text[:300]}")
            return None
        self.stats.ok(op, elapsed)
        return r

    async def login(self) -> bool:
        r = await self.call("login", "POST", "/v1/auth/login", headers=VERSION_HEADERS, json={
            "username": self.username, "password": PASSWORD, "device_name": f"收银台电脑{self.index}",
            "device_id": None, "store_id": None})
        if r is None:
            return False
        data = r.json()
        self.device_id, self.store_id = data["device_id"], data["store"]["id"]
        self.account_id = data["account"]["id"]
        self.headers = {**VERSION_HEADERS, "Authorization": f"Bearer {data['access_token']}"}
        return True

    async def pull(self, op: str) -> bool:
        while True:
            r = await self.call(op, "GET", "/v1/sync/pull", params={"cursor": self.cursor, "limit": 500},
                                headers=self.headers)
            if r is None:
                return False
            page = r.json()
            for change in page["rows"]:
                if change["entity"] == "customer" and change["deleted_hlc"] is None \
                        and not change["fields"].get("merged_into"):
                    self.customers.append(change["id"])
                elif change["entity"] == "tag" and change["deleted_hlc"] is None:
                    self.tags.append(change["id"])
            self.cursor = page["next_cursor"]
            if len(self.customers) > 2000:  # a PC's memory of ids, not a book: keep the recent ones
                del self.customers[:1000]
            if not page["has_more"]:
                return True

    def _mutation(self, entity: str, entity_id: str, fields: dict[str, Any], stamp: str | None = None
                  ) -> dict[str, Any]:
        self.seq += 1
        s = stamp or self.clock.tick()
        return {"seq": self.seq, "op_id": uuid7(), "entity": entity, "entity_id": entity_id, "fields": fields,
                "hlc": dict.fromkeys(fields, s), "deleted_hlc": None}

    def batch(self) -> list[dict[str, Any]]:
        """What a guide does between two syncs: a new customer tagged and followed up, an edit of a
        customer of the store (maybe one another PC is editing too), sometimes a purchase."""
        now = int(time.time() * 1000)
        self.made += 1
        cid = uuid7()
        name = self.rnd.choice(SURNAMES) + "".join(self.rnd.choice(GIVEN) for _ in range(self.rnd.randint(1, 2)))
        out = [self._mutation("customer", cid, {
            "store_id": self.store_id, "name": name, "phone": f"+86139{self.index:04d}{self.made % 10_000:04d}",
            "wechat_id": f"wx{self.index}_{self.made}", "gender": self.rnd.choice(["female", "male", ""]),
            "birthday": "", "source": "门店自然到店", "owner_guide_id": self.account_id, "stage": "",
            "preferences": "", "sizes": "M", "notes": "", "consent_phone": "granted", "consent_sms": "unknown",
            "consent_wechat": "unknown", "created_at": now})]
        if self.tags:
            tag = self.rnd.choice(self.tags)
            s = self.clock.tick()
            out.append(self._mutation("customer_tag", pair_id(cid, tag), {
                "store_id": self.store_id, "customer_id": cid, "tag_id": tag, "added_hlc": s, "removed_hlc": None},
                stamp=s))
        out.append(self._mutation("follow_up", uuid7(), {
            "store_id": self.store_id, "customer_id": cid, "guide_id": self.account_id, "kind": "call",
            "note": "电话回访：" + self.rnd.choice(NOTES), "at": now, "next_at": "", "done": True}))
        if self.customers:
            out.append(self._mutation("customer", self.rnd.choice(self.customers),
                                      {"notes": self.rnd.choice(NOTES), "sizes": self.rnd.choice(["S", "M", "L"])}))
        if self.made % 3 == 0:
            out.append(self._mutation("purchase", uuid7(), {
                "store_id": self.store_id, "customer_id": cid, "guide_id": self.account_id,
                "amount_cents": self.rnd.randint(99, 2999) * 100, "items": self.rnd.choice(ITEMS), "at": now,
                "origin": "guide"}))
        return out

    async def push(self) -> bool:
        if not self.pending:
            self.pending = self.batch()
        r = await self.call("push", "POST", "/v1/sync/push", headers=self.headers,
                            json={"device_id": self.device_id, "mutations": self.pending})
        if r is None:
            return False  # the outbox keeps the batch; the next cycle sends it again
        data = r.json()
        for result in data["results"]:
            if result["status"] == "rejected":
                self.stats.rejected += 1
                self.stats.error("push (rejected)", f"seq {result['seq']}: {result['code']} {result['reason']}")
        applied = {res["seq"] for res in data["results"] if res["status"] != "rejected"}
        self.applied_customers += [m["entity_id"] for m in self.pending
                                   if m["entity"] == "customer" and "created_at" in m["fields"] and m["seq"] in applied]
        self.pending = []
        return True

    async def board(self) -> None:
        if self.rnd.random() < 0.5:
            params = {"scope": "store", "metric": "new_customers", "period": "week", "scope_id": self.store_id}
        else:
            params = {"scope": "company", "metric": "sales", "period": "month", "unit": "store"}
        await self.call("leaderboard", "GET", "/v1/leaderboards", params=params, headers=self.headers)

    async def run(self, deadline: float, max_cycles: int, board_every: int, think: float) -> None:
        async def pause() -> None:  # never past the deadline: the run stops by itself on time
            await asyncio.sleep(min(self.rnd.uniform(0, 2 * think), max(0.0, deadline - time.monotonic())))

        if think:  # paced PCs start spread out, as PCs syncing on their own timers do
            await pause()
        while time.monotonic() < deadline and self.cycles < max_cycles:
            self.cycles += 1
            t0 = time.perf_counter()
            pushed = await self.push()
            pulled = await self.pull("pull") if pushed else False
            if pushed and pulled:
                self.stats.ok("sync cycle", time.perf_counter() - t0)
            if board_every and self.rnd.random() < 1 / board_every:  # at random: a PC may make few cycles
                await self.board()
            if think:
                await pause()
        if self.pending:  # the last push failed: one more try, as the client would
            await self.push()


async def floor(http: httpx.AsyncClient, concurrency: int, seconds: float, stats: Stats) -> float:
    deadline = time.monotonic() + seconds

    async def loop() -> None:
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            try:
                r = await http.get("/healthz")
            except Exception as exc:
                stats.error("healthz", f"{type(exc).__name__}: {exc}"[:300])
                continue
            if r.status_code != 200:
                stats.error("healthz", f"HTTP {r.status_code} {r.text[:300]}")
            else:
                stats.ok("healthz", time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return time.perf_counter() - t0


async def bounded_gather(coros: list[Any], limit: int) -> None:
    gate = asyncio.Semaphore(limit)

    async def one(coro: Any) -> None:
        async with gate:
            await coro

    await asyncio.gather(*(one(c) for c in coros))


# --- the run -------------------------------------------------------------------------------------


def convergence(db_url: str, pcs: list[PC]) -> list[str]:
    """What differs between HQ and the PCs after the final pull (empty when everything converged)."""
    from sqlalchemy import func, select

    from hq.db import Database
    from hq.models import Device, Store, SyncRow

    db = Database(db_url)
    problems: list[str] = []
    try:
        with db.read() as session:
            versions = {store_id: version for store_id, version in session.execute(select(Store.id, Store.version))}
            last_seq = {device_id: seq for device_id, seq in session.execute(select(Device.id, Device.last_seq))}
            for pc in pcs:
                if pc.cursor != versions.get(pc.store_id):
                    problems.append(f"{pc.username}: cursor {pc.cursor} != store version {versions.get(pc.store_id)}")
                if last_seq.get(pc.device_id) != pc.seq or pc.pending:
                    problems.append(f"{pc.username}: HQ last_seq {last_seq.get(pc.device_id)}, PC seq {pc.seq}, "
                                    f"{len(pc.pending)} unacknowledged")
            made = [c for pc in pcs for c in pc.applied_customers]
            found = 0
            for start in range(0, len(made), 500):
                found += session.scalar(select(func.count()).select_from(SyncRow).where(
                    SyncRow.entity == "customer", SyncRow.id.in_(made[start:start + 500]))) or 0
            if found != len(made):
                problems.append(f"{len(made) - found} of {len(made)} acknowledged new customers missing at HQ")
    finally:
        db.dispose()
    return problems


async def drive(args: argparse.Namespace, base_url: str, org: Org, hq_pid: int, pg_pid: int | None) -> int:
    stats = Stats()
    n = args.devices
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    timeout = httpx.Timeout(args.timeout, connect=args.timeout)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as http:
        rnd = random.Random(9)
        pcs = [PC(i, user, http, stats, random.Random(rnd.random())) for i, (user, _s) in enumerate(org.accounts)]
        t0 = time.perf_counter()
        await bounded_gather([pc.login() for pc in pcs], args.login_concurrency)
        login_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        await bounded_gather([pc.pull("initial pull") for pc in pcs if pc.device_id], n)
        initial_s = time.perf_counter() - t0
        print(f"enrolled {sum(1 for pc in pcs if pc.device_id)}/{n} PCs in {login_s:.1f} s "
              f"({args.login_concurrency} logins at a time); initial pull of every store in {initial_s:.1f} s")
        print(HEADER)
        print(row("login", stats, login_s))
        print(row("initial pull", stats, initial_s))
        pcs = [pc for pc in pcs if pc.device_id]

        floor_stats = Stats()
        floor_s = await floor(http, n, args.floor_seconds, floor_stats)

        cpu0 = (time.process_time(), tree_cpu(hq_pid), tree_cpu(pg_pid))
        t0 = time.perf_counter()
        deadline = time.monotonic() + args.seconds
        load = asyncio.gather(*(pc.run(deadline, args.max_cycles, args.board_every, args.think) for pc in pcs))
        try:
            await asyncio.wait_for(load, args.seconds + 2 * args.timeout)
        except TimeoutError:
            stats.error("run", "the load did not finish in time; cancelled")
        load_s = time.perf_counter() - t0
        cpu1 = (time.process_time(), tree_cpu(hq_pid), tree_cpu(pg_pid))

        t0 = time.perf_counter()
        await bounded_gather([pc.pull("final pull") for pc in pcs], n)
        final_s = time.perf_counter() - t0

    requests = sum(len(stats.latencies[op]) for op in ("push", "pull", "leaderboard"))
    print(f"\nload: {len(pcs)} PCs, {load_s:.1f} s, {sum(pc.cycles for pc in pcs)} cycles "
          f"(push {args.mutations_hint}, pull to the end, a board after 1 in {args.board_every})")
    print(HEADER)
    for op in ("push", "pull", "leaderboard", "sync cycle"):
        print(row(op, stats, load_s))
    print(row("final pull", stats, final_s))
    print(row("healthz", floor_stats, floor_s, "healthz (floor)"))
    floor_rate = len(floor_stats.latencies["healthz"]) / floor_s
    rate = requests / load_s
    print(f"\nrequests/s under load (push + pull pages + boards): {rate:.1f}; bare GET /healthz with the same "
          f"client and concurrency: {floor_rate:.1f}/s; ratio {rate / floor_rate:.2f}")
    cycles_s = len(stats.latencies["sync cycle"]) / load_s
    print(f"sync cycles/s: {cycles_s:.1f} = the load of {cycles_s * 300:,.0f} PCs syncing every 5 minutes")
    what = f"{len(pcs)} PCs, {args.db}, {args.workers} workers, " + (f"paced ({args.think:g} s)" if args.think
                                                                      else "back to back")
    record(f"{what}: sync cycles/s", cycles_s, "cycles/s", note=f"= {cycles_s * 300:,.0f} PCs syncing every 5 min")
    record(f"{what}: requests/s (push, pull pages, boards)", rate, "req/s", raw=floor_rate,
           note="raw: bare GET /healthz, same client and concurrency")
    for op in ("push", "pull", "sync cycle"):
        lat = [x * 1000 for x in stats.latencies.get(op, [])]
        record(f"{what}: {op} p95", pct(lat, .95), "ms", note=f"p50 {pct(lat, .5):,.0f} ms, p99 {pct(lat, .99):,.0f} ms")
    wall = load_s
    print(f"CPU during the load ({wall:.1f} s wall, {2 * wall:.0f} core-s on 2 cores): this client "
          f"{cpu1[0] - cpu0[0]:.1f} s, hq serve (all workers) {cpu1[1] - cpu0[1]:.1f} s"
          + (f", PostgreSQL {cpu1[2] - cpu0[2]:.1f} s" if pg_pid else ""))
    if stats.rejected:
        print(f"rejected mutations: {stats.rejected}")
    problems = convergence(args.db_url, pcs)
    print("convergence: " + ("every PC holds its store's version, every seq acknowledged, every acknowledged "
                             "customer at HQ" if not problems else f"{len(problems)} problems"))
    for p in problems[:SHOWN_ERRORS]:
        print(f"  {p}")
    errors = sum(stats.errors.values()) + sum(floor_stats.errors.values())
    print(f"errors: {errors}")
    record(f"{what}: errors", errors, "errors", note="convergence: " + ("held" if not problems else
                                                                      f"{len(problems)} problems"))
    for e in stats.shown + floor_stats.shown:
        print(f"  {e}")
    return 1 if errors or problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30, help="length of the load (bounded: at most 60)")
    parser.add_argument("--per-store", type=int, default=4, help="PCs per store")
    parser.add_argument("--book", type=int, default=12, help="customers per store before the load")
    parser.add_argument("--board-every", type=int, default=5, help="a leaderboard read after one cycle in N (at random)")
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between a PC's cycles, seconds")
    parser.add_argument("--max-cycles", type=int, default=2000, help="cycles per PC at most")
    parser.add_argument("--floor-seconds", type=float, default=5.0)
    parser.add_argument("--login-concurrency", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=60.0, help="per request, seconds")
    args = parser.parse_args(argv)
    args.seconds = min(args.seconds, 60.0)
    args.mutations_hint = "of 4-5 mutations"
    from tests.hq_fixtures import start_hq_server

    load = os.getloadavg()
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {args.devices} PCs, {args.db}, {args.workers} workers, "
          f"{args.seconds:.0f} s")
    with tempfile.TemporaryDirectory(prefix="hq-load-") as tmp, ExitStack() as stack:
        db_url, pg = stack.enter_context(database(args.db, Path(tmp)))
        args.db_url = db_url
        t0 = time.perf_counter()
        org = seed_org(db_url, args.devices, args.per_store, args.book)
        print(f"seeded {len(org.stores)} stores, {len(org.accounts)} PC accounts, {args.book} customers per store "
              f"in {time.perf_counter() - t0:.1f} s")
        server = stack.enter_context(start_hq_server(db_url, workers=args.workers))
        status = asyncio.run(drive(args, server.base_url, org, server.process.pid, postmaster_pid(pg)))
        if status:
            log = server.log().strip().splitlines()
            if log:
                print("hq serve log (last lines):")
                print("\n".join(log[-20:]))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return status


if __name__ == "__main__":
    sys.exit(main())
