"""业绩榜 page against a real ``hq serve``: the guide's cards and store board, the board model under
qtmodeltester, offline the saved board with its as-of time and pending acquisitions; the regional
manager's drill-down, trend chart and exports."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PySide6.QtCharts import QLineSeries
from PySide6.QtGui import QImage
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from guide_app.db.engine import open_database
from guide_app.i18n import set_language
from guide_app.services.audit import AuditService
from guide_app.services.boards import BoardService, format_as_of
from guide_app.services.context import AppContext
from guide_app.services.customers import CustomerInput, CustomerService
from guide_app.services.sync_service import SyncService
from guide_app.sync.client import HqClient
from guide_app.tasks import TaskRunner
from guide_app.views.app_services import AppServices
from guide_app.views.boards_page import BoardsPage
from hq.demo import DEMO_PASSWORD
from tests.hq_fixtures import HQServer, hq_server
from tests.pg import free_port

__all__ = ["hq_server"]

# the offscreen platform cannot pass size hints on; every page that shows a chart or a top-level window says so
pytestmark = [pytest.mark.e2e, pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]


class Pc:
    def __init__(self, path: Path, url: str, username: str, store_id: str | None = None) -> None:
        set_language("zh_CN")
        self.db = open_database(path)
        self.sync = SyncService(self.db, memory_tokens=True)
        self.actor = self.sync.login(url, username, DEMO_PASSWORD, store_id=store_id)
        self.ctx = AppContext(self.db, self.actor)
        self.sync.attach(self.ctx)
        self.runner = TaskRunner()
        self.services = AppServices(self.ctx, self.runner, path.parent, store_name="上海南京西路店")
        self.boards = BoardService(self.ctx, self.sync)

    def add(self, name: str, phone: str) -> None:
        CustomerService(self.ctx).create(CustomerInput(name=name, phone=phone))

    def offline(self) -> None:
        dead = HqClient(f"http://127.0.0.1:{free_port()}", self.sync.client.tokens, device_id=self.sync.client.device_id)
        self.sync.client.close()
        self.sync.client = dead

    def close(self) -> None:
        self.runner.shutdown()
        self.sync.client.close()
        self.db.dispose()


@pytest.fixture()
def guide_pc(tmp_path: Path, hq_server: HQServer) -> Iterator[Pc]:
    pc = Pc(tmp_path / "guide.db", hq_server.base_url, "sh01.guide2")
    yield pc
    pc.close()


def test_guide_board_cards_and_offline_copy(qtbot: QtBot, qtmodeltester: ModelTester, guide_pc: Pc) -> None:
    pc = guide_pc
    pc.add("赵敏", "13712345601")
    pc.add("钱坤", "13712345602")
    pc.sync.sync_now()
    page = BoardsPage(pc.services, boards=pc.boards)
    qtbot.addWidget(page)
    page.period_box.setCurrentIndex(page.period_box.findData("today"))  # refreshes
    qtbot.waitUntil(lambda: page.state.text().startswith("数据截至") and page.model.rowCount() > 0, timeout=15_000)
    qtmodeltester.check(page.model)
    me = next(r for r in (page.model.row_at(i) for i in range(page.model.rowCount())) if r and r.is_me)
    assert me.value == 2 and me.rank == 1
    assert page.model.index(0, 0).data() == "1"
    assert not page.export_buttons.isVisible() and page.cards_box.isVisibleTo(page)
    qtbot.waitUntil(lambda: "店内第 1 名" in page.cards["new_customers"].rank.text(), timeout=15_000)
    assert page.cards["new_customers"].value.text() == "2"
    assert "已是第一名" in page.cards["new_customers"].gap.text()
    qtbot.waitUntil(lambda: "区域排名" in page.own_ranks.text() and "全公司排名" in page.own_ranks.text(),
                    timeout=15_000)
    as_of = format_as_of(page.view.as_of_ms)  # type: ignore[union-attr]

    pc.add("孙丽", "13712345603")  # not synced: pending, not counted
    pc.offline()
    page.refresh()
    qtbot.waitUntil(lambda: page.state.text().startswith("离线"), timeout=15_000)
    assert f"数据截至 {as_of}" in page.state.text()
    assert page.pending.isVisibleTo(page) and "1 位新客户待同步" in page.pending.text()
    assert page.model.rowCount() > 0 and page.view is not None and page.view.offline
    qtmodeltester.check(page.model)
    page.period_box.setCurrentIndex(page.period_box.findData("campaign"))  # no pack on this PC: says so
    assert page.state.text() == "本机还没有活动包" and not page.campaign.isEnabled()
    page.period_box.setCurrentIndex(page.period_box.findData("today"))
    qtbot.waitUntil(lambda: page.state.text().startswith("离线"), timeout=15_000)
    page.metric_box.setCurrentIndex(page.metric_box.findData("orders"))  # never fetched: says so
    qtbot.waitUntil(lambda: "本机也还没有保存过这个榜单" in page.state.text(), timeout=15_000)
    assert page.model.rowCount() == 0


def test_region_manager_drills_down_sees_trend_and_exports(qtbot: QtBot, qtmodeltester: ModelTester, tmp_path: Path,
                                                          hq_server: HQServer, guide_pc: Pc) -> None:
    guide_pc.add("周杰", "13712345611")
    guide_pc.sync.sync_now()
    pc = Pc(tmp_path / "rm.db", hq_server.base_url, "east.manager", store_id=hq_server.demo.stores["sh01"])
    try:
        page = BoardsPage(pc.services, boards=pc.boards)
        qtbot.addWidget(page)
        page.show()
        qtbot.waitUntil(lambda: page.model.rowCount() == 2 and page.state.text().startswith("数据截至"),
                        timeout=15_000)
        assert page.export_buttons.isVisible() and not page.cards_box.isVisible()
        qtbot.waitUntil(lambda: "本区域在全公司：第" in page.own_ranks.text() and "共 2 个区域" in page.own_ranks.text(),
                        timeout=15_000)
        assert {page.model.index(i, 1).data() for i in range(2)} == {"上海南京西路店", "杭州湖滨银泰店"}
        qtbot.waitUntil(lambda: len(page.chart.series()) >= 1, timeout=15_000)
        series = page.chart.series()[0]
        assert isinstance(series, QLineSeries) and series.count() == 8  # eight weeks, Monday to Sunday
        row = next(i for i in range(2) if page.model.index(i, 1).data() == "上海南京西路店")
        page.drill(page.model.index(row, 1))
        qtbot.waitUntil(lambda: page.levels[-1].unit == "guide" and page.model.rowCount() >= 4
                        and page.state.text().startswith("数据截至"), timeout=15_000)
        assert "上海南京西路店" in page.crumbs.text() and page.back.isVisible()
        qtmodeltester.check(page.model)
        names = {page.model.index(i, 1).data() for i in range(page.model.rowCount())}
        assert len(names) == page.model.rowCount()

        csv_path, xlsx_path, png_path = tmp_path / "b.csv", tmp_path / "b.xlsx", tmp_path / "b.png"
        with qtbot.waitSignal(page.status, timeout=10_000):
            page.export_to(csv_path)
        rows = list(csv.reader(csv_path.open(encoding="utf-8-sig")))
        assert rows[1][0] == "名次" and len(rows) == 2 + page.model.rowCount()
        with qtbot.waitSignal(page.status, timeout=10_000):
            page.export_to(xlsx_path)
        ws = load_workbook(xlsx_path).active
        assert ws is not None and ws["B3"].value == "名称"
        page.export_to(png_path)
        assert "榜单已导出" in page.export_note.text()
        image = QImage(str(png_path))
        assert not image.isNull() and image.width() > 100
        qtbot.waitUntil(lambda: len(AuditService(pc.ctx).entries(action="export")) == 3, timeout=10_000)
        assert {e.detail["format"] for e in AuditService(pc.ctx).entries(action="export")} == {"csv", "xlsx", "png"}

        page.go_up()
        qtbot.waitUntil(lambda: page.levels[-1].unit == "store" and page.model.rowCount() == 2, timeout=15_000)
        assert not page.back.isVisible()
    finally:
        pc.close()


def test_pending_customer_counts_after_a_sync(qtbot: QtBot, guide_pc: Pc) -> None:
    from guide_app.views.sync_status import SyncController

    pc = guide_pc
    pc.services.sync = SyncController(pc.sync, pc.runner)
    page = BoardsPage(pc.services)  # the page builds its own BoardService on the app's sync
    qtbot.addWidget(page)
    page.show()
    page.period_box.setCurrentIndex(page.period_box.findData("today"))
    qtbot.waitUntil(lambda: page.state.text().startswith("数据截至") and page.model.rowCount() > 0, timeout=15_000)
    before = page.view.mine().value  # type: ignore[union-attr]
    pc.add("冯霞", "13712345621")
    page.refresh()
    qtbot.waitUntil(lambda: page.pending.isVisible() and "1 位新客户待同步" in page.pending.text(), timeout=15_000)
    assert page.view is not None and page.view.mine().value == before  # type: ignore[union-attr]
    pc.services.sync.sync_now()  # the board asks HQ again once the round is done
    qtbot.waitUntil(lambda: not page.pending.isVisible() and page.view is not None
                    and page.view.mine().value == (before or 0) + 1, timeout=20_000)  # type: ignore[union-attr]
