"""A manager unlocks with the full password: checked by a real HQ when it answers, and against the
verifier kept from the last online sign-in when it does not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from guide_app.db.engine import open_database
from guide_app.services.accounts import AccountService
from guide_app.services.context import AppContext
from guide_app.services.sync_service import SyncService
from guide_app.tasks import TaskRunner
from guide_app.views.app_services import AppServices
from guide_app.views.main_window import MainWindow
from guide_app.views.safety import SafetyController
from guide_app.views.screenshots import wait_idle
from guide_app.views.sync_status import SyncController
from tests.e2e.hq_process import DEMO_PASSWORD, HQProcess, running_hq

pytestmark = [pytest.mark.e2e, pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HQProcess]:
    with running_hq(tmp_path_factory.mktemp("hq-safety"), customers=5) as server:
        yield server


def test_manager_unlocks_with_the_password_online_then_offline(qtbot: QtBot, tmp_path: Path, hq: HQProcess) -> None:
    runner = TaskRunner()
    db = open_database(tmp_path / "pc.db")
    service = SyncService(db, memory_tokens=True)
    actor = service.login(hq.url, "sh01.manager", DEMO_PASSWORD)
    ctx = AppContext(db, actor)
    service.attach(ctx)
    services = AppServices(ctx, runner, tmp_path, store_name="测试门店", sync=SyncController(service, runner))
    try:
        controller = SafetyController(services, idle_ms=600_000)
        window = MainWindow(services)
        qtbot.addWidget(window)
        controller.attach(window)
        window.show()
        wait_idle(runner)
        controller.lock_now()
        wait_idle(runner)
        first = controller.screen
        assert first is not None and first.isVisible()
        screen = first
        assert screen.secret.placeholderText() == "密码"  # managers never use a PIN
        screen.secret.setText("not-the-password")
        screen.submit()
        qtbot.waitUntil(lambda: "密码不正确" in first.error.text(), timeout=15_000)
        screen.secret.setText(DEMO_PASSWORD)
        screen.submit()
        qtbot.waitUntil(lambda: not controller.is_locked, timeout=15_000)
        wait_idle(runner)
        assert not screen.isVisible()
        me = [u for u in AccountService(ctx).users() if u.guide_id == actor.guide_id]
        assert me and me[0].has_password and not me[0].has_pin  # a verifier, kept from HQ's yes
        # HQ out of reach: the verifier from that online check decides
        service.client.base_url = "http://127.0.0.1:9"
        controller.lock("manual")
        wait_idle(runner)
        again = controller.screen
        assert again is not None
        again.secret.setText("wrong-again")
        again.submit()
        qtbot.waitUntil(lambda: "密码不正确" in again.error.text(), timeout=15_000)
        again.secret.setText(DEMO_PASSWORD)
        again.submit()
        qtbot.waitUntil(lambda: not controller.is_locked, timeout=15_000)
    finally:
        runner.shutdown()
        service.client.close()
        db.dispose()
