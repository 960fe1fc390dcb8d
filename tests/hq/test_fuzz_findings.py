"""What the API fuzz (tests/hq/test_fuzz_api.py) found, pinned as plain regression tests."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.hq_fixtures import VERSION_HEADERS


def test_a_body_that_is_not_json_is_422_invalid_request_on_every_auth_call(http: TestClient) -> None:
    for path in ("/v1/auth/login", "/v1/auth/refresh", "/v1/auth/logout"):
        r = http.post(path, content=b"O'\xff2\xc0u", headers={**VERSION_HEADERS, "Content-Type": "application/json"})
        assert r.status_code == 422, (path, r.text)
        assert r.json()["code"] == "invalid_request" and r.json()["message_zh"]


def test_a_landing_link_with_a_control_character_gets_the_plain_page(http: TestClient) -> None:
    r = http.get("/a/%0Aabc")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "找不到这个二维码" in r.text and "Content-Security-Policy" in r.headers


def test_each_route_documents_the_refusals_it_gives(http: TestClient) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    assert "416" in paths["/v1/packs/{pack_id}/{version}"]["get"]["responses"]
    assert paths["/v1/sync/push"]["post"]["requestBody"]["required"] is True
    assert "409" not in paths["/v1/auth/login"]["post"]["responses"]  # no blanket list any more
    assert set(paths["/a/{text}"]) == {"get", "head", "post"}
    assert "text/html" in paths["/a/{text}"]["get"]["responses"]["410"]["content"]
