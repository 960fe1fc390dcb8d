"""The combined benchmark table: figures recorded by the benchmarks, failed ones listed, the docs block
between its markers replaced (no timing here: nothing is measured)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bench import figures
from bench.report import END, START, BenchRun, Machine, Table, block, number, ratio, read_figures, write_block

HOST = Machine("AMD EPYC", 2, 23.5, "Debian GNU/Linux 12 (bookworm)", "3.11.7", "3.40.1", (0.5, 0.75, 1.0))
T0 = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)


def test_record_appends_a_line_only_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "figures.jsonl"
    monkeypatch.delenv(figures.FIGURES_ENV, raising=False)
    figures.record("nothing asked for", 1.0, "ms")
    assert not out.exists()
    monkeypatch.setenv(figures.FIGURES_ENV, str(out))
    monkeypatch.setenv(figures.NAME_ENV, "book")
    figures.record("list open", 51.7, "ms", raw=52.7, note="p95 62.7 ms")
    figures.record("tag page", 34.1, "ms")
    first, second = read_figures(out)
    assert first["bench"] == "book" and first["ratio"] == pytest.approx(51.7 / 52.7)
    assert first["note"] == "p95 62.7 ms"
    assert second["raw"] is None and second["ratio"] is None


def test_numbers_and_ratios_read_well() -> None:
    assert [number(v) for v in (0, 0.04, 0.5, 0.123, 7.8, 51.72, 171.4, 3231.4, 1_000_000)] == [
        "0", "0.04", "0.5", "0.123", "7.80", "51.7", "171", "3,231", "1,000,000"]
    assert number(0.00042) == "0.00042"
    assert [ratio(r) for r in (None, 0.25, 1.0, 10.34, 111.4, 1825.0)] == ["—", "0.25x", "1.00x", "10.3x", "111x",
                                                                        "1,825x"]


def test_table_lists_figures_in_run_order_and_failed_benchmarks() -> None:
    runs = [BenchRun("book", 0, 95.0), BenchRun("sync", 1, 12.0), BenchRun("codes", 0, 30.0)]
    recorded = [
        {"bench": "codes", "figure": "1,000 PNGs", "value": 7.8, "unit": "s", "raw": 7.81, "ratio": 7.8 / 7.81,
         "note": ""},
        {"bench": "book", "figure": "list open | ids + 50 rows", "value": 51.7, "unit": "ms", "raw": 52.7,
         "ratio": 51.7 / 52.7, "note": "p95 62.7 ms"},
        {"bench": "sync", "figure": "initial sync", "value": 11.7, "unit": "s", "raw": None, "ratio": None,
         "note": ""},
    ]
    table = Table(runs, recorded)
    assert table.failed == ["sync"]
    assert [r[0] for r in table.rows] == ["book", "sync", "sync", "codes"]
    book, sync, failed, codes = table.rows
    assert book[2:5] == ("51.7 ms", "52.7 ms", "0.98x")
    assert sync[3:5] == ("—", "—")  # recorded before it failed: kept
    assert "failed" in failed[1] and "exit status 1" in failed[1]
    assert codes[2:5] == ("7.80 s", "7.81 s", "1.00x")
    md = table.markdown().splitlines()
    assert md[0].startswith("| benchmark") and set(md[1]) <= {"|", "-"}
    assert "list open \\| ids + 50 rows" in md[2]  # a pipe in a figure does not split the cell
    assert len({line.count(" | ") for line in md[2:]}) == 1


def test_block_is_written_between_the_markers_and_replaced_next_time(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nIntro line.\n\n## Import\n\nDetails stay.\n", encoding="utf-8")
    table = Table([BenchRun("import", 0, 40.0)], [
        {"bench": "import", "figure": "50k rows", "value": 15.5, "unit": "s", "raw": 0.14, "ratio": 15.5 / 0.14,
         "note": ""}])
    text = block(table, HOST, T0, T0 + dt.timedelta(minutes=30), "python -m bench")
    assert "2026-11-24 02:00–02:30 UTC" in text and "AMD EPYC, 2 cores, 23.5 GiB RAM" in text
    assert "SQLite 3.40.1" in text and "load average at start 0.50 0.75 1.00" in text
    write_block(doc, text)
    first = doc.read_text(encoding="utf-8")
    assert first.index("Intro line.") < first.index(START) < first.index("| import") < first.index(END) \
        < first.index("## Import")
    assert "111x" in first
    write_block(doc, block(Table([BenchRun("import", 2, 1.0)], []), HOST, T0, T0, "python -m bench"))
    second = doc.read_text(encoding="utf-8")
    assert second.count(START) == 1 and second.count(END) == 1
    assert "111x" not in second and "**failed** (exit status 2" in second
    assert second.endswith("Details stay.\n") and second.startswith("# Benchmarks\n\nIntro line.\n\n")
