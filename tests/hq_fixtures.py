"""Reusable HQ fixtures and helpers (tests/hq and tests/e2e import them).

- ``pg_server`` (session): a throwaway PostgreSQL (see tests/pg.py); fails clearly without binaries.
- ``hq_server`` (module): a real ``hq serve`` process on 127.0.0.1 over a SQLite file seeded with the
  demo org; gives ``.base_url``, ``.db_url``, ``.demo`` (accounts with passwords, store ids) and
  ``.admin(...)`` to run ``hq admin`` commands against its database.
- :func:`start_hq_server` to start one yourself (any DB URL, several workers).
- :class:`SyncDevice`: a scripted counter PC (login, make mutations with its own HLC clock, push, pull).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from guide_app.domain.hlc import Clock
from guide_app.domain.ids import pair_id, uuid7
from guide_app.sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION, SCHEMA_HEADER, SCHEMA_VERSION
from tests.pg import PostgresServer, free_port, start_postgres

VERSION_HEADERS = {PROTOCOL_HEADER: str(PROTOCOL_VERSION), SCHEMA_HEADER: str(SCHEMA_VERSION)}
REPO = Path(__file__).resolve().parents[1]
HQ_BIN = str(Path(sys.executable).with_name("hq"))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    server = start_postgres()  # raises PostgresUnavailable (a failure, not a skip) without binaries
    yield server
    server.stop()


@dataclass
class HQServer:
    base_url: str
    db_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    demo: Any = None  # hq.demo.DemoSummary when seeded

    def admin(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([HQ_BIN, "admin", *args, "--db", self.db_url], capture_output=True, text=True,
                              check=True, timeout=60)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers=VERSION_HEADERS, timeout=30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def seed_demo_db(db_url: str, customers_per_store: int = 20) -> Any:
    from hq.db import Database, upgrade
    from hq.demo import seed_demo

    upgrade(db_url)
    db = Database(db_url)
    try:
        with db.session() as session:
            return seed_demo(session, customers_per_store=customers_per_store)
    finally:
        db.dispose()


@contextmanager
def start_hq_server(db_url: str, *, workers: int = 1, demo: Any = None) -> Iterator[HQServer]:
    port = free_port()
    log_path = Path(tempfile.mkstemp(prefix="hq-serve-", suffix=".log")[1])
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [HQ_BIN, "serve", "--db", db_url, "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
             "--log-level", "warning"],
            stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env={**os.environ},
        )
    server = HQServer(f"http://127.0.0.1:{port}", db_url, proc, log_path, demo)
    try:
        deadline = time.monotonic() + 60  # a loaded 2-core CI box starts two workers slowly
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"hq serve exited with {proc.returncode}:\n{server.log()}")
            try:
                if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"hq serve did not answer /healthz in 60 s:\n{server.log()}")
            time.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log_path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def hq_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HQServer]:
    """A real ``hq serve`` on a SQLite file with the demo org (password: hq.demo.DEMO_PASSWORD)."""
    db_url = f"sqlite:///{tmp_path_factory.mktemp('hq') / 'hq.sqlite3'}"
    demo = seed_demo_db(db_url)
    with start_hq_server(db_url, demo=demo) as server:
        yield server


@dataclass
class SyncDevice:
    """A scripted counter PC talking to HQ through any httpx-compatible client (TestClient too)."""

    http: Any
    username: str
    password: str
    store_id: str | None = None
    device_name: str = "测试电脑"
    node: str = field(default_factory=lambda: uuid7().replace("-", "")[-12:])
    device_id: str = ""
    access: str = ""
    refresh: str = ""
    login_body: dict[str, Any] = field(default_factory=dict)
    seq: int = 0
    clock: Clock = field(init=False)

    def __post_init__(self) -> None:
        self.clock = Clock(self.node)

    @property
    def headers(self) -> dict[str, str]:
        return {**VERSION_HEADERS, "Authorization": f"Bearer {self.access}"}

    def login(self, **extra: Any) -> dict[str, Any]:
        body = {"username": self.username, "password": self.password, "device_name": self.device_name,
                "device_id": self.device_id or None, "store_id": self.store_id, **extra}
        r = self.http.post("/v1/auth/login", json=body, headers=VERSION_HEADERS)
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        self.device_id, self.access, self.refresh = data["device_id"], data["access_token"], data["refresh_token"]
        self.store_id = data["store"]["id"]
        self.login_body = data
        return data

    # --- mutations -------------------------------------------------------------------------------

    def mutation(self, entity: str, entity_id: str, fields: dict[str, Any], *, deleted: bool = False,
                 stamp: str | None = None) -> dict[str, Any]:
        self.seq += 1
        s = stamp or self.clock.tick()
        return {"seq": self.seq, "op_id": uuid7(), "entity": entity, "entity_id": entity_id, "fields": fields,
                "hlc": dict.fromkeys(fields, s), "deleted_hlc": s if deleted else None}

    def new_customer(self, name: str = "张三", phone: str = "", **fields: Any) -> dict[str, Any]:
        return self.mutation("customer", uuid7(), {
            "store_id": self.store_id, "name": name, "phone": phone, "created_at": int(time.time() * 1000),
            **fields})

    def edit(self, entity: str, entity_id: str, **fields: Any) -> dict[str, Any]:
        return self.mutation(entity, entity_id, fields)

    def delete(self, entity: str, entity_id: str) -> dict[str, Any]:
        return self.mutation(entity, entity_id, {}, deleted=True)

    def new_follow_up(self, customer_id: str, note: str = "电话回访") -> dict[str, Any]:
        return self.mutation("follow_up", uuid7(), {
            "store_id": self.store_id, "customer_id": customer_id, "guide_id": "", "kind": "call", "note": note,
            "at": int(time.time() * 1000), "next_at": "", "done": False})

    def new_purchase(self, customer_id: str, amount_cents: int = 19900) -> dict[str, Any]:
        return self.mutation("purchase", uuid7(), {
            "store_id": self.store_id, "customer_id": customer_id, "guide_id": "", "amount_cents": amount_cents,
            "items": "针织开衫", "at": int(time.time() * 1000), "origin": "guide"})

    def new_tag_group(self, name: str = "风格") -> dict[str, Any]:
        return self.mutation("tag_group", uuid7(), {
            "store_id": self.store_id, "scope": "store", "owner_guide_id": "", "name": name, "color": "#607d8b",
            "sort_order": 0, "multi": True})

    def new_tag(self, group_id: str, name: str = "通勤") -> dict[str, Any]:
        return self.mutation("tag", uuid7(), {"group_id": group_id, "name": name, "sort_order": 0})

    def tag(self, customer_id: str, tag_id: str) -> dict[str, Any]:
        s = self.clock.tick()
        return self.mutation("customer_tag", pair_id(customer_id, tag_id), {
            "store_id": self.store_id, "customer_id": customer_id, "tag_id": tag_id, "added_hlc": s}, stamp=s)

    def untag(self, customer_id: str, tag_id: str, observed_added: str) -> dict[str, Any]:
        return self.mutation("customer_tag", pair_id(customer_id, tag_id), {"removed_hlc": observed_added})

    # --- calls -----------------------------------------------------------------------------------

    def push_raw(self, mutations: list[dict[str, Any]], device_id: str | None = None) -> Any:
        return self.http.post("/v1/sync/push", json={"device_id": device_id or self.device_id,
                                                     "mutations": mutations}, headers=self.headers)

    def push(self, *mutations: dict[str, Any]) -> dict[str, Any]:
        r = self.push_raw(list(mutations))
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result

    def pull_raw(self, cursor: int = 0, limit: int = 500, **params: Any) -> Any:
        return self.http.get("/v1/sync/pull", params={"cursor": cursor, "limit": limit, **params},
                             headers=self.headers)

    def pull(self, cursor: int = 0, limit: int = 500) -> dict[str, Any]:
        r = self.pull_raw(cursor, limit)
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result

    def pull_all(self, cursor: int = 0, limit: int = 500) -> tuple[dict[tuple[str, str], dict[str, Any]], int,
                                                                    list[dict[str, Any]]]:
        """Every row (latest state) from ``cursor`` on, the final cursor, and the history entries."""
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        history: list[dict[str, Any]] = []
        while True:
            page = self.pull(cursor, limit)
            for row in page["rows"]:
                rows[(row["entity"], row["id"])] = row
            history += page["history"]
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return rows, cursor, history
