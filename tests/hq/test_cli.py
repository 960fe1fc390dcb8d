"""``hq admin`` commands and HQ's Alembic schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import getpass
import subprocess
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, select

from hq.cli import main
from hq.db import Database
from hq.models import Base, SyncRow
from tests.hq.conftest import reset
from tests.hq_fixtures import HQ_BIN, VERSION_HEADERS


@pytest.fixture
def empty_db(hq_database: Database) -> Database:
    reset(hq_database)
    return hq_database


def run(capsys: pytest.CaptureFixture[str], db: Database, *args: str) -> tuple[int, str, str]:
    code = main(["admin", *args, "--db", db.url])
    out, err = capsys.readouterr()
    return code, out, err


def test_org_admin_commands(empty_db: Database, capsys: pytest.CaptureFixture[str], http: TestClient,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(capsys, empty_db, "create-region", "华北区")[0] == 0
    assert run(capsys, empty_db, "create-store", "北京三里屯店", "--region", "华北区")[0] == 0
    assert run(capsys, empty_db, "create-store", "天津大悦城店", "--region", "华北区")[0] == 0
    code, out, _ = run(capsys, empty_db, "create-account", "bj.guide", "--role", "guide", "--name", "李导购",
                       "--store", "北京三里屯店", "--store", "天津大悦城店", "--password", "bj-pass-123")
    assert code == 0 and "bj.guide" in out
    # the password prompt, when --password is left out
    answers = iter(["prompted-pass-1", "prompted-pass-1"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))
    assert run(capsys, empty_db, "create-account", "bj.manager", "--role", "store_manager",
               "--store", "北京三里屯店")[0] == 0
    assert run(capsys, empty_db, "create-account", "north.rm", "--role", "region_manager", "--region", "华北区",
               "--password", "rm-pass-1234")[0] == 0

    _, regions, _ = run(capsys, empty_db, "list-regions")
    _, stores, _ = run(capsys, empty_db, "list-stores")
    _, accounts, _ = run(capsys, empty_db, "list-accounts")
    assert "华北区" in regions and "北京三里屯店" in stores and "天津大悦城店" in stores
    assert "bj.guide" in accounts and "北京三里屯店,天津大悦城店" in accounts and "active" in accounts

    def login(username: str, password: str, **extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
        r = http.post("/v1/auth/login", json={"username": username, "password": password, **extra},
                      headers=VERSION_HEADERS)
        return r.status_code, r.json()

    assert login("bj.manager", "prompted-pass-1")[0] == 200
    status, body = login("bj.guide", "bj-pass-123")
    assert (status, body["code"]) == (400, "store_required")
    stores_by_name = {line.split("\t")[1]: line.split("\t")[0] for line in stores.splitlines()}
    status, body = login("bj.guide", "bj-pass-123", store_id=stores_by_name["天津大悦城店"])
    assert status == 200
    device_id = body["device_id"]

    assert run(capsys, empty_db, "set-password", "bj.guide", "--password", "new-pass-456")[0] == 0
    assert login("bj.guide", "bj-pass-123", store_id=stores_by_name["天津大悦城店"])[0] == 401
    assert login("bj.guide", "new-pass-456", store_id=stores_by_name["天津大悦城店"])[0] == 200

    _, devices, _ = run(capsys, empty_db, "list-devices")
    assert device_id in devices
    assert run(capsys, empty_db, "revoke-device", device_id)[0] == 0
    assert login("bj.guide", "new-pass-456", device_id=device_id)[1]["code"] == "device_revoked"

    r = http.post("/v1/auth/login", json={"username": "bj.manager", "password": "prompted-pass-1"},
                  headers=VERSION_HEADERS)
    manager = r.json()
    bad = {"seq": 1, "op_id": "op-1", "entity": "customer", "entity_id": "c-1",
           "fields": {"store_id": manager["store"]["id"], "name": "x", "phone": "12"},
           "hlc": dict.fromkeys(["store_id", "name", "phone"], "0000000000001-0000-pc")}
    r = http.post("/v1/sync/push", json={"device_id": manager["device_id"], "mutations": [bad]},
                  headers={**VERSION_HEADERS, "Authorization": f"Bearer {manager['access_token']}"})
    assert r.json()["results"][0]["code"] == "bad_phone"
    _, rejected, _ = run(capsys, empty_db, "list-rejected", "--device", manager["device_id"])
    assert "bad_phone" in rejected and "c-1" in rejected and "手机号" in rejected

    assert run(capsys, empty_db, "disable-account", "bj.guide")[0] == 0
    assert "disabled" in run(capsys, empty_db, "list-accounts")[1]
    assert login("bj.guide", "new-pass-456", store_id=stores_by_name["天津大悦城店"])[1]["code"] == "account_disabled"


def test_corp_tag_group_command(empty_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, empty_db, "create-region", "华北区")[0] == 0
    assert run(capsys, empty_db, "create-store", "北京店", "--region", "华北区")[0] == 0
    code, out, _ = run(capsys, empty_db, "create-corp-tag-group", "会员等级", "--tag", "银卡", "--tag", "金卡",
                       "--single", "--color", "#c9a227")
    assert code == 0 and "sent to every store" in out
    with empty_db.session() as s:
        rows = s.scalars(select(SyncRow).where(SyncRow.store_id != "")).all()
        assert {r.entity for r in rows} == {"tag_group", "tag"} and all(r.hq_owned for r in rows)
        group = next(r for r in rows if r.entity == "tag_group")
        assert group.data["multi"] is False and group.data["scope"] == "corp"
    code, _, err = run(capsys, empty_db, "create-corp-tag-group", "会员等级", "--tag", "x")
    assert code == 2 and "already exists" in err


@pytest.mark.parametrize("args, message", [
    (["create-store", "无区域店", "--region", "不存在"], "no region"),
    (["create-account", "x", "--role", "guide", "--password", "long-enough-1"], "needs at least one store"),
    (["create-account", "y", "--role", "hq_admin", "--password", "short"], "at least 8"),
    (["revoke-device", "no-such-device"], "no device"),
    (["disable-account", "nobody"], "no account"),
])
def test_refused_admin_commands_exit_2_with_a_message(empty_db: Database, capsys: pytest.CaptureFixture[str],
                                                      args: list[str], message: str) -> None:
    code, _, err = run(capsys, empty_db, *args)
    assert code == 2 and message in err


def test_seed_demo_prints_the_demo_accounts_and_refuses_twice(empty_db: Database,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, empty_db, "seed-demo", "--customers", "5")
    assert code == 0
    assert "sh01.guide1" in out and "demo-pass-2024" in out and "hq.admin" in out and "floater.guide" in out
    code, _, err = run(capsys, empty_db, "seed-demo", "--customers", "5")
    assert code == 2 and "already" in err


def test_migrations_match_the_models(hq_db_url: str) -> None:
    engine = create_engine(hq_db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            # compare_metadata does not look at column order, nor at a primary key's (its index's) order
            insp = inspect(conn)
            for table in Base.metadata.sorted_tables:
                assert [c["name"] for c in insp.get_columns(table.name)] == [c.name for c in table.columns], table
                pk = insp.get_pk_constraint(table.name)["constrained_columns"]
                assert pk == [c.name for c in table.primary_key], table
    finally:
        engine.dispose()
    assert diff == []


def test_migrate_command_is_idempotent(hq_db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "--db", hq_db_url]) == 0
    assert main(["migrate", "--db", hq_db_url]) == 0
    assert "latest schema" in capsys.readouterr().out


def test_a_seeded_book_pulls_in_pages_of_bounded_size(empty_db: Database, http: TestClient,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from tests.hq_fixtures import SyncDevice

    assert run(capsys, empty_db, "seed-demo", "--customers", "150")[0] == 0
    dev = SyncDevice(http, "gz01.guide1", "demo-pass-2024")
    dev.login()
    cursor, sizes, total = 0, [], 0
    while True:
        page = dev.pull(cursor, limit=300)
        sizes.append(len(page["rows"]))
        total += len(page["rows"])
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert len(sizes) > 1 and max(sizes) <= 300 + 500  # the limit plus at most the rest of one version
    assert total > 150


def test_processes_starting_together_migrate_once(hq_db_url: str, request: pytest.FixtureRequest,
                                                  tmp_path: Path) -> None:
    """Several ``hq serve`` processes may start at once on a fresh database (advisory lock on
    PostgreSQL, a file lock on SQLite)."""
    if hq_db_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_server").create_database(f"fresh_{tmp_path.name[-20:]}")
    procs = [subprocess.Popen([HQ_BIN, "migrate", "--db", url], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    outcomes = [(p.wait(timeout=120), p.stderr.read().decode() if p.stderr else "") for p in procs]
    assert [code for code, _ in outcomes] == [0, 0], outcomes
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        engine.dispose()


def test_moving_a_guide_between_stores_and_enabling_again(empty_db: Database, capsys: pytest.CaptureFixture[str],
                                                          http: TestClient) -> None:
    from tests.hq_fixtures import SyncDevice

    for args in (["create-region", "华北区"], ["create-store", "北京店", "--region", "华北区"],
                 ["create-store", "天津店", "--region", "华北区"],
                 ["create-account", "mover", "--role", "guide", "--store", "北京店", "--password", "mover-pass-1"],
                 ["create-account", "stay", "--role", "guide", "--store", "天津店", "--password", "stay-pass-12"]):
        assert run(capsys, empty_db, *args)[0] == 0
    beijing = SyncDevice(http, "mover", "mover-pass-1")
    beijing.login()
    tianjin = SyncDevice(http, "stay", "stay-pass-12")
    tianjin.login()
    cursor_tj = tianjin.pull()["next_cursor"]

    assert run(capsys, empty_db, "set-stores", "mover", "--store", "天津店")[0] == 0
    r = beijing.pull_raw()
    assert r.status_code == 403 and r.json()["code"] == "store_forbidden"  # left 北京店: its PC refuses him
    page = tianjin.pull(cursor_tj)
    assert "mover" in [g["name"] for g in page["org"]["guides"]]  # 天津店's PCs learn their new guide
    with pytest.raises(SystemExit):  # --store is required
        run(capsys, empty_db, "set-stores", "mover")
    code, _, err = run(capsys, empty_db, "set-stores", "stay", "--store", "上海店")
    assert code == 2 and "no store" in err

    assert run(capsys, empty_db, "disable-account", "stay")[0] == 0
    assert tianjin.pull_raw().json()["code"] == "account_disabled"
    assert run(capsys, empty_db, "enable-account", "stay")[0] == 0
    assert tianjin.pull_raw().status_code == 200
