"""The 活动 page on a real book and packs folder: lists, targets, marking tasks, scripts, refusals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QTableWidget
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from guide_app.db.engine import open_database
from guide_app.db.models import CampaignTask
from guide_app.i18n import set_language
from guide_app.services.context import Actor, AppContext
from guide_app.services.packs import PackService
from guide_app.tasks import TaskRunner
from guide_app.views.campaigns_page import LISTS, CampaignsPage
from guide_app.views.screenshots import wait_idle
from tests.fixtures.campaign_book import (
    EXPECTED_GUIDE_1,
    EXPECTED_STORE,
    SEGMENT,
    STORE,
    Clock,
    pin_key,
    seed_book,
    seed_org,
)
from tests.fixtures.packs import manifest_data, write_pack

# the offscreen platform says this of every shown top-level window; it is not about the page
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
KEY = Ed25519PrivateKey.generate()


@pytest.fixture()
def runner(qtbot: QtBot) -> Iterator[TaskRunner]:
    set_language("zh_CN")
    r = TaskRunner()
    yield r
    r.shutdown()


def _page(qtbot: QtBot, tmp_path: Path, runner: TaskRunner, role: str = "guide") -> CampaignsPage:
    db = open_database(tmp_path / "guide.db")
    ctx = AppContext(db, Actor("guide-1", STORE, role=role, name="小王"), now_ms=Clock())
    seed_org(ctx)
    pin_key(ctx, KEY)
    seed_book(ctx)
    manifest = manifest_data(
        segment=SEGMENT,
        materials=[
            {"id": "script", "kind": "script", "title": "生日话术", "asset": "assets/script.txt"},
            {"id": "poster", "kind": "image", "title": "海报", "asset": "assets/poster.png"},
            {"id": "page", "kind": "link", "title": "活动页", "url": "https://example.com/spring"},
        ],
        offers=[{"id": "bday", "title": "生日券", "code_template": "SPR-{code}"},
                {"id": "gift", "title": "到店礼", "code": "GIFT"}],
        tasks=[{"id": "contact", "kind": "contact", "title": "生日联系", "due": "2027-03-31"},
               {"id": "visit", "kind": "invite_visit", "title": "邀约到店"}],
    )
    PackService(ctx, tmp_path / "packs").install_file(write_pack(tmp_path / "p.zip", KEY, manifest))
    page = CampaignsPage(ctx, runner, packs_dir=tmp_path / "packs")
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    qtbot.waitUntil(lambda: page.details_done >= 1, timeout=10_000)
    return page


def _cell(table: QTableWidget, row: int, col: int) -> str:
    item = table.item(row, col)
    assert item is not None
    return item.text()


def _names(page: CampaignsPage) -> set[str]:
    m = page.targets_model
    return {m.data(m.index(r, 0)) for r in range(m.rowCount())}


def test_guide_sees_running_pack_their_targets_and_marks_a_task(
    qtbot: QtBot, tmp_path: Path, runner: TaskRunner, qtmodeltester: ModelTester
) -> None:
    page = _page(qtbot, tmp_path, runner)
    qtmodeltester.check(page.targets_model)
    assert page.list.count() == 1 and "春季关怀" in page.list.item(0).text()
    assert "2027-03-01 至 2027-04-30" in page.facts.text()
    assert _names(page) == EXPECTED_GUIDE_1 and not page.scope.isVisible()
    assert page.targets_model.headerData(3, Qt.Orientation.Horizontal) == "生日联系"
    assert not page.mark_button.isEnabled()  # no customer selected yet

    row = page.targets_model.row_of(next(t.customer_id for t in page._detail.targets if t.name == "安娜"))  # type: ignore[union-attr]
    page.table.selectRow(row)
    assert page.mark_button.isEnabled()
    page.outcome.setCurrentIndex(page.outcome.findData("bought"))
    page.note.setText("买了套装")
    done_before = page.details_done
    page.mark_button.click()
    qtbot.waitUntil(lambda: page.details_done > done_before, timeout=10_000)
    assert page.status.text() == "已记录任务结果"
    m = page.targets_model
    assert m.data(m.index(page.targets_model.row_of(page.selected_customer_id() or ""), 3)) == "已购买"
    with page.ctx.read() as s:
        rows = s.scalars(select(CampaignTask)).all()
    assert [(r.task_id, r.outcome, r.note) for r in rows] == [("contact", "bought", "买了套装")]
    assert "已完成 1/4 项任务" in page.progress_summary.text()


def test_script_copies_with_the_customer_name_and_offers_give_their_code(
    qtbot: QtBot, tmp_path: Path, runner: TaskRunner
) -> None:
    page = _page(qtbot, tmp_path, runner)
    page.tabs.setCurrentIndex(1)
    assert page.materials.count() == 3 and not page.copy_script_button.isEnabled()
    page.table.selectRow(0)
    name = page.targets_model.data(page.targets_model.index(0, 0))
    qtbot.waitUntil(lambda: page.material_text.toPlainText().startswith(name), timeout=10_000)
    page.copy_script_button.click()
    qtbot.waitUntil(lambda: page.status.text() == "话术已复制到剪贴板", timeout=10_000)
    assert QGuiApplication.clipboard().text() == f"{name}您好，春季新品到店啦！"

    page.materials.setCurrentRow(1)  # the image
    assert page.save_image_button.isEnabled() and page.material_image.pixmap() is not None
    page.save_image(tmp_path / "saved.png")
    qtbot.waitUntil(lambda: (tmp_path / "saved.png").exists(), timeout=10_000)
    page.materials.setCurrentRow(2)
    page.copy_link_button.click()
    assert QGuiApplication.clipboard().text() == "https://example.com/spring"

    page.tabs.setCurrentIndex(2)
    code = _cell(page.offers, 0, 2)
    assert code.startswith("SPR-") and _cell(page.offers, 1, 2) == "GIFT"
    page.offers.selectRow(0)
    page.copy_code_button.click()
    assert QGuiApplication.clipboard().text() == code


def test_manager_sees_the_whole_store_and_progress_per_guide(
    qtbot: QtBot, tmp_path: Path, runner: TaskRunner
) -> None:
    page = _page(qtbot, tmp_path, runner, role="store_manager")
    assert page.scope.isVisibleTo(page)
    n = page.details_done
    page.scope.setCurrentIndex(1)
    qtbot.waitUntil(lambda: page.details_done > n, timeout=10_000)
    assert _names(page) == EXPECTED_STORE
    page.tabs.setCurrentWidget(page.progress_tab)  # asks HQ; this PC has none: its own book, said plainly
    qtbot.waitUntil(lambda: page.progress_loads >= 1, timeout=10_000)
    m = page.progress_model
    assert m.rowCount() == 2 and m.level == "guides"
    guides = {m.data(m.index(r, 0)): m.data(m.index(r, 1)) for r in range(2)}
    assert guides == {"小王": "2", "小李": "1"}
    assert page.progress_state.text().startswith("离线，显示本机算出的本店数据")
    assert not page.progress_back.isVisible()


def test_a_refused_file_is_listed_with_its_reason(qtbot: QtBot, tmp_path: Path, runner: TaskRunner) -> None:
    page = _page(qtbot, tmp_path, runner)
    bad = write_pack(tmp_path / "bad.zip", Ed25519PrivateKey.generate(), manifest_data(id="other"))
    loads = page.loads_done
    page.install_path(bad)
    qtbot.waitUntil(lambda: page.loads_done > loads, timeout=10_000)
    assert page.which.currentData() == "refused" and page.list.count() == 1
    assert "活动包不是由本公司总部签名" in page.status.text()
    assert page.detail_stack.currentIndex() == 2 and "活动包不是由本公司总部签名" in page.refusal_text.text()
    page.which.setCurrentIndex(LISTS.index("history"))
    assert page.list.count() == 0 and "暂无历史活动" in page.empty.text()
    wait_idle(runner, timeout_s=10)
