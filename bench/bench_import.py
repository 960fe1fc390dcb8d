"""Import rate of a 50k-row customer CSV through the full write path, next to raw SQLite.

    python -m bench.bench_import [--rows 50000] [--batch 500]

The import goes through everything a real one does: encoding/dialect sniffing, per-row parsing
and validation, phone dedupe, HLC stamps, outbox rows, search keys, history and tags. The raw
limit is a plain ``executemany`` INSERT of the same rows into a bare table of the same kind of file
(WAL, synchronous=NORMAL), measured in the same run on the same disk.
"""

from __future__ import annotations

import argparse
import csv
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from bench.figures import record
from guide_app.db.engine import open_database
from guide_app.db.models import Customer, Outbox, Store
from guide_app.services.context import Actor, AppContext
from guide_app.services.import_files import sniff
from guide_app.services.importer import ImportJob, ImportOptions

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭宁"
TAGS = ("VIP", "老客", "新客", "高客单", "常买童装", "生日月")
HEADER = ["姓名", "手机号", "性别", "生日", "标签", "备注"]


def make_rows(n: int, seed: int = 7) -> list[list[str]]:
    rnd = random.Random(seed)
    prefixes = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "158", "186", "188"]
    rows = []
    for i in range(n):
        name = rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.randint(1, 2)))
        phone = f"{prefixes[i % len(prefixes)]}{i // len(prefixes):08d}"
        gender = rnd.choice(("男", "女", ""))
        birthday = f"{rnd.randint(1960, 2005)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
        tags = "、".join(rnd.sample(TAGS, rnd.randint(0, 2)))
        notes = rnd.choice(("", "喜欢蓝色", "周末到店", "尺码偏大"))
        rows.append([name, phone, gender, birthday, tags, notes])
    return rows


def raw_limit(tmp: Path, rows: list[list[str]]) -> float:
    conn = sqlite3.connect(tmp / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE customer (pk INTEGER PRIMARY KEY, name TEXT, phone TEXT, gender TEXT, "
                 "birthday TEXT, tags TEXT, notes TEXT)")
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO customer (name, phone, gender, birthday, tags, notes) VALUES (?, ?, ?, ?, ?, ?)",
                     rows)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        rows = make_rows(args.rows)
        path = tmp / "customers.csv"
        with path.open("w", encoding="gbk", newline="") as fh:  # what Chinese Excel writes
            out = csv.writer(fh)
            out.writerow(HEADER)
            out.writerows(rows)

        db = open_database(tmp / "book.db")
        with db.write() as s:
            s.add(Store(id="store-1", name="bench"))
        ctx = AppContext(db, Actor("guide-1", "store-1"))

        start, cpu_start = time.perf_counter(), time.process_time()
        preview = sniff(path, ctx=ctx)
        job = ImportJob(ctx, path, preview.mapping, ImportOptions(format=preview.format, batch_size=args.batch))
        report = job.run()
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        with ctx.read() as s:
            n_customers = s.scalar(select(func.count()).select_from(Customer))
            n_outbox = s.scalar(select(func.count()).select_from(Outbox))
        db.dispose()
        assert report.imported == args.rows and not report.errors, report.summary()

        raw = raw_limit(tmp, rows)

    rate = args.rows / elapsed
    raw_rate = args.rows / raw
    print(f"import of {args.rows} rows (GBK CSV, batch {args.batch}): {elapsed:.1f} s, {rate:,.0f} rows/s "
          f"({n_customers} customers, {n_outbox} outbox rows)")
    # CPU time: the wall clock of a shared machine also counts other processes
    print(f"  CPU time of the import: {cpu:.1f} s, {args.rows / cpu:,.0f} rows per CPU second")
    print(f"raw SQLite executemany INSERT of the same rows: {raw:.3f} s, {raw_rate:,.0f} rows/s")
    print(f"ratio raw/import: {raw_rate / rate:.0f}x")
    record(f"import of {args.rows:,} rows (GBK CSV, full write path), wall", elapsed, "s", raw=raw,
           note=f"{rate:,.0f} rows/s; raw: executemany INSERT into a bare table")
    record(f"import of {args.rows:,} rows, CPU time", cpu, "s", note=f"{args.rows / cpu:,.0f} rows per CPU second")


if __name__ == "__main__":
    main()
