"""Code figures pulled from HQ are stored with the page that carried them (one transaction), each code's
days replaced whole; a page without figures leaves them alone."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from guide_app.db.engine import open_database
from guide_app.db.models import CodeStat
from guide_app.services.sync_service import DbLocalStore
from guide_app.sync.protocol import CodeStatDay, CodeStatsChange, PullResponse


def _page(cursor: int, stats: list[CodeStatsChange]) -> PullResponse:
    return PullResponse(rows=[], next_cursor=cursor, has_more=False, store_version=cursor, server_time_ms=0,
                        code_stats=stats)


def _stats(store: DbLocalStore) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    with store.db.read() as s:
        return {(r.code_id, r.day): (r.scans, r.leads, r.new_customers, r.existing_customers)
                for r in s.scalars(select(CodeStat))}


def test_pulled_code_stats_replace_each_codes_days(tmp_path: Path) -> None:
    db = open_database(tmp_path / "pc.db")
    try:
        store = DbLocalStore(db)
        store.apply_pull(_page(3, [
            CodeStatsChange(code_id="c1", days=[CodeStatDay(day="2026-11-22", scans=5, leads=2, new_customers=1,
                                                            existing_customers=1),
                                                CodeStatDay(day="2026-11-23", scans=1)]),
            CodeStatsChange(code_id="c2", days=[CodeStatDay(day="2026-11-23", scans=7, leads=1, new_customers=1)]),
        ]))
        assert store.pull_cursor() == 3
        store.apply_pull(_page(4, [
            CodeStatsChange(code_id="c1", days=[CodeStatDay(day="2026-11-23", scans=2, leads=1, new_customers=1)]),
        ]))
        store.apply_pull(_page(5, []))
        assert _stats(store) == {
            ("c1", "2026-11-23"): (2, 1, 1, 0),
            ("c2", "2026-11-23"): (7, 1, 1, 0),
        }
        assert store.pull_cursor() == 5
    finally:
        db.dispose()
