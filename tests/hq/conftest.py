"""Every HQ test module runs twice: on a SQLite file and on a real PostgreSQL (tests/pg.py).

The database and the app are per module; between tests every table except the org keys is
emptied and a small org is created again, so tests stay independent and fast.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from hq import org, security
from hq.app import create_app
from hq.db import Database, upgrade
from hq.models import Base
from tests.hq_fixtures import SyncDevice, hq_server, pg_server
from tests.pg import PostgresServer

__all__ = ["hq_server", "pg_server"]

PASSWORD = "secret-pass-1"
_db_names = itertools.count(1)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hq_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('hqdb') / 'hq.sqlite3'}"
    else:
        server: PostgresServer = request.getfixturevalue("pg_server")
        url = server.create_database(f"hq_{Path(str(request.path)).stem}_{next(_db_names)}")
    upgrade(url)
    return url


@pytest.fixture(scope="module")
def hq_database(hq_db_url: str) -> Iterator[Database]:
    db = Database(hq_db_url)
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def hq_app(hq_db_url: str) -> Iterator[FastAPI]:
    app = create_app(hq_db_url)
    yield app
    app.state.hq.db.dispose()


@pytest.fixture(scope="module")
def http(hq_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(hq_app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(autouse=True, scope="module")
def _cheap_password_hashing() -> Iterator[None]:
    """argon2id at test cost in this process (a real ``hq serve`` subprocess keeps production cost)."""
    real = security._hasher
    security._hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    yield
    security._hasher = real


@dataclass
class OrgFixture:
    region_a: str
    region_b: str
    store_a: str
    store_b: str
    store_a2: str  # a second store in region A
    guide_a: str  # usernames
    guide_a2: str
    guide_b: str
    manager_a: str
    multi: str  # guide of store A and store B
    region_manager_a: str
    admin: str
    password: str = PASSWORD


def reset(db: Database) -> None:
    tables = [t for t in reversed(Base.metadata.sorted_tables) if t.name != "org_secret"]
    with db.session() as session:
        if db.sqlite:
            for table in tables:
                session.execute(table.delete())
        else:
            session.execute(text(f"TRUNCATE {', '.join(t.name for t in tables)} RESTART IDENTITY CASCADE"))


def build_org(db: Database) -> OrgFixture:
    with db.session() as s:
        ra, rb = org.create_region(s, "华东区"), org.create_region(s, "华南区")
        a, a2, b = org.create_store(s, "上海店", ra.id), org.create_store(s, "杭州店", ra.id), org.create_store(
            s, "广州店", rb.id)
        for username, role, stores, region in (
            ("guide.a", "guide", [a.id], None),
            ("guide.a2", "guide", [a.id], None),
            ("guide.b", "guide", [b.id], None),
            ("manager.a", "store_manager", [a.id], None),
            ("multi", "guide", [a.id, b.id], None),
            ("rm.a", "region_manager", [], ra.id),
            ("admin", "hq_admin", [], None),
        ):
            org.create_account(s, username=username, password=PASSWORD, role=role, display_name=username,
                               store_refs=stores, region_ref=region)
        return OrgFixture(ra.id, rb.id, a.id, b.id, a2.id, "guide.a", "guide.a2", "guide.b", "manager.a", "multi",
                       "rm.a", "admin")


@pytest.fixture
def test_org(hq_database: Database) -> OrgFixture:
    reset(hq_database)
    return build_org(hq_database)


@pytest.fixture
def device(http: TestClient, test_org: OrgFixture) -> Callable[..., SyncDevice]:
    """``device(username, store_id=None)``: a counter PC enrolled and logged in as that account."""

    def make(username: str = "guide.a", store_id: str | None = None, login: bool = True) -> SyncDevice:
        dev = SyncDevice(http, username, test_org.password, store_id=store_id)
        if login:
            dev.login()
        return dev

    return make
