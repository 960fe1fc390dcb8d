"""The 活动 page's progress tab for a regional manager against a real ``hq serve``: HQ's per-store summary,
drill-down to a store's guides by keyboard (Enter, Backspace) and mouse (double-click, the back button),
the model under qtmodeltester at both levels, and offline the saved copy with its time, or a plain
message when there is none."""

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

from guide_app.db.engine import open_database
from guide_app.i18n import set_language
from guide_app.services.campaigns import CampaignService
from guide_app.services.context import AppContext
from guide_app.services.packs import PackService
from guide_app.services.sync_service import SyncService
from guide_app.sync.client import HqClient
from guide_app.tasks import TaskRunner
from guide_app.views.campaigns_page import CampaignsPage
from guide_app.views.pack_progress_model import STORE_ROLE
from guide_app.views.screenshots import wait_idle
from hq import pack_store
from hq.db import Database
from hq.demo import DEMO_PASSWORD
from hq.pack_progress import pack_progress
from hq.packs import build_pack
from tests.hq_fixtures import HQServer, hq_server
from tests.pg import free_port

__all__ = ["hq_server"]

pytestmark = [pytest.mark.e2e, pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "spring-care-pack"
PACK_ID = "gui-progress"
EAST = ["杭州湖滨银泰店", "上海南京西路店"]  # pinyin order: hang… before shang…


class Pc:
    def __init__(self, path: Path, server: HQServer, username: str, store_code: str = "sh01") -> None:
        set_language("zh_CN")
        self.db = open_database(path)
        self.packs_dir = path.parent / f"{path.stem}-packs"
        self.sync = SyncService(self.db, memory_tokens=True, packs_dir=self.packs_dir)
        self.ctx = AppContext(self.db, self.sync.login(server.base_url, username, DEMO_PASSWORD,
                                                       store_id=server.demo.stores[store_code]))
        self.sync.attach(self.ctx)
        self.sync.sync_now()  # the book, then the packs

    def offline(self) -> None:
        dead = HqClient(f"http://127.0.0.1:{free_port()}", self.sync.client.tokens, device_id=self.sync.client.device_id)
        self.sync.client.close()
        self.sync.client = dead

    def close(self) -> None:
        self.sync.client.close()
        self.db.dispose()


@pytest.fixture(scope="module")
def worked(hq_server: HQServer, tmp_path_factory: pytest.TempPathFactory) -> HQServer:
    """The pack published to 华东区 (every customer not opted out), two tasks done by a guide of 上海."""
    tmp = tmp_path_factory.mktemp("progress-pack")
    shutil.copytree(EXAMPLE, tmp / "src")
    manifest = json.loads((tmp / "src/manifest.json").read_text(encoding="utf-8"))
    today = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).date()
    manifest.update(id=PACK_ID, audience={"regions": ["华东区"]}, segment={},
                    valid_from=(today - dt.timedelta(days=1)).isoformat(),
                    valid_to=(today + dt.timedelta(days=30)).isoformat(),
                    tasks=[{"id": "contact", "kind": "contact", "title": "生日关怀联系"},
                           {"id": "visit", "kind": "invite_visit", "title": "邀约到店领礼"}])
    (tmp / "src/manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    build_pack(tmp / "src", tmp / "pack.zip")
    db = Database(hq_server.db_url)
    try:
        with db.session() as s:
            pack_store.publish(s, tmp / "pack.zip", int(time.time() * 1000))
    finally:
        db.dispose()
    guide = Pc(tmp / "guide.db", hq_server, "sh01.guide1")
    try:
        campaign = CampaignService(guide.ctx, PackService(guide.ctx, guide.packs_dir))
        # two customers of one guide (the random demo book may give the signed-in guide fewer than two)
        by_owner: dict[str, list[str]] = {}
        for t in campaign.targets(PACK_ID):
            by_owner.setdefault(t.owner_guide_id, []).append(t.customer_id)
        first, second = next(ids for ids in by_owner.values() if len(ids) >= 2)[:2]
        campaign.mark_done(PACK_ID, "contact", first, "reached")
        campaign.mark_done(PACK_ID, "visit", second, "bought")
        guide.sync.sync_now()
    finally:
        guide.close()
    return hq_server


@pytest.fixture()
def runner(qtbot: QtBot) -> Iterator[TaskRunner]:
    r = TaskRunner()
    yield r
    r.shutdown()


def _hq_figures(server: HQServer) -> dict[str, tuple[int, int, dict[str, int]]]:
    """What HQ itself works out per store (guides, targets, done per task)."""
    db = Database(server.db_url)
    try:
        with db.read() as s:
            _manifest, rows = pack_progress(s, PACK_ID, int(time.time() * 1000))
    finally:
        db.dispose()
    out: dict[str, tuple[int, int, dict[str, int]]] = {}
    for name in EAST:
        mine = [r for r in rows if r.store_name == name]
        out[name] = (len(mine), sum(r.targets for r in mine),
                     {t: sum(r.done[t] for r in mine) for t in ("contact", "visit")})
    return out


def _page(qtbot: QtBot, pc: Pc, runner: TaskRunner) -> CampaignsPage:
    page = CampaignsPage(pc.ctx, runner, packs_dir=pc.packs_dir, sync=pc.sync)
    qtbot.addWidget(page)
    page.resize(1200, 720)
    page.show()
    qtbot.waitUntil(lambda: page.details_done >= 1, timeout=15_000)
    page.tabs.setCurrentWidget(page.progress_tab)
    qtbot.waitUntil(lambda: page.progress_loads >= 1, timeout=15_000)
    return page


def _texts(page: CampaignsPage, column: str) -> list[str]:
    m = page.progress_model
    c = m.column_of(column)
    return [m.data(m.index(r, c)) for r in range(m.rowCount())]


def test_region_manager_drills_from_stores_to_guides_and_back(
    qtbot: QtBot, qtmodeltester: ModelTester, runner: TaskRunner, worked: HQServer, tmp_path: Path
) -> None:
    pc = Pc(tmp_path / "rm.db", worked, "east.manager")
    try:
        page = _page(qtbot, pc, runner)
        m = page.progress_model
        qtmodeltester.check(m)
        assert page.progress_state.text().startswith("总部数据，截至")
        assert m.level == "stores" and _texts(page, "store") == EAST
        headers = [m.headerData(c, Qt.Orientation.Horizontal) for c in range(m.columnCount())]
        assert headers == ["门店", "导购数", "目标客户", "完成率", "生日关怀联系", "邀约到店领礼", "任务结果"]
        hq = _hq_figures(worked)
        assert [(int(g), int(t)) for g, t in zip(_texts(page, "guides"), _texts(page, "targets"), strict=True)] == [
            hq[n][:2] for n in EAST]
        assert _texts(page, "task:contact") == [f"{hq[n][2]['contact']}/{hq[n][1]}" for n in EAST]
        assert hq["上海南京西路店"][2] == {"contact": 1, "visit": 1}
        assert _texts(page, "outcomes") == ["", "已购买 1 · 已触达 1"]  # most first, then by name
        assert page.progress_crumbs.text() == "华东区" and page.progress_hint.isVisible()
        assert not page.progress_back.isVisible()
        assert not page.progress_summary.isVisible()  # a regional manager has no customers of their own
        assert page.progress_totals.text().startswith(f"2 家门店 · {hq[EAST[0]][0] + hq[EAST[1]][0]} 名导购")

        # keyboard: Enter on 上海 opens its guides, Backspace comes back with 上海 still selected
        page.progress.setFocus()
        page.progress.selectRow(1)
        qtbot.keyClick(page.progress, Qt.Key.Key_Return)
        assert m.level == "guides" and m.rowCount() == hq[EAST[1]][0]
        qtmodeltester.check(m)
        assert page.progress_crumbs.text() == "华东区 › 上海南京西路店" and page.progress_back.isVisible()
        assert [m.headerData(c, Qt.Orientation.Horizontal) for c in range(3)] == ["导购", "目标客户", "完成率"]
        assert sum(int(t) for t in _texts(page, "targets")) == hq[EAST[1]][1]
        assert sum(int(t.split("/")[0]) for t in _texts(page, "task:contact")) == 1
        assert sorted(_texts(page, "outcomes"))[-1] == "已购买 1 · 已触达 1"  # the guide who did both
        qtbot.keyClick(page.progress, Qt.Key.Key_Backspace)
        assert m.level == "stores"
        assert page.progress.selectionModel().selectedRows()[0].data(STORE_ROLE) == worked.demo.stores["sh01"]

        # mouse: double-click 杭州, then the back button
        spot = page.progress.visualRect(m.index(0, 0)).center()
        # QTest's double-click alone lacks the press before it that a real one has
        qtbot.mouseClick(page.progress.viewport(), Qt.MouseButton.LeftButton, pos=spot)
        qtbot.mouseDClick(page.progress.viewport(), Qt.MouseButton.LeftButton, pos=spot)
        assert m.level == "guides" and page.progress_crumbs.text() == "华东区 › 杭州湖滨银泰店"
        assert m.rowCount() == hq[EAST[0]][0] and set(_texts(page, "outcomes")) == {""}
        page.progress_back.click()
        assert m.level == "stores"

        # offline: the saved copy, said plainly with the time it was fetched, the table as it was
        pc.offline()
        loads = page.progress_loads
        page.progress_refresh.click()
        qtbot.waitUntil(lambda: page.progress_loads > loads, timeout=15_000)
        assert page.progress_state.text().startswith("离线，显示 ") and "保存的数据" in page.progress_state.text()
        assert "连不上总部服务器" in page.progress_state.text()
        assert m.level == "stores" and _texts(page, "store") == EAST
        wait_idle(runner, timeout_s=10)
    finally:
        pc.close()


def test_region_manager_offline_with_no_saved_copy_is_told_so(
    qtbot: QtBot, runner: TaskRunner, worked: HQServer, tmp_path: Path
) -> None:
    pc = Pc(tmp_path / "rm2.db", worked, "east.manager", store_code="hz01")
    try:
        pc.offline()
        page = _page(qtbot, pc, runner)
        assert page.progress_state.text().startswith("连不上总部，本机也还没有保存过这个活动的进度")
        assert page.progress_model.rowCount() == 0 and not page.progress_back.isVisible()
        wait_idle(runner, timeout_s=10)
    finally:
        pc.close()
