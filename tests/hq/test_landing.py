"""The landing page of acquisition codes (GET/POST /a/<code>) on SQLite and PostgreSQL: the page, leads
becoming customers of the code's guide, existing phones, bad input, floods, and code stats in pulls."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import delete, func, select

from guide_app.domain.codes import new_code_text
from guide_app.domain.ids import pair_id, uuid7
from hq import landing_limits, leads
from hq.db import Database
from hq.landing_models import CodeLead, CodeStatDay
from hq.ledger import set_org_time_zone
from hq.models import Account, AccountStore, LedgerGuideDay, Store, SyncRow
from tests.hq.conftest import OrgFixture
from tests.hq_fixtures import SyncDevice

WELCOME = "欢迎加入！到店出示本页面可领取小礼品。"
SCRIPT = "<script>alert(1)</script>"


@dataclass
class Shop:
    dev: SyncDevice
    guide_id: str
    code_id: str
    code: str
    tag_id: str
    tag2_id: str


def _code_fields(dev: SyncDevice, guide_id: str, **over: Any) -> dict[str, Any]:
    return {"store_id": dev.store_id, "guide_id": guide_id, "code": new_code_text(), "label": "柜台码",
            "channel": "counter", "campaign_id": "", "auto_tag_ids": [], "welcome_text": WELCOME,
            "expires_at": None, "disabled": False, "logo": "", **over}


@pytest.fixture
def shop(device: Callable[..., SyncDevice], test_org: OrgFixture) -> Shop:
    dev = device("guide.a")
    guide_id = dev.login_body["account"]["id"]
    group = dev.new_tag_group("来源")
    tag, tag2 = dev.new_tag(group["entity_id"], "扫码新客"), dev.new_tag(group["entity_id"], "柜台")
    fields = _code_fields(dev, guide_id, auto_tag_ids=[tag["entity_id"], tag2["entity_id"]])
    code = dev.mutation("acquisition_code", uuid7(), fields)
    result = dev.push(group, tag, tag2, code)
    assert all(r["status"] == "applied" for r in result["results"]), result
    return Shop(dev, guide_id, code["entity_id"], fields["code"], tag["entity_id"], tag2["entity_id"])


def token_of(page: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def submit(http: TestClient, code: str, *, name: str = "王女士", phone: str = "13912345678",
           consent: tuple[str, ...] = ("phone", "wechat"), token: str | None = None,
           headers: dict[str, str] | None = None) -> Response:
    if token is None:
        token = token_of(http.get(f"/a/{code}").text)
    data: dict[str, Any] = {"token": token, "name": name, "phone": phone, "consent": list(consent)}
    return http.post(f"/a/{code}", data=data, headers=headers or {})


def customers(db: Database, store_id: str | None) -> list[SyncRow]:
    with db.session() as s:
        return list(s.scalars(select(SyncRow).where(SyncRow.entity == "customer", SyncRow.store_id == store_id)))


def consent_entries(db: Database, customer_id: str) -> list[tuple[str, str, str]]:
    with db.session() as s:
        rows = s.scalars(select(SyncRow).where(SyncRow.entity == "audit_log", SyncRow.data["target"].as_string()
                                               == customer_id))
        return sorted((r.data["detail"]["channel"], r.data["detail"]["value"], r.data["detail"]["method"])
                      for r in rows if r.data["action"] == "consent")


def lead_count(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(CodeLead)) or 0)


def assert_human_page(r: Response, status: int, words: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in r.text and words in r.text
    assert "Traceback" not in r.text and "<script" not in r.text


# --- the page ---------------------------------------------------------------------------------------


def test_page_shows_guide_and_store_in_chinese_and_counts_a_scan(
    http: TestClient, shop: Shop, hq_database: Database
) -> None:
    r = http.get(f"/a/{shop.code}")
    assert_human_page(r, 200, "上海店")
    assert "guide.a" in r.text and "手机号" in r.text and "您的称呼" in r.text
    # consent: unticked boxes naming each channel
    for label in ("电话", "短信", "微信"):
        assert label in r.text
    assert 'type="checkbox"' in r.text and "checked" not in r.text
    assert "http://" not in r.text and "https://" not in r.text  # no external assets
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"
    assert "noindex" in r.headers["x-robots-tag"]
    http.get(f"/a/{shop.code}")
    assert http.head(f"/a/{shop.code}").status_code == 200  # a link checker is not a scan
    assert http.head("/a/zzzzzzzzzzzzzzzzz").status_code == 404
    with hq_database.session() as s:
        assert sum(d.scans for d in s.scalars(select(CodeStatDay).where(CodeStatDay.code_id == shop.code_id))) == 2


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])  # UTC+14 / UTC-11: never one date
def test_figures_are_counted_on_the_orgs_local_day(
    http: TestClient, shop: Shop, hq_database: Database, zone: str
) -> None:
    with hq_database.session() as s:
        set_org_time_zone(s, zone)
    http.get(f"/a/{shop.code}")
    submit(http, shop.code)
    today = dt.datetime.now(ZoneInfo(zone)).date().isoformat()
    with hq_database.session() as s:
        days = [(d.day, d.scans, d.leads) for d in s.scalars(select(CodeStatDay))]
    assert days == [(today, 2, 1)]


def test_a_lead_becomes_a_customer_of_the_codes_guide_on_the_next_pull(
    http: TestClient, shop: Shop, device: Callable[..., SyncDevice], hq_database: Database
) -> None:
    other_pc = device("manager.a")
    _, cursor, _ = other_pc.pull_all()
    r = submit(http, shop.code, name="  王 女士 ", phone="139 1234 5678", consent=("phone", "wechat"))
    assert_human_page(r, 200, "提交成功")
    assert WELCOME in r.text
    page = other_pc.pull(cursor)
    got = {(row["entity"], row["id"]): row for row in page["rows"]}
    new = [row for (entity, _), row in got.items() if entity == "customer"]
    assert len(new) == 1
    c = new[0]["fields"]
    assert c["name"] == "王 女士" and c["phone"] == "+8613912345678" and c["store_id"] == shop.dev.store_id
    assert c["owner_guide_id"] == shop.guide_id and c["source"] == shop.code_id
    assert (c["consent_phone"], c["consent_sms"], c["consent_wechat"]) == ("granted", "unknown", "granted")
    assert set(new[0]["hlc"]) >= set(c) and all(s.startswith(tuple("0123456789")) for s in new[0]["hlc"].values())
    for tag_id in (shop.tag_id, shop.tag2_id):
        ct = got[("customer_tag", pair_id(new[0]["id"], tag_id))]["fields"]
        assert ct["added_hlc"] and not ct.get("removed_hlc")
    stats = {s["code_id"]: s["days"] for s in page["code_stats"]}
    (day,) = stats[shop.code_id]
    assert (day["scans"], day["leads"], day["new_customers"], day["existing_customers"]) == (1, 1, 1, 0)
    assert consent_entries(hq_database, new[0]["id"]) == [
        ("phone", "granted", "qr_landing"), ("wechat", "granted", "qr_landing")]
    # the leaderboard ledger counts a QR add for the code's guide
    with hq_database.session() as s:
        qr = s.scalar(select(func.sum(LedgerGuideDay.value)).where(
            LedgerGuideDay.metric == "qr_adds", LedgerGuideDay.guide_id == shop.guide_id))
    assert qr == 1
    # nothing changed since: the next pull carries no stats again
    assert other_pc.pull(page["next_cursor"])["code_stats"] == []


def test_an_existing_phone_keeps_its_owner_and_record_and_gets_the_tags(
    http: TestClient, shop: Shop, device: Callable[..., SyncDevice], hq_database: Database
) -> None:
    colleague = device("guide.a2")
    owner = colleague.login_body["account"]["id"]
    known = colleague.new_customer("李四", "+8613912345678", owner_guide_id=owner, consent_sms="opted_out")
    colleague.push(known)
    r = submit(http, shop.code, name="别的名字", consent=("phone", "sms"))
    assert_human_page(r, 200, "提交成功")
    rows, _, _ = colleague.pull_all()
    book = [row for (entity, _), row in rows.items() if entity == "customer"]
    assert len(book) == 1
    c = book[0]["fields"]
    assert book[0]["id"] == known["entity_id"]
    assert c["owner_guide_id"] == owner and c["name"] == "李四" and c.get("source", "") != shop.code_id
    assert c["consent_phone"] == "granted" and c["consent_sms"] == "opted_out"  # an opt-out still wins
    assert ("customer_tag", pair_id(known["entity_id"], shop.tag_id)) in rows
    assert consent_entries(hq_database, known["entity_id"]) == [("phone", "granted", "qr_landing")]
    with hq_database.session() as s:
        (day,) = s.scalars(select(CodeStatDay).where(CodeStatDay.code_id == shop.code_id))
        assert (day.leads, day.new_customers, day.existing_customers) == (1, 0, 1)
        qr = s.scalar(select(func.sum(LedgerGuideDay.value)).where(LedgerGuideDay.metric == "qr_adds"))
    assert not qr  # a re-reached customer is not a new QR add


def test_a_double_submit_lands_once(http: TestClient, shop: Shop, hq_database: Database) -> None:
    token = token_of(http.get(f"/a/{shop.code}").text)
    first = submit(http, shop.code, token=token)
    again = submit(http, shop.code, token=token)
    assert first.status_code == again.status_code == 200
    assert len(customers(hq_database, shop.dev.store_id)) == 1
    assert lead_count(hq_database) == 1
    with hq_database.session() as s:
        (day,) = s.scalars(select(CodeStatDay).where(CodeStatDay.code_id == shop.code_id))
        assert (day.scans, day.leads, day.new_customers) == (1, 1, 1)


# --- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"consent": ()}, "请至少勾选一种联系方式"),
        ({"phone": "1234"}, "位数太少"),
        ({"phone": "12345678901"}, "不是有效号码"),
        ({"phone": ""}, "请填写手机号"),
        ({"name": "王" * 3414}, "称呼最多 60 个字"),  # 10 KB of UTF-8
        ({"name": "x" * 10_240}, "称呼最多 60 个字"),
        ({"name": "   "}, "请填写您的称呼"),
        ({"token": "1.forged.token"}, "页面已过期"),
        ({"token": ""}, "页面已过期"),
    ],
)
def test_bad_input_gets_the_form_back_with_a_reason_and_nothing_lands(
    http: TestClient, shop: Shop, hq_database: Database, form: dict[str, Any], message: str
) -> None:
    r = submit(http, shop.code, **form)
    assert_human_page(r, 400, message)
    assert 'name="token"' in r.text  # the form again, with a fresh token
    assert customers(hq_database, shop.dev.store_id) == [] and lead_count(hq_database) == 0


def test_script_tags_in_every_field_come_back_inert(http: TestClient, shop: Shop, hq_database: Database) -> None:
    r = http.post(f"/a/{shop.code}", data={"token": SCRIPT, "name": SCRIPT, "phone": SCRIPT, "consent": SCRIPT})
    assert_human_page(r, 400, "&lt;script&gt;alert(1)&lt;/script&gt;")
    assert lead_count(hq_database) == 0
    r = http.get(f"/a/{SCRIPT}")
    assert_human_page(r, 404, "找不到这个二维码")
    # a name with markup is just text: stored as typed, never echoed as markup
    r = submit(http, shop.code, name=SCRIPT)
    assert_human_page(r, 200, "提交成功")
    assert customers(hq_database, shop.dev.store_id)[0].data["name"] == SCRIPT


def test_names_and_welcome_text_with_markup_are_escaped(http: TestClient, shop: Shop, hq_database: Database) -> None:
    shop.dev.push(shop.dev.edit("acquisition_code", shop.code_id, welcome_text=f"你好{SCRIPT}"))
    with hq_database.session() as s:
        store, account = s.get(Store, shop.dev.store_id), s.get(Account, shop.guide_id)
        assert store is not None and account is not None
        store.name, account.display_name = f"店{SCRIPT}", f'导购"{SCRIPT}'
    r = http.get(f"/a/{shop.code}")
    assert_human_page(r, 200, "店&lt;script&gt;")
    assert "导购&quot;&lt;script&gt;" in r.text
    r = submit(http, shop.code)
    assert_human_page(r, 200, "你好&lt;script&gt;")


def test_unknown_disabled_and_expired_codes_get_plain_pages(
    http: TestClient, shop: Shop, hq_database: Database
) -> None:
    assert_human_page(http.get("/a/zzzzzzzzzzzzzzzzz"), 404, "找不到这个二维码")
    assert_human_page(http.get("/a/NOT-A-CODE!"), 404, "找不到这个二维码")
    assert_human_page(http.get("/a/"), 404, "找不到这个二维码")
    dev = shop.dev
    expired = dev.mutation("acquisition_code", uuid7(), _code_fields(
        dev, shop.guide_id, expires_at=int(time.time() * 1000) - 1000))
    disabled = dev.mutation("acquisition_code", uuid7(), _code_fields(dev, shop.guide_id, disabled=True))
    dev.push(expired, disabled)
    assert_human_page(http.get(f"/a/{expired['fields']['code']}"), 410, "已过期")
    assert_human_page(http.get(f"/a/{disabled['fields']['code']}"), 410, "已停用")
    token = token_of(http.get(f"/a/{shop.code}").text)
    dev.push(dev.edit("acquisition_code", shop.code_id, disabled=True))
    assert_human_page(submit(http, shop.code, token=token), 410, "已停用")
    assert_human_page(http.post("/a/zzzzzzzzzzzzzzzzz", data={"name": "x"}), 404, "找不到这个二维码")
    assert customers(hq_database, dev.store_id) == [] and lead_count(hq_database) == 0


def test_a_code_of_a_guide_who_left_gets_a_plain_page(http: TestClient, shop: Shop, hq_database: Database) -> None:
    with hq_database.session() as s:
        s.execute(delete(AccountStore).where(AccountStore.account_id == shop.guide_id))
    assert_human_page(http.get(f"/a/{shop.code}"), 410, "已停用")
    with hq_database.session() as s:
        s.add(AccountStore(account_id=shop.guide_id, store_id=shop.dev.store_id))
        account = s.get(Account, shop.guide_id)
        assert account is not None
        account.disabled_at = 1
    assert_human_page(http.get(f"/a/{shop.code}"), 410, "已停用")


def test_a_flood_of_submissions_is_limited_and_lands_once(
    http: TestClient, shop: Shop, hq_database: Database
) -> None:
    token = token_of(http.get(f"/a/{shop.code}").text)
    per_address = landing_limits.LIMITS["submit"][1]
    answers = [submit(http, shop.code, token=token).status_code for _ in range(per_address + 5)]
    assert answers[:per_address] == [200] * per_address
    assert answers[per_address:] == [429] * 5
    r = submit(http, shop.code, token=token, phone="13812345678")
    assert_human_page(r, 429, "操作太频繁")
    assert int(r.headers["retry-after"]) > 0
    assert len(customers(hq_database, shop.dev.store_id)) == 1 and lead_count(hq_database) == 1


def test_scans_are_limited_per_code(http: TestClient, shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(landing_limits.LIMITS, "scan", (3, 100))
    assert [http.get(f"/a/{shop.code}").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_a_post_from_another_site_is_refused(http: TestClient, shop: Shop, hq_database: Database) -> None:
    r = submit(http, shop.code, headers={"Origin": "https://evil.example"})
    assert_human_page(r, 403, "无法提交")
    assert lead_count(hq_database) == 0
    assert submit(http, shop.code, headers={"Origin": "http://testserver"}).status_code == 200
    # a balancer that rewrites Host names the public one in X-Forwarded-Host
    assert submit(http, shop.code, phone="13812345678", headers={
        "Origin": "https://hq.example.com", "X-Forwarded-Host": "hq.example.com"}).status_code == 200


def test_a_fault_shows_a_plain_page_never_a_trace(
    http: TestClient, shop: Shop, monkeypatch: pytest.MonkeyPatch, hq_database: Database
) -> None:
    def boom(*_args: object, **_kw: object) -> None:
        raise RuntimeError("database exploded")

    monkeypatch.setattr(leads, "record_lead", boom)
    r = submit(http, shop.code)
    assert_human_page(r, 500, "系统繁忙")
    assert "exploded" not in r.text
    assert lead_count(hq_database) == 0


def test_oversized_body_is_refused_with_a_page(http: TestClient, shop: Shop) -> None:
    r = http.post(f"/a/{shop.code}", content=b"name=" + b"x" * 70_000,
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_human_page(r, 413, "太长")


# --- codes at HQ ----------------------------------------------------------------------------------


def test_code_text_guide_and_store_of_a_code_cannot_change(shop: Shop, device: Callable[..., SyncDevice]) -> None:
    dev = shop.dev
    other_guide = device("guide.a2").login_body["account"]["id"]
    result = dev.push(
        dev.edit("acquisition_code", shop.code_id, code=new_code_text()),
        dev.edit("acquisition_code", shop.code_id, guide_id=other_guide),
        dev.edit("acquisition_code", shop.code_id, store_id="0" * 36),
        dev.edit("acquisition_code", shop.code_id, label="新名字"),
    )
    assert [(r["status"], r["code"]) for r in result["results"]] == [
        ("rejected", "code_immutable"), ("rejected", "code_immutable"), ("rejected", "store_change"),
        ("applied", "")]
    assert "不能修改" in result["results"][0]["reason"]


def test_code_text_is_unique_across_stores(shop: Shop, device: Callable[..., SyncDevice]) -> None:
    other = device("guide.b")
    fields = _code_fields(other, other.login_body["account"]["id"], code=shop.code)
    result = other.push(other.mutation("acquisition_code", uuid7(), fields))
    assert result["results"][0]["code"] == "code_taken"
