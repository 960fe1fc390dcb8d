"""GUI tests run offscreen; Qt warnings fail a test (pyproject: qt_log_level_fail = WARNING).

``services`` gives each test its own copy of one demo book (seeded once per session), with the
task runner and every service the views use, in Chinese.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from guide_app.db.engine import open_database
from guide_app.i18n import set_language
from guide_app.services.context import Actor, AppContext
from guide_app.services.demo_seed import seed_demo
from guide_app.services.org import ensure_local_profile
from guide_app.tasks import TaskRunner
from guide_app.views.app_services import AppServices
from guide_app.views.screenshots import wait_idle

DB = "guide.db"


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Actor]:
    folder = tmp_path_factory.mktemp("demo-template")
    db = open_database(folder / DB)
    actor = seed_demo(db, customers=120).actor
    db.dispose()
    return folder / DB, actor


def _build(db_path: Path, actor: Actor, data_dir: Path) -> Iterator[AppServices]:
    set_language("zh_CN")
    db = open_database(db_path)
    runner = TaskRunner()
    services = AppServices(AppContext(db, actor), runner, data_dir, store_name="测试门店")
    yield services
    runner.shutdown()
    db.dispose()
    set_language("zh_CN")


@pytest.fixture()
def services(qtbot: QtBot, tmp_path: Path, demo_template: tuple[Path, Actor]) -> Iterator[AppServices]:
    template, actor = demo_template
    shutil.copy(template, tmp_path / DB)
    yield from _build(tmp_path / DB, actor, tmp_path)


@pytest.fixture()
def empty_services(qtbot: QtBot, tmp_path: Path) -> Iterator[AppServices]:
    """A fresh book with an offline profile and no customers."""
    db = open_database(tmp_path / DB)
    actor = ensure_local_profile(db, "测试门店", "王丽")
    db.dispose()
    yield from _build(tmp_path / DB, actor, tmp_path)


def settle(services: AppServices) -> None:
    wait_idle(services.runner, timeout_s=10)
