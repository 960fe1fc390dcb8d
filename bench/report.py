"""The combined table of ``make bench``: the figures each benchmark recorded (bench/figures.py), the
machine they were measured on, and the block of docs/benchmarks.md between the bench-table markers."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

START = "<!-- bench-table:start -->"
END = "<!-- bench-table:end -->"
HEADER = ("benchmark", "figure", "value", "raw limit (same run)", "ratio", "note")


@dataclass
class BenchRun:
    name: str
    exit_code: int
    seconds: float


@dataclass
class Machine:
    cpu: str
    cores: int
    ram_gib: float
    os: str
    python: str
    sqlite: str
    load: tuple[float, float, float]

    def describe(self) -> str:
        return (f"{self.cpu}, {self.cores} cores, {self.ram_gib:.1f} GiB RAM, {self.os}, Python {self.python}, "
                f"SQLite {self.sqlite}; load average at start {' '.join(f'{x:.2f}' for x in self.load)}")


def machine() -> Machine:
    cpu = platform.processor() or platform.machine()
    ram = 0.0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) / 1024 ** 2
                break
    except OSError:  # not Linux: what platform knows
        pass
    try:
        os_name = platform.freedesktop_os_release().get("PRETTY_NAME", "") or platform.platform()
    except OSError:
        os_name = platform.platform()
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return Machine(cpu, os.cpu_count() or 0, ram, os_name, platform.python_version(), sqlite3.sqlite_version,
                   (load[0], load[1], load[2]))


def read_figures(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def number(v: float) -> str:
    """Three significant figures or so, thousands separated; no scientific notation for the usual ranges."""
    a = abs(v)
    if a == 0:
        return "0"
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.2g}" if a < 0.01 else f"{v:.3f}".rstrip("0")


def ratio(r: float | None) -> str:
    if r is None:
        return "—"
    if r >= 100:
        return f"{r:,.0f}x"
    if r >= 10:
        return f"{r:.1f}x"
    return f"{r:.2f}x"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


@dataclass
class Table:
    runs: list[BenchRun]
    figures: list[dict[str, Any]]
    rows: list[tuple[str, ...]] = field(init=False)

    def __post_init__(self) -> None:
        self.rows = []
        for run in self.runs:
            for f in (f for f in self.figures if f["bench"] == run.name):
                raw = f.get("raw")
                self.rows.append((run.name, f["figure"], f"{number(f['value'])} {f['unit']}",
                                  "—" if raw is None else f"{number(raw)} {f['unit']}", ratio(f.get("ratio")),
                                  f.get("note", "")))
            if run.exit_code != 0:
                self.rows.append((run.name, f"**failed** (exit status {run.exit_code} after {run.seconds:.0f} s)",
                                  "—", "—", "—", "its own output above says why"))

    @property
    def failed(self) -> list[str]:
        return [r.name for r in self.runs if r.exit_code != 0]

    def markdown(self) -> str:
        cells = [HEADER, *(tuple(_cell(c) for c in row) for row in self.rows)]
        widths = [max(len(row[i]) for row in cells) for i in range(len(HEADER))]
        lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in cells]
        lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
        return "\n".join(lines)


def block(table: Table, host: Machine, started: dt.datetime, finished: dt.datetime, command: str) -> str:
    """The text that goes between the markers: when, where, how long, then the table."""
    took = ", ".join(f"{r.name} {r.seconds / 60:.1f}" for r in table.runs)
    end_load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (f"Last run: `{command}`, {started:%Y-%m-%d %H:%M}–{finished:%H:%M} UTC "
            f"(minutes per benchmark: {took}).\n"
            f"Machine: {host.describe()}, at the end {end_load}.\n"
            "Value and raw limit are in the same unit; the ratio is value / raw limit (for a time, how many "
            "times the raw limit it takes; for a rate, what share of the raw rate it reaches). The sections "
            "below give the details and the reading of each figure.\n\n" + table.markdown())


def write_block(doc: Path, text: str) -> None:
    """Replace what is between the markers; without markers, put them after the title's paragraph."""
    content = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    section = f"{START}\n{text}\n{END}"
    if START in content and END in content:
        head, rest = content.split(START, 1)
        _old, tail = rest.split(END, 1)
        content = head + section + tail
    else:
        paragraphs = content.split("\n\n")
        cut = 2 if len(paragraphs) > 2 else len(paragraphs)  # the title, then its first paragraph
        content = "\n\n".join([*paragraphs[:cut], section, *paragraphs[cut:]])
    if not content.endswith("\n"):
        content += "\n"
    doc.write_text(content, encoding="utf-8")
