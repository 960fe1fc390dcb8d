"""The 活动 page's 区域活动进度 list for a regional manager against a real ``hq serve``: a campaign HQ sent
only to another store of the region (so never installed on the manager's PC) is listed, says plainly
that only its progress can be seen, and drills down store → guides → back to the list by keyboard; an
installed campaign opens in full at its progress; offline the saved list with its time, or a plain
message; HQ sees every store's campaigns; store managers keep the page they had."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from guide_app.services.campaigns import CampaignService
from guide_app.services.packs import PackService
from guide_app.tasks import TaskRunner
from guide_app.views.campaigns_page import CampaignsPage
from guide_app.views.screenshots import wait_idle
from hq import pack_store
from hq.db import Database
from hq.pack_progress import pack_progress
from hq.packs import build_pack
from tests.gui.test_campaign_progress import Pc
from tests.hq_fixtures import HQServer, hq_server

__all__ = ["hq_server"]

pytestmark = [pytest.mark.e2e, pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "spring-care-pack"
HZ_ONLY, EAST = "gui-hz-only", "gui-east"
HZ = "杭州湖滨银泰店"


def _publish(tmp: Path, server: HQServer, pack_id: str, title: str, audience: dict[str, list[str]],
             started_days_ago: int) -> None:
    src = tmp / pack_id
    shutil.copytree(EXAMPLE, src)
    manifest = json.loads((src / "manifest.json").read_text(encoding="utf-8"))
    today = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).date()
    manifest.update(id=pack_id, title=title, audience=audience, segment={},
                    valid_from=(today - dt.timedelta(days=started_days_ago)).isoformat(),
                    valid_to=(today + dt.timedelta(days=30)).isoformat(),
                    tasks=[{"id": "contact", "kind": "contact", "title": "生日关怀联系"},
                           {"id": "visit", "kind": "invite_visit", "title": "邀约到店领礼"}])
    (src / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    build_pack(src, tmp / f"{pack_id}.zip")
    db = Database(server.db_url)
    try:
        with db.session() as s:
            pack_store.publish(s, tmp / f"{pack_id}.zip", int(time.time() * 1000))
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def worked(hq_server: HQServer, tmp_path_factory: pytest.TempPathFactory) -> HQServer:
    """A campaign for 杭州 only, worked by a 杭州 guide (one task done), and one for all of 华东区."""
    tmp = tmp_path_factory.mktemp("overview-packs")
    _publish(tmp, hq_server, HZ_ONLY, "杭州店专场", {"stores": [HZ]}, 1)
    _publish(tmp, hq_server, EAST, "华东春季关怀", {"regions": ["华东区"]}, 2)
    guide = Pc(tmp / "hz-guide.db", hq_server, "hz01.guide1", store_code="hz01")
    try:
        campaign = CampaignService(guide.ctx, PackService(guide.ctx, guide.packs_dir))
        first = campaign.targets(HZ_ONLY)[0]  # of the store: the demo book may leave one guide without any
        campaign.mark_done(HZ_ONLY, "contact", first.customer_id, "reached")
        guide.sync.sync_now()
    finally:
        guide.close()
    return hq_server


@pytest.fixture()
def runner(qtbot: QtBot) -> Iterator[TaskRunner]:
    r = TaskRunner()
    yield r
    r.shutdown()


def _page(qtbot: QtBot, pc: Pc, runner: TaskRunner) -> CampaignsPage:
    page = CampaignsPage(pc.ctx, runner, packs_dir=pc.packs_dir, sync=pc.sync)
    qtbot.addWidget(page)
    page.resize(1200, 720)
    page.show()
    qtbot.waitUntil(lambda: page.loads_done >= 1, timeout=15_000)
    return page


def _open_overview(qtbot: QtBot, page: CampaignsPage) -> None:
    loads = page.overview_loads
    page.which.setCurrentIndex(page.which.findData("overview"))
    qtbot.waitUntil(lambda: page.overview_loads > loads, timeout=15_000)


def _lines(page: CampaignsPage) -> list[str]:
    return [page.list.item(i).text() for i in range(page.list.count())]


def _hz_figures(server: HQServer) -> tuple[int, int, int]:
    """What HQ itself works out for 杭州: guides, targets, tasks done."""
    db = Database(server.db_url)
    try:
        with db.read() as s:
            _m, rows = pack_progress(s, HZ_ONLY, int(time.time() * 1000))
    finally:
        db.dispose()
    return len(rows), sum(r.targets for r in rows), sum(n for r in rows for n in r.done.values())


def test_region_manager_sees_a_campaign_of_another_store_and_drills_into_it(
    qtbot: QtBot, qtmodeltester: ModelTester, runner: TaskRunner, worked: HQServer, tmp_path: Path
) -> None:
    pc = Pc(tmp_path / "rm.db", worked, "east.manager")  # enrolled in 上海南京西路店
    try:
        page = _page(qtbot, pc, runner)
        assert page.which.itemText(page.which.findData("overview")) == "区域活动进度"
        installed = [page.list.item(i).text().split("\n")[0] for i in range(page.list.count())]
        assert "华东春季关怀" in installed and "杭州店专场" not in installed  # this PC has only 上海's
        page.which.setCurrentIndex(page.which.findData("history"))  # empty here: it points to the overview
        assert "您负责的所有门店的活动和进度请在“区域活动进度”里看" in page.empty.text()
        _open_overview(qtbot, page)
        assert page.overview_state.text().startswith("总部数据，截至") and not page.install_button.isVisible()
        guides, targets, done = _hz_figures(worked)
        assert targets and done == 1
        lines = _lines(page)
        hz_line = next(line for line in lines if line.startswith("杭州店专场"))
        assert hz_line.split("\n")[0] == "杭州店专场（本机未安装）"
        assert " · 1 家门店 · 完成率 " in hz_line and hz_line.startswith("杭州店专场（本机未安装）\n进行中 · ")
        assert next(line for line in lines if line.startswith("华东春季关怀")).split("\n")[0] == "华东春季关怀"
        assert lines.index(hz_line) == 0  # the newest start first

        # the campaign this PC does not have: its progress only, said plainly
        page.list.setCurrentRow(0)
        qtbot.waitUntil(lambda: page.progress_model.rowCount() == 1, timeout=15_000)
        assert page.detail_stack.currentIndex() == 1 and page.remote_note.isVisible()
        assert "看不到目标客户、素材和优惠券" in page.remote_note.text()
        assert [page.tabs.isTabVisible(i) for i in range(page.tabs.count())] == [False, False, False, True]
        assert page.title.text() == "杭州店专场  v1"
        assert page.facts.text().startswith("有效期 ") and "投放到您负责的 1 家门店" in page.facts.text()
        assert f"目标客户 {targets} 人" in page.facts.text()
        m = page.progress_model
        qtmodeltester.check(m)
        assert m.level == "stores" and m.data(m.index(0, m.column_of("store"))) == HZ
        assert m.data(m.index(0, m.column_of("targets"))) == str(targets)
        assert m.data(m.index(0, m.column_of("task:contact"))) == f"1/{targets}"
        assert page.progress_hint.text() == "双击或按回车查看该门店的导购，按退格键回到活动列表"

        # keyboard: Enter in the list → the store summary, Enter → guides, Backspace twice → the list
        page.activateWindow()
        page.list.setFocus()
        qtbot.keyClick(page.list, Qt.Key.Key_Return)
        qtbot.waitUntil(page.progress.hasFocus, timeout=5_000)
        page.progress.selectRow(0)
        qtbot.keyClick(page.progress, Qt.Key.Key_Return)
        assert m.level == "guides" and m.rowCount() == guides and page.progress_crumbs.text() == f"华东区 › {HZ}"
        qtmodeltester.check(m)
        assert sorted(m.data(m.index(r, m.column_of("outcomes"))) for r in range(m.rowCount()))[-1] == "已触达 1"
        qtbot.keyClick(page.progress, Qt.Key.Key_Backspace)
        assert m.level == "stores"
        qtbot.keyClick(page.progress, Qt.Key.Key_Backspace)
        qtbot.waitUntil(page.list.hasFocus, timeout=5_000)

        # a campaign this PC has: in full, at its progress
        details = page.details_done
        page.list.setCurrentRow(1)
        qtbot.waitUntil(lambda: page.details_done > details and page.title.text().startswith("华东春季关怀"),
                        timeout=15_000)
        assert not page.remote_note.isVisible() and all(page.tabs.isTabVisible(i) for i in range(4))
        assert page.tabs.currentWidget() is page.progress_tab
        assert "投放到您负责的 2 家门店" in page.facts.text()  # HQ's figures for the region, as in the list
        qtbot.waitUntil(lambda: m.rowCount() == 2, timeout=15_000)  # both stores of 华东区

        # offline: the saved list with its time, and the saved progress of a campaign opened before
        pc.offline()
        loads = page.overview_loads
        page.overview_refresh.click()
        qtbot.waitUntil(lambda: page.overview_loads > loads, timeout=15_000)
        assert page.overview_state.text().startswith("离线，显示 ") and "保存的活动列表" in page.overview_state.text()
        assert "连不上总部服务器" in page.overview_state.text()
        assert _lines(page) == lines
        page.list.setCurrentRow(0)
        qtbot.waitUntil(lambda: page.progress_state.text().startswith("离线，显示 "), timeout=15_000)
        assert m.level == "stores" and m.data(m.index(0, m.column_of("store"))) == HZ

        # back to the running list: the page is as it was, with the hint to the overview
        page.which.setCurrentIndex(page.which.findData("running"))
        assert page.install_button.isVisible() and not page.overview_state.isVisible()
        wait_idle(runner, timeout_s=10)
    finally:
        pc.close()


def test_offline_with_no_saved_list_is_said_plainly(
    qtbot: QtBot, runner: TaskRunner, worked: HQServer, tmp_path: Path
) -> None:
    pc = Pc(tmp_path / "rm2.db", worked, "east.manager", store_code="hz01")
    try:
        pc.offline()
        page = _page(qtbot, pc, runner)
        _open_overview(qtbot, page)
        assert page.overview_state.text().startswith("连不上总部，本机也还没有保存过活动列表")
        assert page.list.count() == 0 and page.empty.text() == page.overview_state.text()
        wait_idle(runner, timeout_s=10)
    finally:
        pc.close()


def test_hq_lists_every_stores_campaigns_and_store_managers_keep_their_page(
    qtbot: QtBot, runner: TaskRunner, worked: HQServer, tmp_path: Path
) -> None:
    admin = Pc(tmp_path / "hq.db", worked, "hq.admin", store_code="gz01")
    try:
        page = _page(qtbot, admin, runner)
        assert page.which.itemText(page.which.findData("overview")) == "全公司活动进度"
        _open_overview(qtbot, page)
        titles = [line.split("\n")[0] for line in _lines(page)]
        assert titles == ["杭州店专场（本机未安装）", "华东春季关怀（本机未安装）"]  # 广州 gets neither
        wait_idle(runner, timeout_s=10)
    finally:
        admin.close()
    manager = Pc(tmp_path / "sm.db", worked, "sh01.manager")
    try:
        page = _page(qtbot, manager, runner)
        assert page.which.findData("overview") == -1 and page.which.count() == 3
        assert "区域活动进度" not in page.empty.text()
        wait_idle(runner, timeout_s=10)
    finally:
        manager.close()
