"""A real SQLite book in tmp_path, with a clock the test moves by hand."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from guide_app.db.engine import open_database
from guide_app.services.context import Actor, AppContext
from guide_app.services.customers import CustomerInput, CustomerService

# 2026-03-10 10:00 local time of the test machine
T0 = int(dt.datetime(2026, 3, 10, 10, 0).timestamp() * 1000)
DAY = 86_400_000


@dataclass
class FakeTime:
    ms: int = T0

    def __call__(self) -> int:
        return self.ms


@pytest.fixture()
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once per run; each test gets a copy (Alembic costs about a second per file)."""
    path = tmp_path_factory.mktemp("template") / "book.db"
    open_database(path).dispose()
    return path


@pytest.fixture()
def ctx(tmp_path: Path, fake_time: FakeTime, migrated_template: Path) -> AppContext:
    shutil.copy(migrated_template, tmp_path / "book.db")
    db = open_database(tmp_path / "book.db")  # already at head: no migration runs
    return AppContext(db, Actor("guide-1", "store-1", name="小王"), now_ms=fake_time)


def add_customer(ctx: AppContext, name: str, phone: str = "", wechat: str = "", **kw: str) -> str:
    return CustomerService(ctx).create(CustomerInput(name=name, phone=phone, wechat_id=wechat, **kw))
