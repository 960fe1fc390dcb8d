"""`make bench`: run every benchmark in bench/ in turn; each builds its own data in a temp dir and
prints its figures next to the raw limit it measured in the same run.

    python -m bench                 # all of them
    python -m bench book import     # only these (names without the bench_ prefix)
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ORDER = ("book", "import", "sync", "codes", "packs", "boards", "hq_load")


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    available = [p.stem.removeprefix("bench_") for p in sorted(here.glob("bench_*.py"))]
    chosen = argv or [n for n in ORDER if n in available] + [n for n in available if n not in ORDER]
    unknown = [n for n in chosen if n not in available]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}", file=sys.stderr)
        return 2
    failed: list[str] = []
    for name in chosen:
        print(f"\n=== bench_{name} ({time.strftime('%Y-%m-%d %H:%M:%S')}) ===", flush=True)
        started = time.perf_counter()
        rc = subprocess.call([sys.executable, "-m", f"bench.bench_{name}"])
        print(f"=== bench_{name}: exit {rc}, {time.perf_counter() - started:.1f} s ===", flush=True)
        if rc != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
