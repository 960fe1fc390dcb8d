"""Against a real ``hq serve`` process (two workers) on 127.0.0.1: health, OpenAPI, login/push/pull
over HTTP, admin CLI revocation seen by the running server, rate limits shared by workers, and
concurrent pushes from several PCs getting distinct, ordered versions that a concurrent puller
never skips."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from hq.demo import DEMO_PASSWORD
from tests.hq_fixtures import VERSION_HEADERS, HQServer, SyncDevice, seed_demo_db, start_hq_server


@pytest.fixture(scope="module")
def server(hq_db_url: str) -> Iterator[HQServer]:
    demo = seed_demo_db(hq_db_url, customers_per_store=10)
    with start_hq_server(hq_db_url, workers=2, demo=demo) as srv:
        yield srv


def pc(server: HQServer, username: str, **kw: str) -> SyncDevice:
    dev = SyncDevice(server.client(), username, DEMO_PASSWORD, **kw)  # type: ignore[arg-type]
    dev.login()
    return dev


def test_health_and_openapi(server: HQServer) -> None:
    r = httpx.get(f"{server.base_url}/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    spec = httpx.get(f"{server.base_url}/openapi.json").json()
    for path in ("/v1/auth/login", "/v1/auth/refresh", "/v1/auth/logout", "/v1/sync/push", "/v1/sync/pull"):
        assert path in spec["paths"]


def test_errors_are_error_bodies_never_traces(server: HQServer) -> None:
    with server.client() as http:
        for r in (http.get("/nope"), http.post("/v1/auth/login", content=b"{not json",
                                                   headers={"Content-Type": "application/json"}),
                  http.delete("/v1/sync/pull"), http.get("/v1/sync/pull?cursor=-1")):
            body = r.json()
            assert r.status_code >= 400 and set(body) >= {"code", "detail", "message_zh"}, r.text
            assert "Traceback" not in r.text and body["message_zh"]


def test_login_push_pull_over_http(server: HQServer) -> None:
    dev = pc(server, "sz01.guide1")
    assert dev.login_body["store"]["name"] == "深圳万象城店"
    rows, cursor, _ = dev.pull_all(limit=100)
    assert sum(1 for e, _ in rows if e == "customer") == 10
    assert sum(1 for (e, _), r in rows.items() if e == "tag_group" and r["fields"]["scope"] == "corp") >= 1
    m = dev.new_customer("真实进程客户", "+8613500009999")
    assert dev.push(m)["results"][0]["status"] == "applied"
    page = dev.pull(cursor)
    assert [r["id"] for r in page["rows"]] == [m["entity_id"]]


def test_cli_revocation_reaches_the_running_server(server: HQServer) -> None:
    dev = pc(server, "gz01.guide3")
    assert dev.pull_raw().status_code == 200
    server.admin("revoke-device", dev.device_id)
    r = dev.pull_raw()
    assert r.status_code == 401 and r.json()["code"] == "device_revoked"
    listing = server.admin("list-devices").stdout
    assert dev.device_id in listing and "revoked" in listing


def test_login_rate_limit_is_shared_by_worker_processes(server: HQServer) -> None:
    with server.client() as http:
        codes = [http.post("/v1/auth/login", json={"username": "sz01.guide3", "password": "wrong-one"}).status_code
                 for _ in range(8)]
        assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
        r = http.post("/v1/auth/login", json={"username": "sz01.guide3", "password": DEMO_PASSWORD})
        assert r.status_code == 429 and r.headers["Retry-After"]


def test_concurrent_pushes_get_distinct_ordered_versions(server: HQServer) -> None:
    devices = [pc(server, f"sh01.guide{i}") for i in (1, 2, 3)] + [pc(server, "sh01.manager")]
    start = devices[0].pull()["store_version"]
    batches: list[set[str]] = []
    lock = threading.Lock()
    errors: list[str] = []
    done = threading.Event()

    def writer(dev: SyncDevice, n: int) -> None:
        try:
            for i in range(n):
                muts = [dev.new_customer(f"{dev.username}-{i}-{j}") for j in range(3)]
                dev.push(*muts)
                with lock:
                    batches.append({m["entity_id"] for m in muts})
        except Exception as exc:  # surfaced below with the thread's context
            errors.append(repr(exc))

    seen: dict[str, int] = {}

    def reader() -> None:
        # a puller running meanwhile must never skip a version that commits after it looked
        reader_dev = pc(server, "sh01.guide1")
        cursor = start
        while True:
            finished = done.is_set()
            page = reader_dev.pull(cursor, limit=50)
            for row in page["rows"]:
                seen[row["id"]] = row["version"]
            cursor = page["next_cursor"]
            if finished and not page["has_more"]:
                return

    threads = [threading.Thread(target=writer, args=(d, 8)) for d in devices]
    pull_thread = threading.Thread(target=reader)
    pull_thread.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    pull_thread.join(timeout=60)
    assert not errors, errors
    rows, _, _ = devices[0].pull_all(start)
    by_version: dict[int, set[str]] = {}
    for (entity, row_id), row in rows.items():
        if entity == "customer":
            by_version.setdefault(row["version"], set()).add(row_id)
    assert len(by_version) == len(batches) == 32  # one distinct version per push
    assert sorted(map(frozenset, by_version.values()), key=sorted) == sorted(map(frozenset, batches), key=sorted)
    assert sorted(by_version) == list(range(start + 1, start + 33))  # contiguous, no gaps
    assert set(seen) == {i for b in batches for i in b}  # the concurrent reader missed nothing
    # each device's seq advanced exactly once per mutation
    for dev in devices:
        assert dev.push()["last_seq"] == dev.seq == 24


def test_headers_are_required_over_http(server: HQServer) -> None:
    r = httpx.post(f"{server.base_url}/v1/auth/login", json={"username": "a", "password": "b"})
    assert r.status_code == 426 and r.json()["code"] == "version_missing"
    r = httpx.post(f"{server.base_url}/v1/auth/login", json={"username": "a", "password": "b"},
                   headers={**VERSION_HEADERS, "X-Guide-Protocol": "0"})
    assert r.status_code == 426 and "请升级客户端" in r.json()["message_zh"]


def test_address_limit_counts_the_client_behind_the_balancer(server: HQServer) -> None:
    from hq import config

    with server.client() as http:
        for i in range(config.LOGIN_MAX_FAILURES_PER_ADDRESS):
            r = http.post("/v1/auth/login", json={"username": f"nobody{i}", "password": "wrong-one"},
                          headers={"X-Forwarded-For": "10.9.9.9"})
            assert r.status_code == 401
        good = {"username": "sz01.manager", "password": DEMO_PASSWORD}
        r = http.post("/v1/auth/login", json=good, headers={"X-Forwarded-For": "10.9.9.9"})
        assert r.status_code == 429
        r = http.post("/v1/auth/login", json=good, headers={"X-Forwarded-For": "10.9.9.10"})
        assert r.status_code == 200


def test_health_answers_while_a_push_holds_the_store(server: HQServer) -> None:
    """A balancer's health check must not wait for the lock a push holds (on SQLite the database's
    write lock): under pushes it would time out and take a healthy HQ out of service."""
    from hq.db import Database
    from hq.models import Store

    db = Database(server.db_url)
    try:
        with db.session() as s:
            s.get(Store, server.demo.stores["sh01"], with_for_update=True)  # what a push takes first
            r = httpx.get(f"{server.base_url}/healthz", timeout=60)
            assert r.status_code == 200 and r.json()["status"] == "ok", r.text
    finally:
        db.dispose()
