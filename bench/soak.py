"""Fault soak, long run: ``python -m bench.soak --seconds 120 [--seed 1] [--rate 0.3]``.

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
from pathlib import Path

from tests.e2e.hq_process import running_hq
from tests.e2e.soak import Soak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=0.3, help="share of sync requests that meet a fault")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as root, running_hq(Path(root), customers=50) as hq:
        soak = Soak(hq.url, Path(root), seed=args.seed, rate=args.rate)
        started = time.monotonic()
        try:
            report = soak.run(seconds=args.seconds)
        finally:
            soak.close()
        elapsed = time.monotonic() - started
    print(f"fault soak: {elapsed:.0f} s, seed {args.seed}, fault rate {args.rate}")
    for line in report.lines():
        print("  " + line)
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
