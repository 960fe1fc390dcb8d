"""`make bench`: run every benchmark in bench/ in turn (each builds its own data in a temp dir and
prints its figures next to the raw limit it measured in the same run), then print one table of the
headline figures of all of them and keep it in docs/benchmarks.md with the date and the machine.

    python -m bench                  # all of them; the table goes into docs/benchmarks.md
    python -m bench book import      # only these (names without the bench_ prefix); table printed only
    python -m bench --quick          # every benchmark on small sizes: a smoke run, table printed only
    python -m bench --no-write       # all of them, table printed only

A benchmark that fails is listed as failed in the table, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.figures import FIGURES_ENV, NAME_ENV
from bench.report import BenchRun, Table, block, machine, read_figures, write_block

ORDER = ("book", "client_scale", "import", "sync", "codes", "packs", "boards", "hq_load")
DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"

# --quick: sizes small enough that every benchmark runs in seconds (checks that they run, not how fast)
QUICK: dict[str, list[str]] = {
    "book": ["--customers", "3000", "--queries", "8"],
    "client_scale": ["--customers", "3000", "--assignments", "15000", "--follow-ups", "7500", "--queries", "8",
                     "--runs", "2"],
    "import": ["--rows", "2000"],
    "sync": ["--customers", "2000", "--edits", "20", "--rounds", "2"],
    "codes": ["--codes", "40", "--pages", "5", "--repeat", "1"],
    "packs": ["--customers", "3000", "--pack-mb", "5", "--runs", "2"],
    "boards": ["--events", "20000", "--guides", "200", "--stores", "30", "--push-events", "600",
               "--push-customers", "400", "--repeat", "3"],
    "hq_load": ["--devices", "8", "--db", "sqlite", "--workers", "1", "--seconds", "3", "--floor-seconds", "1"],
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run (never written to docs)")
    parser.add_argument("--no-write", action="store_true", help="print the table only, leave docs/benchmarks.md")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    here = Path(__file__).parent
    available = [p.stem.removeprefix("bench_") for p in sorted(here.glob("bench_*.py"))]
    every = [n for n in ORDER if n in available] + [n for n in available if n not in ORDER]
    chosen = args.names or every
    unknown = [n for n in chosen if n not in available]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}", file=sys.stderr)
        return 2
    host = machine()  # the load average before anything of ours runs
    started = dt.datetime.now(dt.UTC)
    runs: list[BenchRun] = []
    with tempfile.TemporaryDirectory(prefix="bench-figures-") as tmp:
        figures_file = Path(tmp) / "figures.jsonl"
        for name in chosen:
            extra = QUICK.get(name, []) if args.quick else []
            print(f"\n=== bench_{name} {' '.join(extra)} ({time.strftime('%Y-%m-%d %H:%M:%S')}, load "
                  f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}) ===", flush=True)
            t0 = time.perf_counter()
            env = {**os.environ, FIGURES_ENV: str(figures_file), NAME_ENV: name}
            rc = subprocess.call([sys.executable, "-m", f"bench.bench_{name}", *extra], env=env, cwd=here.parent)
            runs.append(BenchRun(name, rc, time.perf_counter() - t0))
            print(f"=== bench_{name}: exit {rc}, {runs[-1].seconds:.1f} s ===", flush=True)
        table = Table(runs, read_figures(figures_file))
    finished = dt.datetime.now(dt.UTC)
    command = "python -m bench" + (" --quick" if args.quick else "") + "".join(f" {n}" for n in args.names)
    text = block(table, host, started, finished, command)
    print("\n" + text)
    full = not args.names or set(args.names) >= set(every)
    if args.no_write or args.quick or not full:
        print(f"\n(not written to {DOC.name}: " + ("--no-write" if args.no_write else
              "a --quick run" if args.quick else "not every benchmark ran") + ")")
    else:
        write_block(DOC, text)
        print(f"\nwritten to {DOC}")
    if table.failed:
        print(f"failed: {', '.join(table.failed)}", file=sys.stderr)
    return 1 if table.failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
