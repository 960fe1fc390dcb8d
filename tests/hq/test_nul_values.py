"""A NUL character in what a PC sends (found by the API fuzz on PostgreSQL, whose text cannot hold
one). It used to be a 500: a push with one made every retry fail, so the PC's queue was stuck. Now a
mutation carrying one is a recorded rejection (the queue moves on), and a NUL in any other request
is a 422 invalid_request. Runs on SQLite and PostgreSQL like every HQ module."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from guide_app.domain.ids import uuid7
from hq.db import Database
from hq.models import DeviceMutation
from tests.hq_fixtures import VERSION_HEADERS, SyncDevice


def test_a_nul_in_a_pushed_row_is_a_recorded_rejection_and_the_queue_moves_on(
        device: Callable[..., SyncDevice], hq_database: Database) -> None:
    dev = device("guide.a")
    bad_name = dev.new_customer("张\x00三")
    bad_id = dev.mutation("customer", "a\x00b", {"name": "李四"})
    bad_field = dev.mutation("customer", uuid7(), {"no\x00te": "x"})
    good = dev.new_customer("王五")
    result = dev.push(bad_name, bad_id, bad_field, good)
    assert [(r["status"], r["code"]) for r in result["results"]] == [
        ("rejected", "bad_value"), ("rejected", "bad_id"), ("rejected", "unknown_field"), ("applied", "")]
    assert result["last_seq"] == good["seq"]
    again = dev.push(bad_name)  # the answer was lost: the retry repeats the refusal, not a fork or a 500
    assert again["results"][0]["status"] == "duplicate" and again["results"][0]["code"] == "bad_value"
    with hq_database.read() as s:
        kept = {m.seq: (m.status, m.payload) for m in s.scalars(
            select(DeviceMutation).where(DeviceMutation.device_id == dev.device_id))}
    status, payload = kept[bad_name["seq"]]
    assert status == "rejected" and payload is not None
    assert payload["fields"]["name"] == "张\ufffd三"  # kept, the NUL shown as U+FFFD
    rows, _cursor, _history = dev.pull_all()
    assert ("customer", good["entity_id"]) in rows and ("customer", bad_name["entity_id"]) not in rows


def test_a_nul_elsewhere_is_invalid_request_not_a_server_error(
        http: TestClient, device: Callable[..., SyncDevice], hq_db_url: str) -> None:
    dev = device("guide.a")
    answers = [
        http.post("/v1/auth/login", headers=VERSION_HEADERS,
                  json={"username": "guide\x00.a", "password": "x", "device_name": "柜台"}),
        http.post("/v1/auth/login", headers=VERSION_HEADERS,
                  json={"username": "guide.a", "password": dev.password, "device_name": "柜\x00台"}),
        http.get("/v1/leaderboards", headers=dev.headers,
                 params={"scope": "store", "metric": "sales", "period": "week", "scope_id": "a\x00"}),
        http.get("/v1/leaderboards/trend", headers=dev.headers,
                 params={"scope": "store", "metric": "sales", "scope_id": "a\x00"}),
    ]
    for r in answers:
        assert r.status_code < 500, r.text
        if hq_db_url.startswith("postgresql"):  # SQLite stores a NUL: there these are simply answered
            assert (r.status_code, r.json()["code"]) == (422, "invalid_request"), r.text
