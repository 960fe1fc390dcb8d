"""The sign-in dialog, the status-bar widget and the refused-changes dialog against a real HQ."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from guide_app.db.engine import open_database
from guide_app.services.context import AppContext
from guide_app.services.customers import CustomerInput, CustomerService
from guide_app.services.sync_service import SyncScheduler, SyncService
from guide_app.tasks import TaskRunner
from guide_app.views.login_dialog import DemoAccount, LoginDialog
from guide_app.views.screenshots import wait_idle
from guide_app.views.sync_status import RejectedDialog, SyncController, SyncStatusWidget
from tests.e2e.hq_process import DEMO_PASSWORD, HQProcess, running_hq

# offscreen cannot resize a top-level dialog to its hints; harmless here
pytestmark = [pytest.mark.e2e, pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]
DAY = 86_400_000


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HQProcess]:
    with running_hq(tmp_path_factory.mktemp("hq-gui"), customers=10) as server:
        yield server


@pytest.fixture()
def runner(qtbot: QtBot) -> Iterator[TaskRunner]:
    r = TaskRunner()
    yield r
    r.shutdown()


def test_login_dialog_shows_a_chinese_error_then_signs_in(qtbot: QtBot, tmp_path: Path, hq: HQProcess,
                                                          runner: TaskRunner) -> None:
    db = open_database(tmp_path / "pc.db")
    service = SyncService(db, memory_tokens=True)
    dialog = LoginDialog(service, runner, hq_url=hq.url, demo_accounts=(
        DemoAccount("sync.ui.demo_guide", "sh01.guide1", DEMO_PASSWORD),
        DemoAccount("sync.ui.demo_manager", "sh01.manager", DEMO_PASSWORD)))
    qtbot.addWidget(dialog)
    assert "内存" in dialog.note.text()
    dialog.demo.setCurrentIndex(1)
    assert dialog.username.text() == "sh01.manager"
    dialog.password.setText("wrong")
    dialog.submit()
    qtbot.waitUntil(lambda: "密码" in dialog.error.text() and dialog.buttons.isEnabled(), timeout=10_000)
    assert dialog.actor is None
    dialog.url.setText("ftp://nowhere")
    dialog.submit()
    qtbot.waitUntil(lambda: "总部地址" in dialog.error.text(), timeout=5000)
    dialog.url.setText(hq.url)
    dialog.password.setText(DEMO_PASSWORD)
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.actor is not None, timeout=10_000)
    assert dialog.actor.role == "store_manager"  # type: ignore[union-attr]
    service.client.close()
    db.dispose()


def test_status_widget_and_refused_change_dialog(qtbot: QtBot, tmp_path: Path, hq: HQProcess,
                                                 runner: TaskRunner) -> None:
    db = open_database(tmp_path / "pc.db")
    skew = {"ms": 0}

    def wall() -> int:
        return int(time.time() * 1000) + skew["ms"]

    service = SyncService(db, memory_tokens=True, now_ms=wall)
    actor = service.login(hq.url, "sh01.guide2", DEMO_PASSWORD)
    ctx = AppContext(db, actor, now_ms=wall)
    service.attach(ctx)
    controller = SyncController(service, runner, SyncScheduler(debounce_s=0.2))
    widget = SyncStatusWidget(controller)
    qtbot.addWidget(widget)
    controller.start()
    qtbot.waitUntil(lambda: widget.state.text() == "在线" and "上次同步" in widget.last.text(), timeout=15_000)
    assert widget.pending.text() == "待同步 0" and widget.failed.isHidden()

    skew["ms"] = DAY  # the counter PC's clock jumps a day ahead; the edit is stamped in the future
    CustomerService(ctx).create(CustomerInput(name="未来客户", phone="13500001234"))
    qtbot.waitUntil(lambda: not widget.failed.isHidden(), timeout=15_000)  # after_write -> scheduler -> sync
    assert widget.failed.text() == "同步失败 1"

    dialog = widget.show_rejected()
    assert isinstance(dialog, RejectedDialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=5000)
    assert dialog.table.item(0, 1).text() == "未来客户"
    assert dialog.table.item(0, 2).text() == "新建客户"
    assert "时间" in dialog.table.item(0, 3).text()  # HQ's reason, in Chinese
    opened: list[str] = []
    controller.open_customer.connect(opened.append)
    dialog.fix.click()  # 修正: re-stamped with the re-based clock and sent again
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 0, timeout=10_000)
    assert len(opened) == 1
    qtbot.waitUntil(lambda: widget.failed.isHidden() and widget.pending.text() == "待同步 0", timeout=15_000)
    controller.stop()
    wait_idle(runner)
    dialog.close()
    service.client.close()
    db.dispose()


def test_an_expired_session_is_renewed_from_the_status_bar(qtbot: QtBot, tmp_path: Path, hq: HQProcess,
                                                           runner: TaskRunner) -> None:
    db = open_database(tmp_path / "pc.db")
    service = SyncService(db, memory_tokens=True)
    actor = service.login(hq.url, "sh01.guide3", DEMO_PASSWORD)
    ctx = AppContext(db, actor)
    service.attach(ctx)
    controller = SyncController(service, runner, SyncScheduler(debounce_s=0.2))
    widget = SyncStatusWidget(controller)
    qtbot.addWidget(widget)
    controller.start()
    qtbot.waitUntil(lambda: widget.state.text() == "在线", timeout=15_000)
    service.client.logout()  # the session ends at HQ (revoked, expired): the next sync cannot renew it
    CustomerService(ctx).create(CustomerInput(name="过期后的客户"))
    qtbot.waitUntil(lambda: not widget.sign_in.isHidden(), timeout=15_000)
    assert widget.state.text() == "未登录总部" and widget.pending.text() == "待同步 1"
    dialog = widget.renew_session()
    assert dialog.username.text() == "sh01.guide3" and dialog.username.isReadOnly()
    dialog.password.setText(DEMO_PASSWORD)
    dialog.submit()
    qtbot.waitUntil(lambda: widget.pending.text() == "待同步 0" and widget.state.text() == "在线", timeout=15_000)
    controller.stop()
    wait_idle(runner)
    service.client.close()
    db.dispose()
