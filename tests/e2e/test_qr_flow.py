"""QR acquisition end to end against a real ``hq serve``: a code made in the client (real SQLite through
the services) syncs up, a shopper submits the landing form (with httpx, and in headless Chromium as a
phone would), and after the next sync the customer is in the guide's book with the code's auto-tags
and source, a phone already in the book gets the tags but keeps its owner, and the code's figures
arrive on the PC."""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from guide_app.db.models import Customer, CustomerTag
from guide_app.domain.phones import normalize_phone
from guide_app.services.codes import PENDING, SYNCED, CodeInput, CodeService
from tests.e2e.chromium import PHONE_VIEWPORT, Browser, chromium_or_fail
from tests.e2e.clients import PC
from tests.e2e.hq_process import HQProcess

pytestmark = pytest.mark.e2e

DOCS = Path(__file__).resolve().parents[2] / "docs"
WELCOME = "欢迎您！到店报手机号即可领取会员礼。"


def fresh_phone(rng: random.Random) -> str:
    return f"{rng.choice(('135', '138', '139', '186', '188'))}{rng.randrange(10**8):08d}"  # valid mobile prefixes


def make_code(pc: PC, tag_name: str) -> tuple[CodeService, str, str]:
    group = pc.tags.create_group(f"扫码{tag_name}")
    tag = pc.tags.create_tag(group, tag_name)
    codes = CodeService(pc.ctx)
    code_id = codes.create(CodeInput(label="柜台活码", channel="counter", auto_tag_ids=[tag], welcome_text=WELCOME))
    return codes, code_id, tag


def customers_with_phone(pc: PC, phone: str) -> list[Customer]:
    with pc.db.read() as s:
        rows = list(s.scalars(select(Customer).where(Customer.phone == normalize_phone(phone),
                                                     Customer.deleted_hlc.is_(None))))
        for r in rows:
            s.expunge(r)
        return rows


def active_tags(pc: PC, customer_id: str) -> set[str]:
    with pc.db.read() as s:
        return set(s.scalars(select(CustomerTag.tag_id).where(
            CustomerTag.customer_id == customer_id, CustomerTag.active.is_(True),
            CustomerTag.deleted_hlc.is_(None))))


def submit_with_httpx(url: str, name: str, phone: str) -> httpx.Response:
    with httpx.Client(timeout=30) as http:
        page = http.get(url)
        assert page.status_code == 200, page.text
        token = re.search(r'name="token" value="([^"]+)"', page.text)
        assert token
        return http.post(url, data={"token": token.group(1), "name": name, "phone": phone,
                                    "consent": ["phone", "sms"]})


def test_a_code_made_in_the_client_brings_a_customer_into_the_guides_book(
    hq: HQProcess, tmp_path: Path, pcs: list[object]
) -> None:
    rng = random.Random()
    pc = PC(tmp_path / "guide1.db", hq.url, "sh01.guide1")
    colleague = PC(tmp_path / "guide2.db", hq.url, "sh01.guide2")
    pcs.extend([pc, colleague])
    pc.sync()
    codes, code_id, tag = make_code(pc, "E2E活码")
    assert codes.get(code_id).sync_state == PENDING  # made offline: not active until HQ has it
    pc.sync()
    info = codes.get(code_id)
    assert info.sync_state == SYNCED and info.url == f"{hq.url}/a/{info.code}"

    phone = fresh_phone(rng)
    r = submit_with_httpx(info.url, "赵小姐", phone)
    assert r.status_code == 200 and "提交成功" in r.text and WELCOME in r.text
    pc.sync()
    (customer,) = customers_with_phone(pc, phone)
    assert customer.name == "赵小姐" and customer.source == code_id
    assert customer.owner_guide_id == pc.ctx.actor.guide_id
    assert (customer.consent_phone, customer.consent_sms, customer.consent_wechat) == ("granted", "granted", "unknown")
    assert tag in active_tags(pc, customer.id)

    # the same phone again: no duplicate
    again = submit_with_httpx(info.url, "赵小姐", phone)
    assert again.status_code == 200
    pc.sync()
    assert [c.id for c in customers_with_phone(pc, phone)] == [customer.id]

    # a phone a colleague already has: tagged, but the colleague keeps the customer
    known_phone = fresh_phone(rng)
    known_id = colleague.create("钱先生", known_phone)
    colleague.sync()
    assert submit_with_httpx(info.url, "钱", known_phone).status_code == 200
    pc.sync()
    (known,) = customers_with_phone(pc, known_phone)
    assert known.id == known_id and known.name == "钱先生"
    assert known.owner_guide_id == colleague.ctx.actor.guide_id
    assert tag in active_tags(pc, known_id)

    stats = codes.stats(code_id).total
    assert (stats.scans, stats.leads, stats.new_customers, stats.existing_customers) == (3, 2, 1, 1)
    assert codes.get(code_id).scans == 3


def test_the_landing_page_works_in_headless_chromium(hq: HQProcess, tmp_path: Path, pcs: list[object]) -> None:
    binary = chromium_or_fail()
    pc = PC(tmp_path / "guide3.db", hq.url, "sh01.guide3")
    pcs.append(pc)
    codes, code_id, tag = make_code(pc, "E2E浏览器")
    pc.sync()
    url = codes.get(code_id).url
    phone = fresh_phone(random.Random())
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    browser = Browser(binary, profile)
    try:
        browser.open(url)
        text = browser.evaluate("document.body.innerText")
        assert "手机号" in text and "上海" in text
        width = browser.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE_VIEWPORT[0]  # no sideways scrolling on a phone
        shot = tmp_path / "landing.png"
        browser.screenshot(shot)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        if os.environ.get("GUIDE_UPDATE_SCREENSHOTS"):
            (DOCS / "landing-page.png").write_bytes(shot.read_bytes())
        # submitting without consent brings the form back with the reason
        browser.evaluate(f"document.querySelector('#name').value = '孙女士';"
                         f"document.querySelector('#phone').value = '{phone}'")
        browser.submit_and_wait()
        assert "请至少勾选一种联系方式" in browser.evaluate("document.body.innerText")
        assert browser.evaluate("document.querySelector('#phone').value") == phone
        browser.evaluate("document.querySelector('input[value=wechat]').click()")
        browser.submit_and_wait()
        assert "提交成功" in browser.evaluate("document.body.innerText")
    finally:
        browser.close()
    pc.sync()
    (customer,) = customers_with_phone(pc, phone)
    assert customer.name == "孙女士" and customer.source == code_id and customer.consent_wechat == "granted"
    assert tag in active_tags(pc, customer.id)


def test_a_missing_chromium_fails_under_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="chromium not found"):
        chromium_or_fail("no-such-chromium", "/nonexistent/chromium")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        chromium_or_fail("no-such-chromium", "/nonexistent/chromium")
