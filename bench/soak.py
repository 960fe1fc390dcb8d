"""Fault soak, long run: ``python -m bench.soak --seconds 120 [--seed 1] [--rate 0.3] [--postgres --workers 2]``.

Four real client files (two stores) work at random and sync through our fault proxy
(tests/faultproxy.py) to a real ``hq serve`` on SQLite for the given time; then one fault-free
round and the checks of tests/e2e/soak.py. Prints the counts: faults injected by kind, mutations
pushed, duplicates acknowledged, retries, and any problem found (exit status 1 if there is one).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.soak import Soak
from tests.hq_fixtures import seed_demo_db, start_hq_server
from tests.pg import start_postgres


@contextmanager
def hq_url(root: Path, postgres: bool, workers: int) -> Iterator[str]:
    """A real ``hq serve`` with the demo org, on a SQLite file or a throwaway PostgreSQL."""
    pg = start_postgres() if postgres else None
    try:
        db_url = pg.create_database("hq_soak") if pg else f"sqlite:///{root / 'hq.sqlite3'}"
        demo = seed_demo_db(db_url, customers_per_store=50)
        with start_hq_server(db_url, workers=workers, demo=demo) as server:
            yield server.base_url
    finally:
        if pg:
            pg.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=0.3, help="share of sync requests that meet a fault")
    parser.add_argument("--postgres", action="store_true", help="HQ on a throwaway PostgreSQL (tests/pg.py)")
    parser.add_argument("--workers", type=int, default=1, help="hq serve worker processes")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as root, hq_url(Path(root), args.postgres, args.workers) as url:
        soak = Soak(url, Path(root), seed=args.seed, rate=args.rate)
        started = time.monotonic()
        try:
            report = soak.run(seconds=args.seconds)
        finally:
            soak.close()
        elapsed = time.monotonic() - started
    hq = f"{'PostgreSQL' if args.postgres else 'SQLite'}, {args.workers} worker(s)"
    print(f"fault soak: {elapsed:.0f} s, seed {args.seed}, fault rate {args.rate}, HQ on {hq}")
    for line in report.lines():
        print("  " + line)
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
