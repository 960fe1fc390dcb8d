"""Campaign packs: target evaluation on a 100k-customer book, and verify+install of a 50 MB pack.

    python -m bench.bench_packs [--customers 100000] [--pack-mb 50] [--runs 5]

Targets: a 3-tag expression (all of VIP and 护肤, none of 投诉) with attributes (birthday in March or
April, at least 30 days since the last purchase, spend at least 1000 yuan), through
CampaignService.target_ids (tag resolution, stage thresholds, SQL building, session). The raw
limit is the same final SQL run bare on a sqlite3 connection to the same file.

Install: PackService.install_file on a signed pack of incompressible media (size and layout checks,
Ed25519 signature, sha256 of every asset while unpacking into a staging folder, atomic rename, the
``campaign_pack`` row). The raw limit is sha256 of the archive plus a plain ``zipfile.extractall``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from bench.figures import record
from guide_app.db.engine import open_database
from guide_app.db.models import Store
from guide_app.db.state import set_state
from guide_app.domain.packs import public_key_b64
from guide_app.services.campaigns import CampaignService
from guide_app.services.context import Actor, AppContext
from guide_app.services.packs import PackService
from hq.packs import build_pack, sign_pack

STORE = "store-1"
NOW = int(dt.datetime(2027, 3, 15, 4, 0, tzinfo=dt.UTC).timestamp() * 1000)
DAY = 86_400_000
TAGS = ("VIP", "护肤", "彩妆", "投诉", "老客", "新客", "高客单", "童装")
SEGMENT: dict[str, object] = {
    "tags": {"all_of": ["VIP", "护肤"], "none_of": ["投诉"]},
    "birthday_months": [3, 4],
    "days_since_last_purchase": {"min": 30},
    "total_spend_cents": {"min": 100000},
}


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def seed_book(path: Path, n: int, seed: int = 11) -> None:
    """100k customers with tags and purchase aggregates, by bulk INSERTs on the migrated file."""
    rnd = random.Random(seed)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    with con:
        con.execute("INSERT INTO tag_group(id, field_hlc, store_id, scope, owner_guide_id, name, color, sort_order, "
                    "multi) VALUES ('g1', '{}', '', 'corp', '', '会员', '#607d8b', 0, 1)")
        con.executemany("INSERT INTO tag(id, field_hlc, group_id, name, sort_order) VALUES (?, '{}', 'g1', ?, 0)",
                        [(f"t{i}", name) for i, name in enumerate(TAGS)])
        customers = []
        links = []
        for i in range(n):
            bought = rnd.random() < 0.8
            customers.append((
                f"c{i:06d}", STORE, f"客户{i}", f"+86138{i:08d}",
                f"19{rnd.randint(60, 99)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
                f"guide-{i % 8}", "opted_out" if rnd.random() < 0.03 else "unknown",
                NOW - rnd.randint(0, 900) * DAY, NOW, f"{i:06d}",
                NOW - rnd.randint(0, 720) * DAY if bought else None,
                rnd.randint(0, 600_000) if bought else 0, rnd.randint(1, 20) if bought else 0,
            ))
            for t in rnd.sample(range(len(TAGS)), rnd.randint(0, 4)):
                links.append((f"ct{i}-{t}", STORE, f"c{i:06d}", f"t{t}"))
        con.executemany(
            "INSERT INTO customer(id, field_hlc, store_id, name, phone, wechat_id, gender, birthday, source, "
            "owner_guide_id, stage, preferences, sizes, notes, consent_phone, consent_sms, consent_wechat, "
            "created_at, updated_at, sort_name, last_purchase_at, total_spent_cents, order_count) VALUES "
            "(?, '{}', ?, ?, ?, '', '', ?, '', ?, '', '', '', '', 'unknown', 'unknown', ?, ?, ?, ?, ?, ?, ?)",
            customers,
        )
        con.executemany(
            "INSERT INTO customer_tag(id, field_hlc, store_id, customer_id, tag_id, active) VALUES (?, '{}', ?, ?, ?, 1)",
            links,
        )
    con.execute("ANALYZE")
    con.close()


def client(tmp: Path, name: str, key: Ed25519PrivateKey) -> AppContext:
    db = open_database(tmp / f"{name}.db")
    ctx = AppContext(db, Actor("guide-0", STORE, name="小王"), now_ms=lambda: NOW)
    with db.write() as s:
        s.add(Store(id=STORE, name="静安店", region_id="region-east", region_name="华东区"))
        set_state(s, "hq_public_key", public_key_b64(key.public_key()))
    return ctx


def make_pack_folder(folder: Path, mb: int, segment: dict[str, object]) -> None:
    (folder / "assets").mkdir(parents=True)
    assets = []
    per = 5 * 1024 * 1024
    for i in range(max(1, mb // 5)):
        name = f"assets/photo-{i}.jpg"
        (folder / name).write_bytes(os.urandom(per))  # incompressible, like real photos and video
        assets.append({"path": name})
    manifest = {
        "format": 1, "id": "bench-pack", "version": 1, "title": "压测活动", "valid_from": "2027-03-01",
        "valid_to": "2027-04-30", "audience": {"all_stores": True}, "segment": segment,
        "materials": [{"id": "p0", "kind": "image", "title": "图", "asset": "assets/photo-0.jpg"}],
        "tasks": [{"id": "contact", "kind": "contact", "title": "联系"}], "assets": assets,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--pack-mb", type=int, default=50)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    key = Ed25519PrivateKey.generate()

    with tempfile.TemporaryDirectory(prefix="bench-packs-") as tmp_name:
        tmp = Path(tmp_name)
        # ---------------------------------------------------------- targets
        small = tmp / "small"
        make_pack_folder(small, 5, SEGMENT)
        build_pack(small, tmp / "small-unsigned.zip")
        sign_pack(tmp / "small-unsigned.zip", tmp / "small.zip", key)
        ctx = client(tmp, "book", key)
        t0 = time.perf_counter()
        seed_book(ctx.db.path, args.customers)
        seed_s = time.perf_counter() - t0
        packs = PackService(ctx, tmp / "book-packs")
        packs.install_file(tmp / "small.zip")
        campaign = CampaignService(ctx, packs)
        ids = campaign.target_ids("bench-pack")
        evaluator_ms = median_ms(lambda: campaign.target_ids("bench-pack"), args.runs)
        list_ms = median_ms(lambda: campaign.targets("bench-pack"), args.runs)
        with ctx.read() as s:
            q = campaign.target_query(s, packs.get("bench-pack").manifest)
            assert q.sql is not None
            plan = [r[-1] for r in s.execute(text("EXPLAIN QUERY PLAN " + q.sql), q.params)]
        raw = sqlite3.connect(ctx.db.path)
        raw.execute("PRAGMA cache_size=-32000")  # as the app's connections
        raw_ms = median_ms(lambda: raw.execute(q.sql or "", q.params).fetchall(), args.runs)
        raw.close()
        print(f"book: {args.customers} customers seeded in {seed_s:.1f} s; segment targets {len(ids)}")
        print(f"target evaluation (3 tags + birthday, days, spend): {evaluator_ms:.1f} ms "
              f"(target < 200 ms); raw SQL {raw_ms:.1f} ms; ratio {evaluator_ms / raw_ms:.2f}x")
        print(f"target list with names and task states: {list_ms:.1f} ms")
        record(f"target evaluation, {args.customers:,}-customer book (3 tags + birthday, days, spend)", evaluator_ms,
               "ms", raw=raw_ms, note=f"median of {args.runs}; {len(ids)} targets; raw: the same SQL on sqlite3")
        record("target list with names and task states", list_ms, "ms", note=f"median of {args.runs}")
        print("plan: " + " | ".join(plan))

        # ---------------------------------------------------------- install
        folder = tmp / "big"
        make_pack_folder(folder, args.pack_mb, {})
        build_pack(folder, tmp / "big-unsigned.zip")
        sign_pack(tmp / "big-unsigned.zip", tmp / "big.zip", key)
        size = (tmp / "big.zip").stat().st_size
        install_times: list[float] = []
        raw_times: list[float] = []
        for run in range(args.runs):
            c = client(tmp, f"inst{run}", key)
            svc = PackService(c, tmp / f"inst{run}-packs")

            def install(svc: PackService = svc) -> None:
                svc.install_file(tmp / "big.zip")

            def raw_unpack(run: int = run) -> None:
                with open(tmp / "big.zip", "rb") as fh:
                    hashlib.file_digest(fh, "sha256")
                with zipfile.ZipFile(tmp / "big.zip") as zf:
                    zf.extractall(tmp / f"raw{run}")

            # alternate which goes first, so neither always meets a page cache the other warmed
            order = (install, raw_unpack) if run % 2 == 0 else (raw_unpack, install)
            for fn in order:
                t0 = time.perf_counter()
                fn()
                (install_times if fn is install else raw_times).append((time.perf_counter() - t0) * 1000)
            shutil.rmtree(tmp / f"raw{run}")
            shutil.rmtree(tmp / f"inst{run}-packs")
        inst, rawi = statistics.median(install_times), statistics.median(raw_times)
        print(f"verify+install of a {size / 1e6:.1f} MB pack: {inst:.0f} ms; raw sha256+unzip {rawi:.0f} ms; "
              f"ratio {inst / rawi:.2f}x")
        record(f"verify and install a {size / 1e6:.1f} MB pack", inst, "ms", raw=rawi,
               note=f"median of {args.runs}; raw: sha256 + zipfile.extractall")


if __name__ == "__main__":
    main()
