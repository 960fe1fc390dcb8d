"""HQ answers a PC how many customers the signed-in person exported today on every PC, so the daily
export limit is per person, not per PC: own export entries only, from ``since_ms`` on."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from guide_app.domain.ids import uuid7
from guide_app.sync.protocol import ExportsTodayResponse
from hq.db import Database
from hq.models import SyncRow
from tests.hq_fixtures import VERSION_HEADERS, SyncDevice

PATH = "/v1/audit/exports-today"


def _entry(dev: SyncDevice, action: str, rows: int, at: int) -> dict[str, Any]:
    return dev.mutation("audit_log", uuid7(at), {"store_id": dev.store_id, "actor_id": dev.login_body["account"]["id"],
                                                 "action": action, "target": "", "detail": {"rows": rows}, "at": at})


def _ask(dev: SyncDevice, since_ms: int) -> ExportsTodayResponse:
    r = dev.http.get(PATH, params={"since_ms": since_ms}, headers=dev.headers)
    assert r.status_code == 200, r.text
    return ExportsTodayResponse.model_validate(r.json())


def test_own_exports_from_every_pc_since_the_given_moment(device: Callable[..., SyncDevice],
                                                          hq_database: Database) -> None:
    now = int(time.time() * 1000)
    midnight = now - 3_600_000
    pc_a, pc_b = device("manager.a"), device("manager.a")
    other = device("guide.a")  # another person of the same store
    yesterday = _entry(pc_a, "export", 500, midnight - 60_000)
    first = _entry(pc_a, "export", 30, midnight + 1000)
    refused = _entry(pc_a, "export_refused", 9000, midnight + 2000)  # a refusal exported nothing
    reveal = _entry(pc_a, "reveal_phone", 0, midnight + 3000)
    assert {r["status"] for r in pc_a.push(yesterday, first, refused, reveal)["results"]} == {"applied"}
    second = _entry(pc_b, "export", 12, midnight + 5000)
    theirs = _entry(other, "export", 70, midnight + 6000)
    pc_b.push(second)
    other.push(theirs)

    answer = _ask(pc_b, midnight)
    assert answer.account_id == pc_b.login_body["account"]["id"] and answer.since_ms == midnight
    assert [(e.id, e.rows) for e in answer.entries] == [(first["entity_id"], 30), (second["entity_id"], 12)]
    assert [e.id for e in _ask(pc_a, midnight + 4000).entries] == [second["entity_id"]]
    assert [(e.id, e.rows) for e in _ask(other, midnight).entries] == [(theirs["entity_id"], 70)]
    with hq_database.read() as s:  # found by actor through ix_sync_row_lookup, not by scanning the log
        lookups = dict(s.execute(select(SyncRow.id, SyncRow.lookup).where(SyncRow.entity == "audit_log")).all())
    assert lookups[first["entity_id"]] == pc_a.login_body["account"]["id"] and lookups[reveal["entity_id"]] == ""


def test_the_query_uses_the_lookup_index(device: Callable[..., SyncDevice], hq_database: Database) -> None:
    from sqlalchemy import text

    dev = device("manager.a")
    actor = dev.login_body["account"]["id"]
    with hq_database.read() as s:
        if hq_database.sqlite:
            plan = " ".join(str(r[-1]) for r in s.execute(text(
                "EXPLAIN QUERY PLAN SELECT id, data FROM sync_row WHERE entity = 'audit_log' AND lookup = :a"),
                {"a": actor}))
        else:
            s.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table: ask whether an index can serve
            plan = " ".join(str(r[0]) for r in s.execute(text(
                "EXPLAIN SELECT id, data FROM sync_row WHERE entity = 'audit_log' AND lookup = :a"), {"a": actor}))
    assert "ix_sync_row_lookup" in plan, plan


def test_signed_out_callers_are_refused(http: TestClient, device: Callable[..., SyncDevice]) -> None:
    device("manager.a")
    r = http.get(PATH, params={"since_ms": 0}, headers=VERSION_HEADERS)
    assert r.status_code == 401 and r.json()["code"]
    r = http.get(PATH, params={"since_ms": 0}, headers={**VERSION_HEADERS, "Authorization": "Bearer not-a-token"})
    assert r.status_code == 401


def test_revision_0004_fills_the_lookup_of_export_entries_already_held(hq_db_url: str,
                                                                       tmp_path_factory: pytest.TempPathFactory,
                                                                       request: pytest.FixtureRequest) -> None:
    from sqlalchemy import create_engine, text

    from hq.db import upgrade

    if hq_db_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path_factory.mktemp('hq0004') / 'hq.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_server").create_database(f"hq_0004_{uuid7()[-8:]}")
    upgrade(url, "0003_landing")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for row_id, action in (("e1", "export"), ("r1", "reveal_phone")):
                data = json.dumps({"actor_id": "acct-1", "action": action, "detail": {"rows": 3}, "at": 5})
                conn.execute(text("INSERT INTO sync_row (store_id, entity, id, version, data, hlc, hq_owned, lookup, "
                                  "customer_id) VALUES ('s', 'audit_log', :i, 1, :d, :h, false, '', '')"),
                             {"i": row_id, "d": data, "h": "{}"})
        upgrade(url)
        with engine.connect() as conn:
            found: dict[str, str] = dict(conn.execute(text("SELECT id, lookup FROM sync_row WHERE entity = 'audit_log'")).all())
    finally:
        engine.dispose()
    assert found == {"e1": "acct-1", "r1": ""}
