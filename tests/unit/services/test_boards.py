"""BoardService against a real ``hq serve``: boards fetched and cached with their as-of time, the last
copy served offline (a real refused connection), pending acquisitions shown apart, refusals, export."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from guide_app.db.engine import open_database
from guide_app.domain.errors import UserError
from guide_app.services.audit import AuditService, exported_today
from guide_app.services.boards import (
    BoardService,
    board_title,
    export_csv,
    export_xlsx,
    format_change,
    format_value,
)
from guide_app.services.context import Actor, AppContext
from guide_app.services.customers import CustomerInput, CustomerService
from guide_app.services.sync_service import SyncService
from guide_app.sync.boards import BoardRequest
from guide_app.sync.client import HqClient
from hq.demo import DEMO_PASSWORD
from tests.hq_fixtures import HQServer, hq_server
from tests.pg import free_port

__all__ = ["hq_server"]

pytestmark = pytest.mark.e2e  # a real hq serve on 127.0.0.1


@pytest.fixture()
def signed_in(tmp_path: Path, hq_server: HQServer) -> Iterator[tuple[BoardService, SyncService, AppContext]]:
    db = open_database(tmp_path / "pc.db")
    sync = SyncService(db, memory_tokens=True)
    actor = sync.login(hq_server.base_url, "sh01.guide1", DEMO_PASSWORD)
    ctx = AppContext(db, actor)
    sync.attach(ctx)
    sync.sync_now()
    yield BoardService(ctx, sync), sync, ctx
    sync.client.close()
    db.dispose()


def go_offline(sync: SyncService) -> None:
    """Point the client at a port nobody listens on: every call is a refused connection."""
    dead = HqClient(f"http://127.0.0.1:{free_port()}", sync.client.tokens, device_id=sync.client.device_id)
    sync.client.close()
    sync.client = dead


def add(ctx: AppContext, name: str, phone: str) -> str:
    return CustomerService(ctx).create(CustomerInput(name=name, phone=phone))


def test_board_is_fetched_cached_and_opens_offline_with_its_as_of(
        signed_in: tuple[BoardService, SyncService, AppContext]) -> None:
    boards, sync, ctx = signed_in
    add(ctx, "陈静", "13912345601")
    add(ctx, "林峰", "13912345602")
    sync.sync_now()
    today = BoardRequest(scope="store", metric="new_customers", period="today")
    live = boards.board(today)
    assert not live.offline and live.pending == 0
    me = live.mine()
    assert me is not None and me.value == 2 and me.rank == 1
    assert live.board.scope_name and live.board.time_zone == "Asia/Shanghai"

    add(ctx, "未同步", "13912345603")  # in the outbox only: pending, not counted
    go_offline(sync)
    cached = boards.board(today)
    assert cached.offline and "总部" in cached.problem
    assert cached.as_of_ms == live.as_of_ms and cached.fetched_at == live.fetched_at
    assert cached.mine() is not None and cached.mine().value == 2  # type: ignore[union-attr]
    assert cached.pending == 1
    with pytest.raises(UserError) as err:
        boards.board(BoardRequest(scope="store", metric="orders", period="month"))  # never fetched
    assert err.value.key == "boards.error.no_copy"


def test_cache_is_per_account_and_per_query(signed_in: tuple[BoardService, SyncService, AppContext]) -> None:
    boards, sync, ctx = signed_in
    week = BoardRequest(scope="store", metric="follow_ups", period="week")
    boards.board(week)
    other = BoardService(AppContext(ctx.db, ctx.actor.__class__("someone-else", ctx.actor.store_id)), sync)
    go_offline(sync)
    assert boards.board(week).offline
    with pytest.raises(UserError):
        other.board(week)  # another guide on this PC never sees my saved boards
    with pytest.raises(UserError):
        boards.board(BoardRequest(scope="store", metric="follow_ups", period="week", unit="guide",
                                  scope_id="another-store"))


def test_refused_board_says_why(signed_in: tuple[BoardService, SyncService, AppContext],
                                hq_server: HQServer) -> None:
    boards, _, _ = signed_in
    other_store = next(s for s in hq_server.demo.stores.values() if s != boards.ctx.actor.store_id)
    with pytest.raises(UserError) as err:
        boards.board(BoardRequest(scope="store", metric="orders", period="week", scope_id=other_store))
    assert err.value.key == "boards.error.refused" and "无权" in err.value.params["reason"]
    with pytest.raises(UserError) as bad:
        boards.board(BoardRequest(scope="store", metric="orders", period="custom", date_from=dt.date(2026, 5, 2),
                                  date_to=dt.date(2026, 5, 1)))
    assert "榜单参数不正确：结束日期早于开始日期" in bad.value.params["reason"]


def test_my_figures_trend_and_not_signed_in(signed_in: tuple[BoardService, SyncService, AppContext],
                                           tmp_path: Path) -> None:
    boards, _, ctx = signed_in
    figures = boards.my_figures(BoardRequest(scope="store", metric="orders", period="week"))
    assert [f.metric for f in figures] == ["new_customers", "qr_adds", "sales", "orders", "follow_ups", "task_rate"]
    assert all(f.rank is not None and f.total >= 1 and not f.offline for f in figures)
    trend = boards.trend("store", "", "new_customers", weeks=4)
    assert len(trend.trend.points) == 4 and not trend.offline
    assert trend.trend.points[-1].start <= dt.date.today().isoformat()
    lonely = BoardService(ctx, None)
    saved = lonely.trend("store", "", "new_customers", weeks=4)  # not signed in: the copy saved just now
    assert saved.offline and saved.problem and saved.trend == trend.trend and saved.fetched_at == trend.fetched_at
    with pytest.raises(UserError) as err:
        lonely.board(BoardRequest(scope="store", metric="orders", period="week", unit="guide", scope_id="x"))
    assert err.value.key == "boards.error.no_copy"


def test_export_csv_and_xlsx(signed_in: tuple[BoardService, SyncService, AppContext], tmp_path: Path) -> None:
    boards, sync, ctx = signed_in
    add(ctx, "导出客户", "13912345609")
    sync.sync_now()
    board = boards.board(BoardRequest(scope="store", metric="new_customers", period="month")).board
    rows = list(csv.reader(export_csv(board, tmp_path / "b.csv").open(encoding="utf-8-sig")))
    assert rows[0][0].endswith(f"（{board.start} 至 {board.end}）") and rows[0][1].startswith("数据截至")
    assert rows[1] == ["名次", "名称", "数值", "上期数值", "上期名次"]
    assert len(rows) == 2 + len(board.rows) and rows[2][0] == "1"
    ws = load_workbook(export_xlsx(board, tmp_path / "b.xlsx")).active
    assert ws is not None and ws["A3"].value == "名次" and ws["C4"].value == board.rows[0].value

    with pytest.raises(UserError) as refused:  # a guide may look, not export
        boards.export(board, tmp_path / "guide.csv")
    assert refused.value.key == "boards.error.managers_only" and not (tmp_path / "guide.csv").exists()
    manager = AppContext(ctx.db, Actor(ctx.actor.guide_id, ctx.actor.store_id, role="store_manager", name="店长"))
    written = BoardService(manager, sync).export(board, tmp_path / "店长.xlsx")
    assert written.exists()
    entries = AuditService(manager).entries(action="export")
    assert [(e.target, e.detail["what"], e.detail["format"]) for e in entries] == [
        (board_title(board), "leaderboard", "xlsx")]
    assert exported_today(manager, manager.actor.guide_id) == 0  # not customers: the export limit is untouched


def test_value_formatting() -> None:
    assert format_value("sales", 1234567) == "¥12,345.67"
    assert format_value("task_rate", 0.755) == "76%"
    assert format_value("orders", 3.0) == "3" and format_value("task_rate", None) == "—"
    assert format_change("orders", 5, 3) == "+2" and format_change("sales", 100, 300) == "−¥2.00"
    assert format_change("orders", 3, 3) == "±0" and format_change("task_rate", 0.5, None) == ""


def test_imported_customers_are_marked_and_not_pending_acquisitions(
        signed_in: tuple[BoardService, SyncService, AppContext], tmp_path: Path) -> None:
    from sqlalchemy import select

    from guide_app.db.models import Outbox
    from guide_app.services.import_files import sniff
    from guide_app.services.importer import ImportJob, ImportOptions

    boards, sync, ctx = signed_in
    path = tmp_path / "members.csv"
    path.write_text("姓名,手机,来源\n吴昊,13812345671,老会员\n郑爽,13812345672,\n", encoding="utf-8")
    preview = sniff(path)
    report = ImportJob(ctx, path, preview.mapping, ImportOptions(format=preview.format)).run()
    assert report.imported == 2
    add(ctx, "门店新客", "13812345673")
    with ctx.db.read() as s:
        sources = sorted(str(f.get("source")) for f in s.scalars(select(Outbox.fields).where(
            Outbox.entity == "customer", Outbox.status == "pending")) if "created_at" in f)
    assert sources == ["", "import", "import:老会员"]
    assert boards.pending_acquisitions() == 1  # imports are not acquisitions
    sync.sync_now()
    board = boards.board(BoardRequest(scope="store", metric="imports", period="today"))
    assert board.mine() is not None and board.mine().value == 2  # type: ignore[union-attr]
