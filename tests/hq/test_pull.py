"""Pull: version order, paging without splitting a version, cursor resume, org on first page and on
change, cross-store refusal, the version window (426)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from hq import corp, org
from hq.db import Database
from tests.hq.conftest import OrgFixture
from tests.hq_fixtures import VERSION_HEADERS, SyncDevice


def test_pull_pages_in_version_order_and_resumes_from_the_cursor(device: Callable[..., SyncDevice]) -> None:
    dev = device()
    first = dev.pull()
    assert first["org"] is not None  # cursor 0 carries the org
    cursor = first["next_cursor"]
    assert first["has_more"] is False and cursor == first["store_version"]
    pushes = []
    for batch in range(4):
        muts = [dev.new_customer(f"客户{batch}-{i}") for i in range(3)]
        dev.push(*muts)
        pushes.append({m["entity_id"] for m in muts})
    seen: list[dict] = []  # type: ignore[type-arg]
    pages = 0
    while True:
        page = dev.pull(cursor, limit=2)
        pages += 1
        assert page["org"] is None  # unchanged org is not resent
        assert page["next_cursor"] >= cursor
        versions = [r["version"] for r in page["rows"]]
        assert versions == sorted(versions) and all(cursor < v <= page["next_cursor"] for v in versions)
        seen += page["rows"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert pages == 4  # a page holds whole versions: 3 rows each, limit 2
    # one push = one version, never split across pages
    by_version: dict[int, set[str]] = {}
    for row in seen:
        by_version.setdefault(row["version"], set()).add(row["id"])
    assert list(by_version.values()) == pushes
    assert cursor == page["store_version"]
    assert dev.pull(cursor)["rows"] == []


def test_page_never_splits_a_version_even_when_it_exceeds_the_limit(device: Callable[..., SyncDevice]) -> None:
    dev = device()
    start = dev.pull()["next_cursor"]
    dev.push(*[dev.new_customer(f"批量{i}") for i in range(7)])
    page = dev.pull(start, limit=3)
    assert len(page["rows"]) == 7 and page["has_more"] is False


def test_cursor_past_the_store_version_is_refused(device: Callable[..., SyncDevice]) -> None:
    dev = device()
    top = dev.pull()["store_version"]
    r = dev.pull_raw(top + 100)
    assert r.status_code == 409 and r.json()["code"] == "cursor_ahead"


def test_org_is_resent_after_it_changes(device: Callable[..., SyncDevice], hq_database: Database,
                                        test_org: OrgFixture) -> None:
    dev = device()
    cursor = dev.pull()["next_cursor"]
    with hq_database.session() as s:
        org.create_account(s, username="new.guide", password="secret-pass-1", role="guide", display_name="新导购",
                           store_refs=[test_org.store_a])
    page = dev.pull(cursor)
    assert page["org"] is not None
    assert "新导购" in [g["name"] for g in page["org"]["guides"]]
    assert page["rows"] == [] and page["next_cursor"] > cursor
    assert dev.pull(page["next_cursor"])["org"] is None
    with hq_database.session() as s:
        org.disable_account(s, "new.guide")
    page = dev.pull(page["next_cursor"])
    assert [g["active"] for g in page["org"]["guides"] if g["name"] == "新导购"] == [False]
    # a change in store B does not resend store A's org
    cursor = page["next_cursor"]
    with hq_database.session() as s:
        org.create_account(s, username="b.new", password="secret-pass-1", role="guide", store_refs=[test_org.store_b])
    assert dev.pull(cursor)["org"] is None


def test_corp_tag_groups_reach_every_store_and_are_read_only(device: Callable[..., SyncDevice],
                                                             hq_database: Database, test_org: OrgFixture) -> None:
    dev_a, dev_b = device("guide.a"), device("guide.b")
    ca, cb = dev_a.pull()["next_cursor"], dev_b.pull()["next_cursor"]
    with hq_database.session() as s:
        gid = corp.create_corp_tag_group(s, "客户等级", ["普通", "金卡"], multi=False)
    rows_a, _, _ = dev_a.pull_all(ca)
    rows_b, _, _ = dev_b.pull_all(cb)
    for rows in (rows_a, rows_b):
        assert rows[("tag_group", gid)]["fields"]["scope"] == "corp"
        assert sorted(r["fields"]["name"] for (e, _), r in rows.items() if e == "tag") == ["普通", "金卡"]
    tag_id = next(i for (e, i), r in rows_a.items() if e == "tag" and r["fields"]["name"] == "金卡")
    customer = dev_a.new_customer("金卡客户")
    body = dev_a.push(
        customer,
        dev_a.tag(customer["entity_id"], tag_id),  # corp tags may be put on customers
        dev_a.edit("tag_group", gid, name="改名"),  # but not edited
        dev_a.edit("tag", tag_id, name="改名"),
        dev_a.new_tag(gid, "加一个"),
    )
    assert [(r["status"], r["code"]) for r in body["results"]] == [
        ("applied", ""), ("applied", ""), ("rejected", "corp_read_only"), ("rejected", "corp_read_only"),
        ("rejected", "corp_read_only")]
    # a store made later starts with the corp groups
    with hq_database.session() as s:
        late = org.create_store(s, "新开店", test_org.region_a)
        org.create_account(s, username="late.guide", password="secret-pass-1", role="guide", store_refs=[late.id])
    late_dev = device("late.guide")
    rows, _, _ = late_dev.pull_all()
    assert rows[("tag_group", gid)]["fields"]["name"] == "客户等级"


def test_pull_is_scoped_to_the_device_store(device: Callable[..., SyncDevice], test_org: OrgFixture) -> None:
    dev_b = device("guide.b")
    dev_b.push(dev_b.new_customer("广州的客户", "+8613600001111"))
    dev_a = device("guide.a")
    rows, _, _ = dev_a.pull_all()
    assert all(r["fields"].get("name") != "广州的客户" for r in rows.values())
    r = dev_a.pull_raw(0, store_id=test_org.store_b)
    assert r.status_code == 403 and r.json()["code"] == "store_forbidden"
    # the multi-store guide on a PC enrolled to A still sees only A
    multi = device("multi", store_id=test_org.store_a)
    rows, _, _ = multi.pull_all()
    assert all(r["fields"].get("name") != "广州的客户" for r in rows.values())
    r = multi.pull_raw(0, store_id=test_org.store_b)
    assert r.status_code == 403


def test_version_window(http: TestClient, device: Callable[..., SyncDevice]) -> None:
    dev = device()
    for headers, code in (
        ({"X-Guide-Protocol": "99", "X-Guide-Schema": "1"}, "upgrade_required"),
        ({"X-Guide-Protocol": "1", "X-Guide-Schema": "0"}, "upgrade_required"),
        ({"X-Guide-Protocol": "abc", "X-Guide-Schema": "1"}, "upgrade_required"),
        ({}, "version_missing"),
    ):
        h = {"Authorization": f"Bearer {dev.access}", **headers}
        for r in (http.get("/v1/sync/pull", headers=h),
                  http.post("/v1/sync/push", json={"device_id": dev.device_id, "mutations": []}, headers=h),
                  http.post("/v1/auth/login", json={"username": "guide.a", "password": "x"}, headers=headers)):
            assert r.status_code == 426, r.text
            body = r.json()
            assert body["code"] == code
            assert "升级客户端" in body["message_zh"]
    assert http.get("/v1/sync/pull", headers=dev.headers).status_code == 200


def test_every_sync_answer_carries_server_time(http: TestClient, device: Callable[..., SyncDevice]) -> None:
    dev = device()
    assert dev.pull()["server_time_ms"] > 0
    assert dev.push()["server_time_ms"] > 0
    r = http.get("/v1/sync/pull", headers=VERSION_HEADERS)
    assert int(r.headers["X-Server-Time-Ms"]) > 0  # errors too, so a PC can re-base its clock


def test_a_reader_in_progress_does_not_hold_up_a_push(device: Callable[..., SyncDevice],
                                                      hq_database: Database) -> None:
    """Pulls read a snapshot (plain BEGIN under WAL on SQLite), so a long initial sync of one store
    never stalls the pushes of every store."""
    from sqlalchemy import select

    from hq.models import SyncRow

    dev = device()
    with hq_database.read() as reading:
        reading.execute(select(SyncRow.id).limit(1)).all()  # the snapshot is taken
        body = dev.push(dev.new_customer("读的时候写"))  # would wait out the busy timeout if readers locked
        assert body["results"][0]["status"] == "applied"
