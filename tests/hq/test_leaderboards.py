"""Leaderboards over a known ledger, on SQLite and PostgreSQL: every metric, period boundaries in
Asia/Shanghai while the server runs in UTC, ties, the previous period, and the anti-gaming rules.

"Now" for the boards is frozen through the app's injectable clock; every row carries its own
timestamps (created_at, at, HLC stamps), so the ledger's days are those of the data, not of the run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from guide_app.domain.hlc import Stamp
from guide_app.domain.ids import uuid7
from hq import ledger
from hq.db import Database
from hq.leaderboards import Clock, board_clock, rank
from tests.hq.conftest import OrgFixture
from tests.hq_fixtures import SyncDevice

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 18, 10, 0, tzinfo=SH)  # a Wednesday; 02:00 UTC


def ms(day: str, hm: str = "12:00", zone: ZoneInfo = SH) -> int:
    return int(dt.datetime.fromisoformat(f"{day}T{hm}").replace(tzinfo=zone).timestamp() * 1000)


def stamp(at_ms: int, dev: SyncDevice, counter: int = 0) -> str:
    return str(Stamp(at_ms, counter, dev.node))


@pytest.fixture
def frozen(hq_app: FastAPI) -> Iterator[Callable[[dt.datetime], None]]:
    def freeze(when: dt.datetime) -> None:
        hq_app.dependency_overrides[board_clock] = lambda: Clock(lambda: int(when.timestamp() * 1000))

    freeze(NOW)
    yield freeze
    hq_app.dependency_overrides.pop(board_clock, None)


class Book:
    """Writes rows with chosen timestamps through a device's push."""

    def __init__(self, dev: SyncDevice) -> None:
        self.dev = dev
        self.guide = dev.login_body["account"]["id"]
        self.ids: list[str] = []

    def push(self, entity: str, row_id: str, fields: dict[str, Any], at: int, *, deleted: bool = False) -> None:
        m = self.dev.mutation(entity, row_id, fields, deleted=deleted, stamp=stamp(at, self.dev))
        result = self.dev.push(m)
        assert result["results"][0]["status"] == "applied", result

    def customer(self, created: int, *, phone: str = "", source: str = "", owner: str | None = None) -> str:
        cid = uuid7(created)
        self.push("customer", cid, {"store_id": self.dev.store_id, "name": "客户", "phone": phone, "source": source,
                                    "owner_guide_id": owner or self.guide, "created_at": created}, created)
        return cid

    def purchase(self, customer_id: str, cents: int, at: int) -> None:
        self.push("purchase", uuid7(at), {"store_id": self.dev.store_id, "customer_id": customer_id,
                                          "guide_id": self.guide, "amount_cents": cents, "items": "外套", "at": at,
                                          "origin": "guide"}, at)

    def follow_up(self, customer_id: str, kind: str, at: int) -> None:
        self.push("follow_up", uuid7(at), {"store_id": self.dev.store_id, "customer_id": customer_id,
                                           "guide_id": self.guide, "kind": kind, "note": "回访", "at": at,
                                           "next_at": "", "done": False}, at)

    def task(self, customer_id: str, done: bool, at: int, pack: str = "pk-autumn") -> None:
        self.push("campaign_task", uuid7(at), {
            "store_id": self.dev.store_id, "pack_id": pack, "task_id": "call", "customer_id": customer_id,
            "guide_id": self.guide, "status": "done" if done else "open", "outcome": "reached" if done else "",
            "note": "", "done_at": at if done else None}, at)

    def code(self, text: str, at: int) -> str:
        code_id = uuid7(at)
        self.push("acquisition_code", code_id, {
            "store_id": self.dev.store_id, "guide_id": self.guide, "code": text, "label": "柜台", "channel": "counter",
            "campaign_id": "", "auto_tag_ids": [], "welcome_text": "", "expires_at": None, "disabled": False,
            "logo": ""}, at)
        return code_id


def get_board(dev: SyncDevice, **params: Any) -> Any:
    return dev.http.get("/v1/leaderboards", params=params, headers=dev.headers)


def board(dev: SyncDevice, **params: Any) -> dict[str, Any]:
    r = get_board(dev, **params)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def by_name(data: dict[str, Any]) -> dict[str, tuple[Any, int, Any, Any]]:
    return {r["name"]: (r["value"], r["rank"], r["prev_value"], r["prev_rank"]) for r in data["rows"]}


@pytest.fixture
def known_ledger(device: Callable[..., SyncDevice], test_org: OrgFixture) -> tuple[SyncDevice, SyncDevice]:
    a, a2 = Book(device("guide.a")), Book(device("guide.a2"))
    qr = a.code("k7m2pq", ms("2026-11-01"))
    c1 = a.customer(ms("2026-11-18", "09:00"))
    a.customer(ms("2026-11-18", "00:05"))  # 2026-11-17 16:05 UTC: today in Shanghai
    a.customer(ms("2026-11-18", "09:30"), source=f"qr:{qr}")
    a.customer(ms("2026-11-17", "23:30"))  # 15:30 UTC on the 17th: yesterday
    c5 = a.customer(ms("2026-11-16", "00:10"))  # Sunday 16:10 UTC: Monday in Shanghai, this week
    a.customer(ms("2026-11-18", "09:45"), source="import:会员名单")
    d1 = a2.customer(ms("2026-11-15", "23:50"))  # Sunday: last week
    for hm in ("07:00", "08:00", "08:30"):
        a2.customer(ms("2026-11-18", hm))
    a2.customer(ms("2026-10-20"))  # last month
    a.purchase(c1, 19900, ms("2026-11-18", "09:10"))
    a.purchase(c5, 10000, ms("2026-11-16", "00:20"))
    a2.purchase(d1, 50000, ms("2026-11-17", "20:00"))
    a.follow_up(c1, "call", ms("2026-11-18", "09:20"))
    a.follow_up(c1, "note", ms("2026-11-18", "09:25"))  # a note is not a contact
    a2.follow_up(d1, "visit", ms("2026-11-15", "20:00"))
    for i, done in enumerate((True, True, True, False)):
        a.task(c1, done, ms("2026-11-16", "10:00") + i)
    for i in range(2):
        a2.task(d1, True, ms("2026-11-16", "10:00") + 10 + i)
    return a.dev, a2.dev


def test_ranking_shares_ranks_on_ties() -> None:
    assert rank({"a": 5.0, "b": 5.0, "c": 3.0, "d": None, "e": None}) == {"a": 1, "b": 1, "c": 3, "d": 4, "e": 4}
    assert rank({}) == {}


def test_store_board_today_with_ties_and_shanghai_midnight(known_ledger: tuple[SyncDevice, SyncDevice],
                                                           frozen: Callable[[dt.datetime], None]) -> None:
    a, _ = known_ledger
    data = board(a, scope="store", metric="new_customers", period="today")
    assert (data["start"], data["end"], data["prev_start"], data["time_zone"]) == (
        "2026-11-18", "2026-11-18", "2026-11-17", "Asia/Shanghai")
    assert data["complete"] and data["total"] == 4  # guide.a, guide.a2, manager.a, multi
    rows = by_name(data)
    assert rows["guide.a"] == (3, 1, 1, 1)  # the import is not an acquisition; 00:05 counts today
    assert rows["guide.a2"] == (3, 1, 0, 2)
    assert rows["manager.a"] == (0, 3, 0, 2) and rows["multi"] == (0, 3, 0, 2)
    mine = [r for r in data["rows"] if r["is_me"]]
    assert [r["name"] for r in mine] == ["guide.a"]
    assert mine[0]["gap_to_next"] is None  # already first
    assert next(r for r in data["rows"] if r["name"] == "multi")["gap_to_next"] == 3


def test_every_metric_this_week_month_and_custom(known_ledger: tuple[SyncDevice, SyncDevice],
                                                 frozen: Callable[[dt.datetime], None]) -> None:
    a, a2 = known_ledger
    week = {m: by_name(board(a, scope="store", metric=m, period="week"))
            for m in ("new_customers", "qr_adds", "imports", "sales", "orders", "follow_ups", "task_rate")}
    assert week["new_customers"]["guide.a"] == (5, 1, 0, 2)  # Monday 00:10 Shanghai is this week
    assert week["new_customers"]["guide.a2"] == (3, 2, 1, 1)  # Sunday 23:50 is last week
    assert week["qr_adds"]["guide.a"][:2] == (1, 1) and week["qr_adds"]["guide.a2"][:2] == (0, 2)
    assert week["imports"]["guide.a"][:2] == (1, 1)
    assert week["sales"]["guide.a2"][:2] == (50000, 1) and week["sales"]["guide.a"][:2] == (29900, 2)
    assert week["orders"]["guide.a"][:2] == (2, 1) and week["orders"]["guide.a2"][:2] == (1, 2)
    assert week["follow_ups"]["guide.a"] == (1, 1, 0, 2) and week["follow_ups"]["guide.a2"] == (0, 2, 1, 1)
    assert week["task_rate"]["guide.a2"][:2] == (1.0, 1) and week["task_rate"]["guide.a"][:2] == (0.75, 2)
    assert week["task_rate"]["multi"][:2] == (None, 3)  # no tasks: no rate, ranked last
    rate_row = next(r for r in board(a, scope="store", metric="task_rate", period="week")["rows"]
                    if r["name"] == "guide.a")
    assert (rate_row["done"], rate_row["assigned"], rate_row["gap_to_next"]) == (3, 4, 0.25)

    month = board(a2, scope="store", metric="new_customers", period="month")
    assert (month["start"], month["end"], month["prev_start"], month["prev_end"]) == (
        "2026-11-01", "2026-11-30", "2026-10-01", "2026-10-31")
    assert by_name(month)["guide.a2"] == (4, 2, 1, 1) and by_name(month)["guide.a"] == (5, 1, 0, 2)

    custom = board(a, scope="store", metric="new_customers", period="custom", **{"from": "2026-11-17",
                                                                                 "to": "2026-11-17"})
    assert (custom["prev_start"], custom["prev_end"]) == ("2026-11-16", "2026-11-16")
    assert by_name(custom)["guide.a"] == (1, 1, 1, 1)


def test_week_starts_on_monday_in_shanghai(known_ledger: tuple[SyncDevice, SyncDevice],
                                           frozen: Callable[[dt.datetime], None]) -> None:
    a, _ = known_ledger
    # Sunday 23:59:59 Shanghai (15:59:59 UTC): still the week of 11-09
    frozen(dt.datetime(2026, 11, 15, 23, 59, 59, tzinfo=SH))
    sunday = board(a, scope="store", metric="new_customers", period="week")
    assert (sunday["start"], sunday["end"]) == ("2026-11-09", "2026-11-15")
    assert by_name(sunday)["guide.a2"][0] == 1
    # one second later it is Monday in Shanghai while UTC is still Sunday
    frozen(dt.datetime(2026, 11, 15, 16, 0, 0, tzinfo=dt.UTC))
    monday = board(a, scope="store", metric="new_customers", period="week")
    assert (monday["start"], monday["prev_start"]) == ("2026-11-16", "2026-11-09")
    assert by_name(monday)["guide.a"] == (5, 1, 0, 2)
    today = board(a, scope="store", metric="new_customers", period="today")
    assert today["start"] == "2026-11-16" and by_name(today)["guide.a"][0] == 1


def test_org_time_zone_is_settable_and_rebuckets(known_ledger: tuple[SyncDevice, SyncDevice], hq_database: Database,
                                                 frozen: Callable[[dt.datetime], None]) -> None:
    a, _ = known_ledger
    with hq_database.session() as s:
        ledger.set_org_time_zone(s, "UTC")
    try:
        data = board(a, scope="store", metric="new_customers", period="today")
        assert (data["time_zone"], data["start"]) == ("UTC", "2026-11-18")
        assert by_name(data)["guide.a"][0] == 2  # 00:05 Shanghai is the 17th in UTC
        with pytest.raises(ValueError):
            with hq_database.session() as s:
                ledger.set_org_time_zone(s, "Mars/Olympus")
    finally:
        with hq_database.session() as s:
            ledger.set_org_time_zone(s, "Asia/Shanghai")
    assert by_name(board(a, scope="store", metric="new_customers", period="today"))["guide.a"][0] == 3


def test_campaign_window_counts_that_campaigns_tasks(known_ledger: tuple[SyncDevice, SyncDevice],
                                                     hq_database: Database, frozen: Callable[[dt.datetime], None]) -> None:
    a, _ = known_ledger
    book = Book(a)
    c = book.customer(ms("2026-11-16", "11:00"))
    book.task(c, False, ms("2026-11-16", "11:00"), pack="pk-other")  # another campaign's task
    with hq_database.session() as s:
        from hq.models import CampaignPack

        s.add(CampaignPack(id="pk-autumn", version=1, title="秋季焕新", manifest={}, valid_from="2026-11-16",
                           valid_to="2026-11-22", status="published", size=1, sha256="0" * 64, archive=b"x",
                           published_at=0))
    data = board(a, scope="store", metric="task_rate", period="campaign", campaign="pk-autumn")
    assert (data["start"], data["end"], data["campaign_id"]) == ("2026-11-16", "2026-11-22", "pk-autumn")
    assert by_name(data)["guide.a"][0] == 0.75  # pk-other's open task is not in this campaign
    assert by_name(board(a, scope="store", metric="task_rate", period="week"))["guide.a"][0] == 0.6
    missing = get_board(a, scope="store", metric="task_rate", period="campaign", campaign="nope")
    assert missing.status_code == 404 and missing.json()["message_zh"]


def test_bad_parameters_are_refused_with_a_message(device: Callable[..., SyncDevice],
                                                   frozen: Callable[[dt.datetime], None]) -> None:
    a = device("guide.a")
    for params in ({"period": "custom"}, {"period": "custom", "from": "2026-11-20", "to": "2026-11-01"},
                   {"period": "custom", "from": "2025-01-01", "to": "2026-11-01"},
                   {"period": "custom", "from": "18/11/2026", "to": "2026-11-01"},
                   {"period": "today", "unit": "region"}):
        r = get_board(a, scope="store", metric="orders", **params)
        assert r.status_code == 400, params
        assert r.json()["code"] == "board_bad_request" and "榜单参数不正确" in r.json()["message_zh"]
        assert not any(c.isascii() and c.isalpha() for c in r.json()["message_zh"]), r.json()  # all Chinese
    assert get_board(a, scope="store", metric="height", period="today").status_code == 422
    assert a.http.get("/v1/leaderboards", params={"scope": "store", "metric": "orders", "period": "today"},
                      headers={k: v for k, v in a.headers.items() if k != "Authorization"}).status_code == 401


# --- anti-gaming ---------------------------------------------------------------------------------


def month_new(dev: SyncDevice) -> dict[str, Any]:
    return {name: v[0] for name, v in by_name(board(dev, scope="store", metric="new_customers",
                                                    period="month")).items()}


def test_merged_duplicate_counts_once_for_the_first_acquirer(device: Callable[..., SyncDevice],
                                                             frozen: Callable[[dt.datetime], None]) -> None:
    a, a2 = Book(device("guide.a")), Book(device("guide.a2"))
    # guide.a met the customer first on an offline PC; guide.a2's record reaches HQ first
    a2.customer(ms("2026-11-17", "15:00"), phone="+8613800138001")
    assert month_new(a.dev)["guide.a2"] == 1
    a.customer(ms("2026-11-17", "10:00"), phone="+8613800138001")
    counts = month_new(a.dev)
    assert (counts["guide.a"], counts["guide.a2"]) == (1, 0)
    # and the other way round: the first acquirer's record arrives first
    a.customer(ms("2026-11-17", "09:00"), phone="+8613800138002")
    a2.customer(ms("2026-11-17", "16:00"), phone="+8613800138002")
    counts = month_new(a.dev)
    assert (counts["guide.a"], counts["guide.a2"]) == (2, 0)


def test_re_add_of_a_phone_already_in_the_store_is_not_new(device: Callable[..., SyncDevice],
                                                           frozen: Callable[[dt.datetime], None]) -> None:
    a, a2 = Book(device("guide.a")), Book(device("guide.a2"))
    old = a.customer(ms("2026-10-01"), phone="+8613800138003")
    a.push("customer", old, {}, ms("2026-11-10"), deleted=True)  # deleted after 40 days: it had counted
    a2.customer(ms("2026-11-18", "09:00"), phone="+8613800138003")
    assert month_new(a.dev)["guide.a2"] == 0
    # a phone of another store is new here
    b = Book(device("guide.b"))
    b.customer(ms("2026-11-18", "09:00"), phone="+8613800138003")
    assert by_name(board(b.dev, scope="store", metric="new_customers", period="today"))["guide.b"][0] == 1


def test_transferred_customer_is_not_new_for_the_receiver(device: Callable[..., SyncDevice],
                                                          frozen: Callable[[dt.datetime], None]) -> None:
    a, a2 = Book(device("guide.a")), Book(device("guide.a2"))
    cid = a.customer(ms("2026-11-18", "09:00"), phone="+8613800138004")
    a.push("customer", cid, {"owner_guide_id": a2.guide}, ms("2026-11-18", "09:30"))  # 离职继承
    counts = month_new(a.dev)
    assert (counts["guide.a"], counts["guide.a2"]) == (1, 0)


def test_customer_deleted_within_seven_days_does_not_count(device: Callable[..., SyncDevice],
                                                           frozen: Callable[[dt.datetime], None]) -> None:
    a = Book(device("guide.a"))
    quick = a.customer(ms("2026-11-12", "10:00"), phone="+8613800138005")
    kept = a.customer(ms("2026-11-02", "10:00"), phone="+8613800138006")
    assert month_new(a.dev)["guide.a"] == 2
    a.push("customer", quick, {}, ms("2026-11-18", "09:00"), deleted=True)  # 6 days after creation
    a.push("customer", kept, {}, ms("2026-11-18", "09:00"), deleted=True)  # 16 days after
    assert month_new(a.dev)["guide.a"] == 1
    # the freed phone may be acquired again
    a.customer(ms("2026-11-18", "09:30"), phone="+8613800138005")
    assert month_new(a.dev)["guide.a"] == 2


def test_imports_count_apart_from_acquisitions(device: Callable[..., SyncDevice],
                                               frozen: Callable[[dt.datetime], None]) -> None:
    a = Book(device("guide.a"))
    for i in range(3):
        a.customer(ms("2026-11-18", "09:00") + i, phone=f"+861380013801{i}", source="import")
    a.customer(ms("2026-11-18", "09:10"), source="import:老会员表")
    a.customer(ms("2026-11-18", "09:20"), source="门店")
    today = {m: by_name(board(a.dev, scope="store", metric=m, period="today"))["guide.a"][0]
             for m in ("new_customers", "imports", "qr_adds")}
    assert today == {"new_customers": 1, "imports": 4, "qr_adds": 0}


def test_deleted_sale_and_follow_up_stop_counting(device: Callable[..., SyncDevice],
                                                  frozen: Callable[[dt.datetime], None]) -> None:
    a = Book(device("guide.a"))
    cid = a.customer(ms("2026-11-18", "09:00"))
    pid = uuid7(ms("2026-11-18", "09:05"))
    a.push("purchase", pid, {"store_id": a.dev.store_id, "customer_id": cid, "guide_id": a.guide,
                             "amount_cents": 8800, "items": "围巾", "at": ms("2026-11-18", "09:05"),
                             "origin": "guide"}, ms("2026-11-18", "09:05"))
    a.push("purchase", pid, {"amount_cents": 9900}, ms("2026-11-18", "09:06"))  # corrected amount
    assert by_name(board(a.dev, scope="store", metric="sales", period="today"))["guide.a"][0] == 9900
    a.push("purchase", pid, {}, ms("2026-11-18", "09:07"), deleted=True)
    assert by_name(board(a.dev, scope="store", metric="sales", period="today"))["guide.a"][0] == 0
    assert by_name(board(a.dev, scope="store", metric="orders", period="today"))["guide.a"][0] == 0


# --- scopes --------------------------------------------------------------------------------------


BOARDS = [
    ("store", "guide"), ("region", "guide"), ("region", "store"), ("company", "guide"), ("company", "store"),
    ("company", "region"),
]


def test_no_account_reads_a_board_or_row_outside_its_scope(device: Callable[..., SyncDevice], test_org: OrgFixture,
                                                           frozen: Callable[[dt.datetime], None]) -> None:
    o = test_org
    devs = {name: device(name, store_id=store) for name, store in (
        ("guide.a", None), ("guide.b", None), ("manager.a", None), ("rm.a", o.store_a2), ("admin", o.store_b))}
    Book(devs["guide.a"]).customer(ms("2026-11-18", "09:00"))
    Book(devs["guide.b"]).customer(ms("2026-11-18", "09:00"))
    ids = {name: d.login_body["account"]["id"] for name, d in devs.items()}
    stores_of_region = {o.region_a: {o.store_a, o.store_a2}, o.region_b: {o.store_b}}

    def allowed_rows(who: str, scope: str, scope_id: str, unit: str, rows: list[dict[str, Any]]) -> bool:
        if who == "admin":
            return True
        full_stores = {"guide.a": {o.store_a}, "guide.b": {o.store_b}, "manager.a": {o.store_a},
                       "rm.a": {o.store_a, o.store_a2}}[who]
        if scope == "store" and scope_id in full_stores:
            return True
        if who == "rm.a" and scope == "region" and scope_id == o.region_a:
            return True
        for r in rows:
            if unit == "guide":
                ok = r["key"] == ids[who] or (who == "rm.a" and r["region_id"] == o.region_a)
            elif unit == "store":
                ok = r["key"] in full_stores
            else:
                ok = r["key"] in ({o.region_a} if who != "guide.b" else {o.region_b})
            if not ok:
                return False
        return True

    targets = {"store": [o.store_a, o.store_a2, o.store_b], "region": [o.region_a, o.region_b], "company": [""]}
    seen_forbidden = 0
    for who, dev in devs.items():
        for scope, unit in BOARDS:
            for scope_id in targets[scope]:
                r = get_board(dev, scope=scope, unit=unit, scope_id=scope_id, metric="new_customers", period="today")
                if r.status_code == 403:
                    seen_forbidden += 1
                    assert r.json()["code"] == "board_forbidden" and r.json()["message_zh"] == "无权查看该榜单"
                    assert who != "admin"
                    continue
                assert r.status_code == 200, (who, scope, scope_id, r.text)
                data = r.json()
                assert allowed_rows(who, scope, scope_id, unit, data["rows"]), (who, scope, unit, scope_id, data)
                if scope == "store":
                    assert scope_id in stores_of_region[o.region_a] | stores_of_region[o.region_b]
    assert seen_forbidden > 0

    def status(who: str, **params: Any) -> int:
        return int(get_board(devs[who], metric="orders", period="week", **params).status_code)

    # a guide: their store in full, other stores never, their own row in region and company
    assert status("guide.a", scope="store", scope_id=o.store_b) == 403
    assert status("guide.a", scope="store", scope_id=o.store_a2) == 403
    assert status("guide.a", scope="region", scope_id=o.region_b) == 403
    region = board(devs["guide.a"], scope="region", unit="guide", metric="new_customers", period="today")
    assert not region["complete"] and region["total"] > 1
    assert [r["key"] for r in region["rows"]] == [ids["guide.a"]] and region["rows"][0]["rank"] == 1
    company = board(devs["guide.a"], scope="company", unit="guide", metric="new_customers", period="today")
    assert [r["rank"] for r in company["rows"]] == [1] and company["total"] == 5
    # a regional manager: the region in full, its place in the company, never another region
    assert status("rm.a", scope="region", scope_id=o.region_b) == 403
    assert status("rm.a", scope="store", scope_id=o.store_b) == 403
    rm_region = board(devs["rm.a"], scope="region", unit="store", metric="orders", period="week")
    assert rm_region["complete"] and {r["key"] for r in rm_region["rows"]} == {o.store_a, o.store_a2}
    rm_company = board(devs["rm.a"], scope="company", unit="region", metric="new_customers", period="today")
    assert [r["key"] for r in rm_company["rows"]] == [o.region_a] and rm_company["rows"][0]["is_me"]
    assert rm_company["rows"][0]["rank"] == 1 and rm_company["total"] == 2
    # HQ sees everything
    hq = board(devs["admin"], scope="company", unit="store", metric="new_customers", period="today")
    assert hq["complete"] and {r["key"] for r in hq["rows"]} == {o.store_a, o.store_a2, o.store_b}
    assert {r["rank"] for r in hq["rows"] if r["key"] in (o.store_a, o.store_b)} == {1}


def test_trend_by_week_and_its_scope(known_ledger: tuple[SyncDevice, SyncDevice], device: Callable[..., SyncDevice],
                                     test_org: OrgFixture, frozen: Callable[[dt.datetime], None]) -> None:
    a, _ = known_ledger
    r = a.http.get("/v1/leaderboards/trend", params={"scope": "store", "metric": "new_customers", "weeks": 3},
                   headers=a.headers)
    assert r.status_code == 200, r.text
    points = r.json()["points"]
    assert [(p["start"], p["value"], p["mine"]) for p in points] == [
        ("2026-11-02", 0, 0), ("2026-11-09", 1, 0), ("2026-11-16", 8, 5)]
    rate = a.http.get("/v1/leaderboards/trend", params={"scope": "store", "metric": "task_rate", "weeks": 1},
                      headers=a.headers).json()["points"]
    assert rate[0]["value"] == pytest.approx(5 / 6)
    assert a.http.get("/v1/leaderboards/trend", params={"scope": "region", "metric": "orders"},
                      headers=a.headers).status_code == 403
    rm = device("rm.a", store_id=test_org.store_a2)
    region = rm.http.get("/v1/leaderboards/trend", params={"scope": "region", "metric": "orders", "weeks": 2},
                         headers=rm.headers)
    assert region.status_code == 200 and [p["value"] for p in region.json()["points"]] == [0, 3]


def test_openapi_documents_the_board(http: TestClient) -> None:
    spec = http.get("/openapi.json").json()
    assert "/v1/leaderboards" in spec["paths"] and "LeaderboardResponse" in spec["components"]["schemas"]


def test_windows_split_into_whole_months_and_edge_days() -> None:
    from hq.leaderboards import Window, split

    def d(text: str) -> int:
        return dt.date.fromisoformat(text).toordinal()

    assert split(Window(dt.date(2026, 8, 21), dt.date(2026, 11, 18))) == [
        (False, d("2026-08-21"), d("2026-08-31")), (True, d("2026-09-01"), d("2026-10-01")),
        (False, d("2026-11-01"), d("2026-11-18"))]
    assert split(Window(dt.date(2026, 11, 1), dt.date(2026, 11, 30))) == [(True, d("2026-11-01"), d("2026-11-01"))]
    assert split(Window(dt.date(2026, 11, 16), dt.date(2026, 11, 22))) == [(False, d("2026-11-16"), d("2026-11-22"))]
    assert split(Window(dt.date(2026, 12, 1), dt.date(2027, 2, 28))) == [(True, d("2026-12-01"), d("2027-02-01"))]


def test_demo_seed_fills_the_boards(hq_database: Database) -> None:
    from sqlalchemy import func, select

    from hq.demo import seed_demo
    from hq.models import LedgerItem, Store, SyncRow
    from tests.hq.conftest import reset

    reset(hq_database)
    with hq_database.session() as s:
        seed_demo(s, customers_per_store=15)
    with hq_database.session() as s:
        counted = s.scalar(select(func.count()).select_from(LedgerItem).where(LedgerItem.entity == "customer"))
        customers = s.scalar(select(func.count()).select_from(SyncRow).where(SyncRow.entity == "customer",
                                                                            SyncRow.store_id != ""))
        assert counted == customers and counted
        store = s.scalars(select(Store)).first()
        assert store is not None and ledger.backfill(s, store, 0) == 0  # nothing is counted twice


def test_time_zone_is_set_with_the_admin_cli(hq_db_url: str, test_org: OrgFixture,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from hq.cli import main

    assert main(["admin", "set-time-zone", "Europe/Berlin", "--db", hq_db_url]) == 0
    assert "Europe/Berlin" in capsys.readouterr().out
    assert main(["admin", "set-time-zone", "Mars/Olympus", "--db", hq_db_url]) == 2
    assert "unknown time zone" in capsys.readouterr().err
    assert main(["admin", "set-time-zone", "Asia/Shanghai", "--db", hq_db_url]) == 0


def test_a_lead_from_the_landing_page_is_a_qr_add_of_the_codes_guide(
        device: Callable[..., SyncDevice], frozen: Callable[[dt.datetime], None]) -> None:
    import re

    a = Book(device("guide.a"))
    a.code("q8w3ek", ms("2026-11-01"))
    page = a.dev.http.get("/a/q8w3ek")
    assert page.status_code == 200, page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token
    sent = a.dev.http.post("/a/q8w3ek", data={"token": token.group(1), "name": "扫码客", "phone": "13912340001",
                                                 "consent": ["phone"]})
    assert sent.status_code == 200, sent.text
    frozen(dt.datetime.now(SH))  # the lead is made now
    today = {m: by_name(board(a.dev, scope="store", metric=m, period="today"))["guide.a"][0]
             for m in ("new_customers", "qr_adds")}
    assert today == {"new_customers": 1, "qr_adds": 1}


def test_a_guide_who_left_shows_only_with_figures(device: Callable[..., SyncDevice], hq_database: Database,
                                                  frozen: Callable[[dt.datetime], None]) -> None:
    from hq import org

    a, a2 = Book(device("guide.a")), Book(device("guide.a2"))
    a2.customer(ms("2026-11-18", "08:00"))
    with hq_database.session() as s:
        org.disable_account(s, "guide.a2")  # 离职: the account stops, its figures stay
    today = by_name(board(a.dev, scope="store", metric="new_customers", period="today"))
    assert today["guide.a2"][:2] == (1, 1) and today["guide.a"][:2] == (0, 2)
    month_orders = by_name(board(a.dev, scope="store", metric="orders", period="month"))
    assert "guide.a2" not in month_orders and "guide.a" in month_orders


def test_boards_answer_while_a_push_holds_the_store(device: Callable[..., SyncDevice], hq_database: Database,
                                                    test_org: OrgFixture, frozen: Callable[[dt.datetime], None]) -> None:
    """Boards only read: they must not wait for the lock a push holds (on SQLite the database's write
    lock, on PostgreSQL the store's row), or every board queues behind the pushes under load."""
    from hq.models import Store

    a = device("guide.a")
    with hq_database.session() as s:
        s.get(Store, test_org.store_a, with_for_update=True)  # what a push takes first
        assert board(a, scope="store", metric="new_customers", period="week")["rows"]
        trend = a.http.get("/v1/leaderboards/trend", params={"scope": "store", "metric": "orders"},
                           headers=a.headers)
        assert trend.status_code == 200, trend.text
