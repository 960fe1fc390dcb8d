"""Schemathesis against the OpenAPI document of a real ``hq serve`` (SQLite and PostgreSQL), signed in as a
demo guide.

Every operation gets a bounded, derandomized number of generated requests (valid and invalid bodies,
query strings and headers). Each answer must not be a 500, must use a status code the document
lists for that operation, its body and headers must match the documented schema (ErrorBody for errors),
and a request that breaks the schema must be refused with a 4xx.
``GUIDE_FUZZ_EXAMPLES`` raises the count for a longer run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from guide_app.domain.codes import new_code_text
from guide_app.domain.ids import uuid7
from hq.demo import DEMO_PASSWORD
from tests.hq_fixtures import VERSION_HEADERS, HQServer, SyncDevice, seed_demo_db, start_hq_server

Fuzzed = tuple[HQServer, dict[str, "Session"], str]
EXAMPLES = int(os.environ.get("GUIDE_FUZZ_EXAMPLES", "25"))
OPERATIONS = (
    "GET /healthz", "POST /v1/auth/login", "POST /v1/auth/refresh", "POST /v1/auth/logout", "POST /v1/sync/push",
    "GET /v1/sync/pull", "GET /v1/packs", "GET /v1/packs/progress", "GET /v1/packs/{pack_id}/{version}",
    "GET /v1/packs/{pack_id}/progress", "GET /v1/audit/exports-today",
    "GET /v1/leaderboards", "GET /v1/leaderboards/trend", "GET /a/{text}", "HEAD /a/{text}", "POST /a/{text}",
)
# positive_data_acceptance is left out: HQ refuses schema-valid requests on business rules (a bad date,
# a store the caller may not see, an expired form token), documented by their status codes
CHECKS = [schemathesis.checks.not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance, negative_data_rejection]


class Session:
    """A signed-in demo guide: its device id and Bearer headers (version headers included)."""

    def __init__(self, server: HQServer, username: str) -> None:
        r = httpx.post(f"{server.base_url}/v1/auth/login", headers=VERSION_HEADERS, timeout=30, json={
            "username": username, "password": DEMO_PASSWORD, "device_name": "fuzz", "device_id": None,
            "store_id": None})
        assert r.status_code == 200, r.text
        body = r.json()
        self.device_id: str = body["device_id"]
        self.refresh: str = body["refresh_token"]
        self.headers = {**VERSION_HEADERS, "Authorization": f"Bearer {body['access_token']}"}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fuzz_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    if request.param == "sqlite":
        db_url = f"sqlite:///{tmp_path_factory.mktemp('hq-fuzz') / 'hq.sqlite3'}"
    else:
        db_url = request.getfixturevalue("pg_server").create_database("hq_fuzz_api")
    demo = seed_demo_db(db_url, customers_per_store=10)
    with start_hq_server(db_url, demo=demo) as server:
        # every session is made before fuzzing starts: fuzzed logins soon hit the per-address limit,
        # and the fuzzed logout/refresh end the session they are given
        sessions = {"main": Session(server, "sh01.guide1"), "logout": Session(server, "sh01.guide2"),
                    "refresh": Session(server, "sh01.guide3")}
        yield server, sessions, live_code(server)


def live_code(server: HQServer) -> str:
    """A working acquisition code, so the landing pages are fuzzed past "unknown code" too."""
    dev = SyncDevice(server.client(), "sh01.manager", DEMO_PASSWORD)
    dev.login()
    text = new_code_text()
    code = dev.mutation("acquisition_code", uuid7(), {
        "store_id": dev.store_id, "guide_id": dev.login_body["account"]["id"], "code": text, "label": "柜台码",
        "channel": "counter", "campaign_id": "", "auto_tag_ids": [], "welcome_text": "欢迎", "expires_at": None,
        "disabled": False, "logo": ""})
    assert dev.push(code)["results"][0]["status"] == "applied"
    return text


@pytest.fixture(scope="module")
def api(fuzz_server: Fuzzed) -> Any:
    server = fuzz_server[0]
    return schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")


def test_every_operation_is_fuzzed(api: Any) -> None:
    documented = {f"{op.ok().method.upper()} {op.ok().path}" for op in api.get_all_operations()}
    assert documented == set(OPERATIONS)


@pytest.mark.parametrize("label", OPERATIONS)
def test_api_answers_by_its_document(label: str, api: Any,
                                     fuzz_server: Fuzzed) -> None:
    server, sessions, code = fuzz_server
    method, path = label.split(" ", 1)
    operation = api[path][method]
    session = sessions["logout" if path.endswith("/logout") else "refresh" if path.endswith("/refresh")
                       else "main"]
    strategies = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
    if path.startswith("/a/"):
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters={"text": code}))
    cases = st.one_of(strategies)

    @given(case=cases)
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        if path.endswith("/sync/push") and isinstance(case.body, dict) and "device_id" in case.body:
            case.body["device_id"] = session.device_id  # else nearly every push stops at 403
        headers = {} if path.startswith("/a/") else dict(session.headers)
        case.call_and_validate(base_url=server.base_url, headers={**headers, **(case.headers or {})},
                               checks=CHECKS)

    run()
