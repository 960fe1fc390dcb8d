"""Headline figures of a benchmark run, for the one combined table of ``make bench``.

Each benchmark calls :func:`record` for the figures docs/benchmarks.md reports and still prints its
own detailed output. When ``BENCH_FIGURES`` names a file (``python -m bench`` sets it), every call
appends one JSON line to it; run alone, a benchmark records nothing.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

FIGURES_ENV = "BENCH_FIGURES"
NAME_ENV = "BENCH_NAME"  # which benchmark is running (set by python -m bench; else the __main__ module)


def bench_name() -> str:
    name = os.environ.get(NAME_ENV)
    if name:
        return name
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    module = spec.name if spec is not None else "bench"
    return module.rsplit(".", 1)[-1].removeprefix("bench_")


def record(figure: str, value: float, unit: str, raw: float | None = None, note: str = "") -> None:
    """One headline figure; ``raw`` is the raw limit measured in the same run, in the same unit.
    The ratio is value / raw (a time: how many times the raw limit; a rate: what share of it)."""
    path = os.environ.get(FIGURES_ENV)
    if not path:
        return
    line: dict[str, Any] = {
        "bench": bench_name(), "figure": figure, "value": float(value), "unit": unit,
        "raw": None if raw is None else float(raw),
        "ratio": float(value) / float(raw) if raw else None, "note": note,
    }
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, ensure_ascii=False) + "\n")
