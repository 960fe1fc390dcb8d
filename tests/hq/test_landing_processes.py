"""The landing page behind several ``hq serve`` processes on one PostgreSQL: simultaneous submits of one
phone land once, and the rate limit per address is shared by every process (it lives in the database)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import delete, func, select

from guide_app.domain.codes import new_code_text
from guide_app.domain.ids import uuid7
from hq import landing_limits
from hq.db import Database
from hq.demo import DEMO_PASSWORD
from hq.landing_models import CodeLead, LandingHit
from hq.models import SyncRow
from tests.hq_fixtures import HQServer, SyncDevice, seed_demo_db, start_hq_server
from tests.pg import PostgresServer

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def two_workers(pg_server: PostgresServer) -> Iterator[HQServer]:
    url = pg_server.create_database("hq_landing_processes")
    demo = seed_demo_db(url, customers_per_store=0)
    with start_hq_server(url, workers=2, demo=demo) as server:
        yield server


def _code(server: HQServer) -> tuple[str, str]:
    with server.client() as http:
        dev = SyncDevice(http, "sh01.guide1", DEMO_PASSWORD)
        dev.login()
        text = new_code_text()
        m = dev.mutation("acquisition_code", uuid7(), {
            "store_id": dev.store_id, "guide_id": dev.login_body["account"]["id"], "code": text, "label": "并发",
            "channel": "counter", "campaign_id": "", "auto_tag_ids": [], "welcome_text": "", "expires_at": None,
            "disabled": False, "logo": ""})
        assert dev.push(m)["results"][0]["status"] == "applied"
        return m["entity_id"], text


def _submit(base_url: str, code: str, phone: str) -> int:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        token = re.search(r'name="token" value="([^"]+)"', http.get(f"/a/{code}").text)
        assert token
        return http.post(f"/a/{code}", data={"token": token.group(1), "name": "并发测试", "phone": phone,
                                             "consent": "sms"}).status_code


def test_simultaneous_submits_of_one_phone_land_once(two_workers: HQServer) -> None:
    code_id, code = _code(two_workers)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: _submit(two_workers.base_url, code, "13700001111"), range(8)))
    assert answers == [200] * 8
    db = Database(two_workers.db_url)
    try:
        with db.session() as s:
            same = s.scalar(select(func.count()).where(SyncRow.entity == "customer", SyncRow.lookup == "+8613700001111"))
            leads = s.scalar(select(func.count()).select_from(CodeLead).where(CodeLead.code_id == code_id))
    finally:
        db.dispose()
    assert (same, leads) == (1, 1)


def test_the_address_limit_is_shared_by_every_process(two_workers: HQServer) -> None:
    _, code = _code(two_workers)
    db = Database(two_workers.db_url)
    try:
        with db.session() as s:
            s.execute(delete(LandingHit))  # the other test's submits came from this address too
    finally:
        db.dispose()
    per_address = landing_limits.LIMITS["submit"][1]
    with httpx.Client(base_url=two_workers.base_url, timeout=30) as http:
        http.post("/a/zzzzzzzzzzzzzzzzz")  # an unknown code counts for nothing
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda i: _submit(two_workers.base_url, code, f"1370000{i:04d}"),
                                range(per_address + 6)))
    assert answers.count(200) == per_address and answers.count(429) == 6
