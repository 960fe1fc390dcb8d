"""Acquisition codes: code text, validation, writes with outbox rows, sync state, permissions, stats."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
from sqlalchemy import select, update

from guide_app.db.engine import open_database
from guide_app.db.models import AcquisitionCode, Guide, Outbox, Store, Tag, TagGroup
from guide_app.domain.codes import (
    CODE_ALPHABET,
    CODE_MAX_LENGTH,
    MIN_ENTROPY_BITS,
    end_of_day_ms,
    entropy_bits,
    is_code_text,
    new_code_text,
)
from guide_app.domain.errors import UserError
from guide_app.i18n import tr
from guide_app.services.codes import (
    CHANGES_PENDING,
    DISABLED,
    EXPIRED,
    HQ_URL_KEY,
    PENDING,
    PUBLIC_URL_KEY,
    REJECTED,
    SYNCED,
    CodeInput,
    CodeService,
    StatDay,
    replace_code_stats,
)
from guide_app.services.context import Actor, AppContext

NOW = int(dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC).timestamp() * 1000)
TODAY = dt.date(2026, 3, 10)


class Clock:
    def __init__(self) -> None:
        self.ms = NOW

    def __call__(self) -> int:
        return self.ms


@pytest.fixture()
def clock() -> Clock:
    return Clock()


def _ctx(tmp_path: Path, clock: Clock, guide: str = "g1", role: str = "guide") -> AppContext:
    db = open_database(tmp_path / "codes.db")
    ctx = AppContext(db, Actor(guide, "s1", role=role, name="王芳"), now_ms=clock)
    with db.write() as s:
        if s.get(Store, "s1") is None:
            s.add(Store(id="s1", name="南京西路店"))
            s.add_all([Guide(id="g1", store_id="s1", name="王芳"), Guide(id="g2", store_id="s1", name="李娜"),
                       Guide(id="m1", store_id="s1", name="张店长", role="store_manager"),
                       Guide(id="gone", store_id="s1", name="离职", active=False)])
            s.add(TagGroup(id="tg1", store_id="s1", scope="store", name="来源", field_hlc={}))
            s.flush()
            s.add(Tag(id="t1", group_id="tg1", name="柜台客", field_hlc={}))
        from guide_app.db.state import set_state
        set_state(s, PUBLIC_URL_KEY, "https://hq.example.com/")
    return ctx


@pytest.fixture()
def svc(tmp_path: Path, clock: Clock) -> CodeService:
    return CodeService(_ctx(tmp_path, clock))


def test_code_text_is_short_url_safe_unguessable_and_unique() -> None:
    assert entropy_bits() >= MIN_ENTROPY_BITS
    assert not set("0o1liIO") & set(CODE_ALPHABET)
    codes = [new_code_text() for _ in range(10_000)]
    assert len(set(codes)) == len(codes)
    assert all(len(c) <= CODE_MAX_LENGTH and is_code_text(c) for c in codes)
    # every symbol is used about equally (no modulo bias): 170k symbols over 31 → ~5.5k each
    counts = {ch: 0 for ch in CODE_ALPHABET}
    for c in codes:
        for ch in c:
            counts[ch] += 1
    expected = sum(counts.values()) / len(CODE_ALPHABET)
    assert all(abs(n - expected) < 6 * math.sqrt(expected) for n in counts.values())


def test_new_code_text_skips_a_taken_code() -> None:
    picks = iter("a" * 17 + "b" * 17)
    assert new_code_text({"a" * 17}, token=lambda _alphabet: next(picks)) == "b" * 17


def test_create_writes_the_row_and_its_outbox_mutation(svc: CodeService) -> None:
    cid = svc.create(CodeInput(label="柜台码", channel="counter", auto_tag_ids=["t1"], welcome_text="欢迎",
                               expires_on=TODAY + dt.timedelta(days=30)))
    info = svc.get(cid)
    assert info.url == f"https://hq.example.com/a/{info.code}"
    assert info.guide_id == "g1" and info.guide_name == "王芳" and info.store_name == "南京西路店"
    assert info.auto_tag_ids == ("t1",) and info.expires_at == end_of_day_ms(TODAY + dt.timedelta(days=30))
    assert info.state == PENDING and not info.works_when_scanned
    with svc.ctx.read() as s:
        (ob,) = s.scalars(select(Outbox)).all()
    assert ob.entity == "acquisition_code" and ob.entity_id == cid
    assert ob.fields["code"] == info.code and ob.fields["auto_tag_ids"] == ["t1"] and ob.fields["disabled"] is False
    assert set(ob.field_hlc) == set(ob.fields)


def test_state_follows_the_outbox(svc: CodeService) -> None:
    cid = svc.create(CodeInput(label="包裹卡", channel="package_card"))
    assert svc.get(cid).state == PENDING

    def mark(status: str, reason: str = "") -> None:
        with svc.ctx.db.write() as s:
            s.execute(update(Outbox).where(Outbox.status == "pending").values(status=status, reject_reason=reason))

    mark("acked")
    assert svc.get(cid).state == SYNCED and svc.get(cid).works_when_scanned
    svc.update(cid, CodeInput(label="包裹卡 3 月", channel="package_card"))
    assert svc.get(cid).state == CHANGES_PENDING and svc.get(cid).works_when_scanned
    mark("acked")
    svc.set_disabled(cid, True)
    assert svc.get(cid).state == DISABLED and not svc.get(cid).works_when_scanned

    other = svc.create(CodeInput(label="被拒", channel="poster"))
    mark("rejected", "门店不存在")
    info = svc.get(other)
    assert info.state == REJECTED and info.reject_reason == "门店不存在"


def test_expire_now_and_expiry_passing(svc: CodeService, clock: Clock) -> None:
    cid = svc.create(CodeInput(label="活动码", channel="event", expires_on=TODAY))
    assert svc.get(cid).life == "live"
    clock.ms = end_of_day_ms(TODAY) + 1
    assert svc.get(cid).state == EXPIRED
    second = svc.create(CodeInput(label="海报", channel="poster"))
    assert svc.expire_now(second) is True and svc.expire_now(second) is False
    clock.ms += 1
    assert svc.get(second).state == EXPIRED
    # saving an expired code's form without a date keeps it expired; a new date revives it
    svc.update(second, CodeInput(label="海报 新", channel="poster"))
    assert svc.get(second).state == EXPIRED
    svc.update(second, CodeInput(label="海报 新", channel="poster", expires_on=TODAY + dt.timedelta(days=9)))
    assert svc.get(second).life == "live"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (CodeInput(label="", channel="counter"), "code.label_required"),
        (CodeInput(label="长" * 41, channel="counter"), "code.label_too_long"),
        (CodeInput(label="x", channel="tv"), "code.bad_channel"),
        (CodeInput(label="x", channel="custom:  "), "code.custom_channel_required"),
        (CodeInput(label="x", channel="custom:" + "渠" * 21), "code.custom_channel_too_long"),
        (CodeInput(label="x", expires_on=TODAY - dt.timedelta(days=1)), "code.expiry_in_past"),
        (CodeInput(label="x", welcome_text="欢" * 1001), "code.welcome_too_long"),
        (CodeInput(label="x", auto_tag_ids=["nope"]), "code.unknown_tag"),
        (CodeInput(label="x", logo="not base64!"), "code.logo_unreadable"),
        (CodeInput(label="x", guide_id="g2"), "code.not_yours"),
    ],
)
def test_bad_input_is_refused_in_both_languages_and_writes_nothing(
    svc: CodeService, data: CodeInput, key: str
) -> None:
    with pytest.raises(UserError) as err:
        svc.create(data)
    assert err.value.key == key
    zh = tr(key, lang="zh_CN", **err.value.params)
    en = tr(key, lang="en", **err.value.params)
    assert zh != key and en != key and zh != en
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh)
    with svc.ctx.read() as s:
        assert s.scalars(select(AcquisitionCode)).all() == [] and s.scalars(select(Outbox)).all() == []


def test_custom_channel_is_kept(svc: CodeService) -> None:
    cid = svc.create(CodeInput(label="小红书", channel="custom: 小红书 "))
    assert svc.get(cid).channel == "custom:小红书"


def test_a_guide_edits_only_their_own_codes(tmp_path: Path, clock: Clock) -> None:
    mine = CodeService(_ctx(tmp_path, clock, "g1"))
    cid = mine.create(CodeInput(label="我的码"))
    other = CodeService(_ctx(tmp_path, clock, "g2"))
    with pytest.raises(UserError) as err:
        other.set_disabled(cid, True)
    assert err.value.key == "code.not_yours"
    assert other.list_codes() == [] and other.list_codes(whole_store=True) == []
    manager = CodeService(_ctx(tmp_path, clock, "m1", role="store_manager"))
    assert manager.set_disabled(cid, True) is True
    assert [c.id for c in manager.list_codes(whole_store=True)] == [cid]


def test_manager_generates_one_code_per_active_guide(tmp_path: Path, clock: Clock) -> None:
    guide = CodeService(_ctx(tmp_path, clock, "g1"))
    with pytest.raises(UserError) as err:
        guide.generate_for_store(CodeInput(label="柜台"))
    assert err.value.key == "code.manager_only"
    manager = CodeService(_ctx(tmp_path, clock, "m1", role="store_manager"))
    ids = manager.generate_for_store(CodeInput(label="柜台", channel="counter", auto_tag_ids=["t1"]))
    infos = {c.guide_id: c for c in manager.list_codes(whole_store=True)}
    assert set(infos) == {"g1", "g2", "m1"} and len(ids) == 3
    assert infos["g2"].label == "李娜 · 柜台" and infos["g2"].auto_tag_ids == ("t1",)
    assert len({c.code for c in infos.values()}) == 3
    with manager.ctx.read() as s:
        assert len(s.scalars(select(Outbox)).all()) == 3
    assert [c.guide_id for c in guide.list_codes()] == ["g1"]


def test_stats_are_replaced_per_code_and_summed(svc: CodeService) -> None:
    cid = svc.create(CodeInput(label="统计"))
    assert svc.stats(cid).days == ()
    with svc.ctx.db.write() as s:
        replace_code_stats(s, cid, [StatDay("2026-03-08", 10, 4, 3, 1), StatDay("2026-03-09", 5, 1, 0, 0)])
    with svc.ctx.db.write() as s:  # a later pull replaces the figures rather than adding to them
        replace_code_stats(s, cid, [StatDay("2026-03-08", 12, 4, 3, 1), StatDay("2026-03-09", 6, 2, 1, 0)])
    stats = svc.stats(cid)
    assert [d.day for d in stats.days] == ["2026-03-08", "2026-03-09"]
    assert stats.total.scans == 18 and stats.total.new_customers == 4
    assert stats.days[0].conversion == pytest.approx(4 / 12) and StatDay("x", 0, 0, 0, 0).conversion is None
    info = svc.get(cid)
    assert (info.scans, info.new_customers) == (18, 4)


def test_url_comes_from_hq_public_address_else_the_sync_address(tmp_path: Path, clock: Clock) -> None:
    from guide_app.db.state import set_state
    from guide_app.services.sync_service import HQ_URL

    assert HQ_URL == HQ_URL_KEY
    db = open_database(tmp_path / "fresh.db")
    svc = CodeService(AppContext(db, Actor("g1", "s1"), now_ms=clock))
    cid = svc.create(CodeInput(label="离线"))
    assert svc.get(cid).url == ""  # never signed in: nothing to point at (exports refuse, see render tests)
    assert CodeService(svc.ctx, public_url="https://x.cn").get(cid).url.startswith("https://x.cn/a/")
    with db.write() as s:
        set_state(s, HQ_URL_KEY, "https://hq.store.cn")
    assert svc.get(cid).url.startswith("https://hq.store.cn/a/")
    with db.write() as s:
        set_state(s, PUBLIC_URL_KEY, "https://m.brand.cn/")
    assert svc.get(cid).url == f"https://m.brand.cn/a/{svc.get(cid).code}"


def test_a_code_pulled_from_hq_is_kept_and_active(svc: CodeService) -> None:
    """A code made on another PC arrives by pull (sync's generic applier) and works at once."""
    from guide_app.services.sync_apply import PageApplier
    from guide_app.sync.protocol import RowChange

    fields = {"store_id": "s1", "guide_id": "g1", "code": "abcdefghjkmnpqrst", "label": "另一台电脑",
              "channel": "poster", "campaign_id": "", "auto_tag_ids": ["t1"], "welcome_text": "",
              "expires_at": None, "disabled": False, "logo": ""}
    stamp = "0001700000000000-0000-aaaaaaaaaaaa"
    row = RowChange(entity="acquisition_code", id="0190b5c0-0000-7000-8000-000000000001", fields=fields,
                    hlc={k: stamp for k in fields}, version=3)
    with svc.ctx.db.write() as s:
        stats = PageApplier(s, NOW).apply([row])
    assert stats.inserted == 1
    (info,) = svc.list_codes()
    assert info.code == "abcdefghjkmnpqrst" and info.auto_tag_ids == ("t1",)
    assert info.state == SYNCED and info.works_when_scanned


def test_expiry_day_ends_at_midnight_in_the_org_time_zone() -> None:
    end = end_of_day_ms(dt.date(2026, 3, 10))
    shanghai = dt.datetime.fromtimestamp((end + 1) / 1000, dt.timezone(dt.timedelta(hours=8)))
    assert shanghai == dt.datetime(2026, 3, 11, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert not is_code_text("") and not is_code_text("a" * 31) and not is_code_text("abc0") and is_code_text("a2")


def test_a_refused_edit_does_not_stop_a_code_that_hq_has(svc: CodeService) -> None:
    cid = svc.create(CodeInput(label="柜台"))
    with svc.ctx.db.write() as s:
        s.execute(update(Outbox).values(status="acked"))
    svc.update(cid, CodeInput(label="柜台 改"))
    with svc.ctx.db.write() as s:
        s.execute(update(Outbox).where(Outbox.status == "pending").values(status="rejected", reject_reason="x"))
    assert svc.get(cid).state == SYNCED and svc.get(cid).works_when_scanned
