"""Search while typing, filters, stages and sort of the customer list, on a real SQLite file."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from guide_app.db.customer_list import fts_phrase, normalize_query
from guide_app.db.models import Guide
from guide_app.domain.errors import UserError
from guide_app.domain.stages import StageThresholds
from guide_app.services.context import AppContext
from guide_app.services.customer_query import CustomerFilter, CustomerQuery, TagFilter
from guide_app.services.customers import CustomerInput, CustomerService
from guide_app.services.settings import SettingsService
from guide_app.services.tags import TagService
from tests.unit.services.conftest import DAY, T0, FakeTime, add_customer


@pytest.fixture()
def book(ctx: AppContext) -> dict[str, str]:
    with ctx.db.write() as s:
        s.add(Guide(id="guide-1", store_id="store-1", name="小王"))
    return {
        "zhang": add_customer(ctx, "张三", "13812345678", "zs_wx88"),
        "li": add_customer(ctx, "李四", "139 0000 4321", "lisi2024"),
        "wang": add_customer(ctx, "王小明", "+86 137 5555 6666"),
        "zeng": add_customer(ctx, "曾志伟", "", "Zeng_Wei"),
        "anna": add_customer(ctx, "Anna Li", "18612340000"),
    }


def names(ctx: AppContext, f: CustomerFilter) -> list[str]:
    q = CustomerQuery(ctx)
    return [r.name for r in q.rows(q.ids(f))]


def found(ctx: AppContext, text_: str) -> set[str]:
    return set(names(ctx, CustomerFilter(text=text_)))


def test_search_by_name_pinyin_initials_and_full(ctx: AppContext, book: dict[str, str]) -> None:
    assert found(ctx, "张三") == {"张三"}
    assert found(ctx, "张") == {"张三"}
    assert found(ctx, "王小明") == {"王小明"}
    assert found(ctx, "小明") == {"王小明"}  # 2 characters: the given name too
    assert found(ctx, "zs") == {"张三"}
    assert found(ctx, "ZS") == {"张三"}
    assert found(ctx, "zhangs") == {"张三"}
    assert found(ctx, "zhang san") == {"张三"}
    assert found(ctx, "wxm") == {"王小明"}
    assert found(ctx, "xiaoming") == {"王小明"}  # 3+ characters match anywhere in the pinyin
    assert found(ctx, "zzw") == {"曾志伟"}
    assert found(ctx, "zengzhi") == {"曾志伟"}
    assert found(ctx, "anna") == {"Anna Li"}
    assert found(ctx, "anna li") == {"Anna Li"}


def test_one_character_queries_are_prefixes_over_every_key(ctx: AppContext, book: dict[str, str]) -> None:
    assert found(ctx, "z") == {"张三", "曾志伟"}  # initials / full pinyin / wechat starting with z
    assert found(ctx, "l") == {"李四"}  # lisi2024 and li si; "Anna Li" starts with a
    assert found(ctx, "a") == {"Anna Li"}


def test_one_or_two_characters_of_the_given_name_find_the_customer(ctx: AppContext, book: dict[str, str]) -> None:
    for name in ("欧阳娜娜", "王芳", "李明辉", "Wang Xiaoming", "夏雨"):
        add_customer(ctx, name)
    assert found(ctx, "小明") == {"王小明"}
    assert found(ctx, "xm") == {"王小明"}  # initials of 小明 (py_initials wxm)
    assert found(ctx, "XM") == {"王小明"}
    assert found(ctx, "娜娜") == {"欧阳娜娜"}  # after the compound surname 欧阳
    assert found(ctx, "nn") == {"欧阳娜娜"}
    assert found(ctx, "阳娜") == set()  # 阳 belongs to the surname, not the given name
    assert found(ctx, "ou") == {"欧阳娜娜"}  # the surname still works
    assert found(ctx, "芳") == {"王芳"}  # one-character given name
    assert found(ctx, "明") == {"王小明", "李明辉"}  # one Chinese character: given name's first or last
    assert found(ctx, "小") == {"王小明"}
    assert found(ctx, "雨") == {"夏雨"}
    assert found(ctx, "xi") == {"Wang Xiaoming", "夏雨"}  # Latin letters: the words after the first; xia
    assert found(ctx, "li") == {"李四", "李明辉", "Anna Li"}
    assert found(ctx, "x") == {"夏雨"}  # one letter: surnames only, never the given name
    assert found(ctx, "m") == set()
    assert found(ctx, "w") == {"王小明", "王芳", "Wang Xiaoming"}
    assert found(ctx, "xiaom") == {"王小明", "Wang Xiaoming"}  # 3+ characters: the FTS as before


def test_given_name_keys_follow_a_rename(ctx: AppContext, book: dict[str, str]) -> None:
    service = CustomerService(ctx)
    data = CustomerInput.from_customer(service.get(book["wang"]))
    data.name = "王大明"
    service.update(book["wang"], data)
    assert found(ctx, "小明") == set() and found(ctx, "xm") == set()
    assert found(ctx, "大明") == {"王大明"} and found(ctx, "dm") == {"王大明"}


def test_search_by_phone_digits(ctx: AppContext, book: dict[str, str]) -> None:
    assert found(ctx, "5678") == {"张三"}  # last four
    assert found(ctx, "1234") == {"张三", "Anna Li"}  # middle digits
    assert found(ctx, "4321") == {"李四"}
    assert found(ctx, "5555 6666") == {"王小明"}
    assert found(ctx, "137-5555-6666") == {"王小明"}
    assert found(ctx, "+86 13812345678") == {"张三"}
    assert found(ctx, "138") == {"张三"}  # 3 digits: phone prefix, not any substring
    assert found(ctx, "13") == {"张三", "李四", "王小明"}
    assert found(ctx, "000") == set()  # 3 digits never match the middle of a phone
    assert found(ctx, "2024") == {"李四"}  # digits in a wechat id


def test_search_by_wechat_id(ctx: AppContext, book: dict[str, str]) -> None:
    assert found(ctx, "zs_wx") == {"张三"}
    assert found(ctx, "wx88") == {"张三"}
    assert found(ctx, "zeng_w") == {"曾志伟"}


@pytest.mark.parametrize("query", ['"', 'a"b', '"张三"', "zs*", "a OR b", "NEAR(a b)", "-x", "'", "^zh", "{name}:zs"])
def test_fts_syntax_in_a_query_is_matched_literally(ctx: AppContext, book: dict[str, str], query: str) -> None:
    assert CustomerQuery(ctx).ids(CustomerFilter(text=query)) is not None
    assert fts_phrase('a"b') == '"a""b"'


def test_deleted_customers_and_other_stores_never_listed(ctx: AppContext, book: dict[str, str]) -> None:
    CustomerService(ctx).delete(book["li"])
    other = AppContext(ctx.db, type(ctx.actor)("guide-2", "store-2"))
    add_customer(other, "张三丰", "13800001111")
    assert found(ctx, "张三") == {"张三"}
    assert found(ctx, "4321") == set()
    assert CustomerQuery(ctx).count(CustomerFilter()) == 4
    assert CustomerQuery(other).count(CustomerFilter(text="zs")) == 1
    with ctx.db.write() as s:  # merged by HQ into 张三
        s.execute(text("UPDATE customer SET merged_into = :z WHERE id = :w"), {"z": book["zhang"], "w": book["wang"]})
    assert "王小明" not in names(ctx, CustomerFilter())


def test_rows_keep_the_requested_order_and_carry_display_fields(ctx: AppContext, book: dict[str, str]) -> None:
    q = CustomerQuery(ctx)
    pks = q.ids()
    rows = q.rows(list(reversed(pks[:3])))
    assert [r.pk for r in rows] == list(reversed(pks[:3]))
    zhang = q.rows(q.ids(CustomerFilter(text="zs")))[0]
    assert zhang.phone == "+8613812345678" and zhang.wechat_id == "zs_wx88"
    assert zhang.owner_name == "小王" and zhang.stage == "new" and zhang.order_count == 0
    assert q.rows([]) == [] and q.rows([999_999]) == []


def test_sort_by_name_follows_pinyin(ctx: AppContext, book: dict[str, str]) -> None:
    CustomerService(ctx).delete(book["zeng"])  # 曾 sorts under its common reading ceng (pypinyin)
    assert names(ctx, CustomerFilter()) == ["Anna Li", "李四", "王小明", "张三"]
    assert names(ctx, CustomerFilter(descending=True)) == ["张三", "王小明", "李四", "Anna Li"]


def test_sort_by_created_and_by_last_purchase_nulls_last(ctx: AppContext, fake_time: FakeTime) -> None:
    from guide_app.services.purchases import PurchaseService

    ids = []
    for n in ("甲", "乙", "丙", "丁"):
        ids.append(add_customer(ctx, n))
        fake_time.ms += 1000
    p = PurchaseService(ctx)
    fake_time.ms += DAY
    p.record(ids[2], "10")
    fake_time.ms += DAY
    p.record(ids[0], "10")
    assert names(ctx, CustomerFilter(sort="created")) == ["甲", "乙", "丙", "丁"]
    assert names(ctx, CustomerFilter(sort="created", descending=True)) == ["丁", "丙", "乙", "甲"]
    assert names(ctx, CustomerFilter(sort="last_purchase"))[:2] == ["丙", "甲"]
    assert names(ctx, CustomerFilter(sort="last_purchase", descending=True))[:2] == ["甲", "丙"]
    assert set(names(ctx, CustomerFilter(sort="last_purchase", descending=True))[2:]) == {"乙", "丁"}


def _tagged_book(ctx: AppContext, book: dict[str, str]) -> dict[str, str]:
    t = TagService(ctx)
    level = t.create_group("等级", multi=False)
    likes = t.create_group("偏好")
    tags = {n: t.create_tag(level, n) for n in ("金卡", "银卡")}
    tags |= {n: t.create_tag(likes, n) for n in ("护肤", "彩妆", "香水")}
    t.assign([book["zhang"], book["li"]], tags["金卡"])
    t.assign([book["wang"]], tags["银卡"])
    t.assign([book["zhang"], book["wang"]], tags["护肤"])
    t.assign([book["li"]], tags["彩妆"])
    t.assign([book["zeng"]], tags["香水"])
    return tags


def test_tag_filter_or_within_group_and_across_groups_none_of(ctx: AppContext, book: dict[str, str]) -> None:
    tg = _tagged_book(ctx, book)

    def by_tags(groups: tuple[tuple[str, ...], ...], none_of: tuple[str, ...] = (), q: str = "") -> set[str]:
        return set(names(ctx, CustomerFilter(text=q, tags=TagFilter(groups, none_of))))

    assert by_tags(((tg["金卡"],),)) == {"张三", "李四"}
    assert by_tags(((tg["金卡"], tg["银卡"]),)) == {"张三", "李四", "王小明"}  # OR within a group
    assert by_tags(((tg["金卡"], tg["银卡"]), (tg["护肤"],))) == {"张三", "王小明"}  # AND across groups
    assert by_tags(((tg["金卡"],), (tg["护肤"], tg["彩妆"]))) == {"张三", "李四"}
    assert by_tags((), (tg["金卡"],)) == {"王小明", "曾志伟", "Anna Li"}
    assert by_tags(((tg["护肤"],),), (tg["金卡"],)) == {"王小明"}
    assert by_tags(((tg["金卡"],),), q="zs") == {"张三"}  # combined with a search
    assert by_tags(((tg["金卡"],),), q="5678") == {"张三"}
    assert by_tags(((tg["银卡"],),), q="zs") == set()
    assert by_tags(((), (tg["香水"],))) == {"曾志伟"}  # an empty group is no constraint
    assert CustomerQuery(ctx).count(CustomerFilter(tags=TagFilter(((tg["金卡"], tg["银卡"]),)))) == 3


def test_rows_and_detail_show_tags_with_group_colour(ctx: AppContext, book: dict[str, str]) -> None:
    tg = _tagged_book(ctx, book)
    q = CustomerQuery(ctx)
    row = q.rows(q.ids(CustomerFilter(text="zs")))[0]
    assert row.tags == [("金卡", "#607d8b"), ("护肤", "#607d8b")]
    d = q.detail(book["zhang"])
    assert [(t.name, t.group_name, t.multi) for t in d.tags] == [("金卡", "等级", False), ("护肤", "偏好", True)]
    assert d.tags[0].tag_id == tg["金卡"]


def test_owner_filter(ctx: AppContext, book: dict[str, str]) -> None:
    add_customer(ctx, "赵六", owner_guide_id="guide-9")
    assert names(ctx, CustomerFilter(owner_guide_id="guide-9")) == ["赵六"]
    assert len(names(ctx, CustomerFilter(owner_guide_id="guide-1"))) == 5


def _set_times(ctx: AppContext, cid: str, created: int, last_buy: int | None, manual: str = "") -> None:
    with ctx.db.write() as s:
        s.execute(text("UPDATE customer SET created_at = :c, last_purchase_at = :l, stage = :m WHERE id = :id"),
                  {"c": created, "l": last_buy, "m": manual, "id": cid})


def test_stage_filter_matches_derived_stage_at_every_boundary(ctx: AppContext) -> None:
    t = StageThresholds()  # new 30, sleeping 90, lost 180 days
    now = T0
    cases = {
        # never bought: new up to and including 30 days, sleeping up to 180, then lost
        "n_30": (now - 30 * DAY, None, "new"),
        "n_31": (now - 30 * DAY - 1, None, "sleeping"),
        "n_180": (now - 180 * DAY, None, "sleeping"),
        "n_180+": (now - 180 * DAY - 1, None, "lost"),
        # bought: active below 90 idle days, sleeping from 90, lost from 180
        "b_89": (now - 400 * DAY, now - 90 * DAY + 1, "active"),
        "b_90": (now - 400 * DAY, now - 90 * DAY, "sleeping"),
        "b_179": (now - 400 * DAY, now - 180 * DAY + 1, "sleeping"),
        "b_180": (now - 400 * DAY, now - 180 * DAY, "lost"),
        "b_today": (now - 1 * DAY, now, "active"),
    }
    for name, (created, last, _stage) in cases.items():
        _set_times(ctx, add_customer(ctx, name), created, last)
    manual = add_customer(ctx, "manual")
    _set_times(ctx, manual, now - 400 * DAY, now, manual="lost")  # the override beats the data
    q = CustomerQuery(ctx)
    rows = {r.name: r.stage for r in q.rows(q.ids())}
    assert rows == {**{n: s for n, (_c, _l, s) in cases.items()}, "manual": "lost"}
    for stage in ("new", "active", "sleeping", "lost"):
        assert set(names(ctx, CustomerFilter(stage=stage))) == {n for n, s in rows.items() if s == stage}, stage
    assert t == SettingsService(ctx).stage_thresholds()


def test_stage_filter_follows_configured_thresholds(ctx: AppContext) -> None:
    cid = add_customer(ctx, "甲")
    _set_times(ctx, cid, T0 - 400 * DAY, T0 - 20 * DAY)
    assert names(ctx, CustomerFilter(stage="active")) == ["甲"]
    SettingsService(ctx).set_stage_thresholds(StageThresholds(new_days=7, sleeping_days=14, lost_days=60))
    assert names(ctx, CustomerFilter(stage="sleeping")) == ["甲"]
    q = CustomerQuery(ctx)
    assert q.rows(q.ids())[0].stage == "sleeping"


def test_bad_filter_values_are_user_errors(ctx: AppContext) -> None:
    with pytest.raises(UserError) as err:
        CustomerQuery(ctx).ids(CustomerFilter(stage="vip"))
    assert err.value.key == "book.bad_stage_filter"
    with pytest.raises(UserError):
        CustomerQuery(ctx).ids(CustomerFilter(sort="phone"))  # type: ignore[arg-type]


def test_normalize_query() -> None:
    assert normalize_query("  ") is None
    assert normalize_query("Zhang San") == normalize_query("zhangsan")
    term = normalize_query("138-1234 5678")
    assert term is not None and term.digits and term.text == "13812345678"
    term = normalize_query("+86 138 1234 5678")
    assert term is not None and term.text == "13812345678"


_SORT_INDEX = {"name": "ix_customer_store_sort", "created": "ix_customer_store_created",
               "last_purchase": "ix_customer_store_lastbuy"}


def _no_book_scan(plan: list[str]) -> None:
    for line in plan:
        assert not (line.startswith("SCAN") and line.split()[1] in ("c", "customer", "customer_tag", "ct",
                                                                      "customer_search")), plan


def test_search_and_filters_use_indexes_never_scan_the_book(ctx: AppContext, book: dict[str, str]) -> None:
    tg = _tagged_book(ctx, book)
    q = CustomerQuery(ctx)
    filters = [
        CustomerFilter(),
        CustomerFilter(text="z"),
        CustomerFilter(text="zs"),
        CustomerFilter(text="zhangs"),
        CustomerFilter(text="小明"),
        CustomerFilter(text="xm"),
        CustomerFilter(text="明"),
        CustomerFilter(text="5678"),
        CustomerFilter(text="138"),
        CustomerFilter(tags=TagFilter(((tg["金卡"], tg["银卡"]), (tg["护肤"],)), (tg["香水"],))),
        CustomerFilter(text="zs", tags=TagFilter(((tg["金卡"],),)), stage="new", sort="created"),
        CustomerFilter(sort="last_purchase"),
        CustomerFilter(sort="last_purchase", descending=True),
        CustomerFilter(sort="created", descending=True),
        CustomerFilter(stage="sleeping", owner_guide_id="guide-1"),
        CustomerFilter(stage="lost", sort="last_purchase"),
    ]
    for f in filters:
        plan = q.query_plan(f)
        _no_book_scan(plan)
        if not f.text and not f.tags.active:  # the sort index alone answers, in order: no sort step
            assert plan == [f"SEARCH c USING INDEX {_SORT_INDEX[f.sort]} (store_id=?)"], (f, plan)
        if f.text:
            assert any("customer_fts" in line or "customer_search USING COVERING INDEX" in line for line in plan)
            assert any("SEARCH c USING INTEGER PRIMARY KEY" in line for line in plan), plan
        elif f.tags.active:
            assert any("ix_customer_tag_tag_active" in line for line in plan), plan


def test_given_name_search_reads_the_tail_indexes(ctx: AppContext, book: dict[str, str]) -> None:
    q = CustomerQuery(ctx)
    for query, index in (("小明", "name_tail"), ("xm", "py_initials_tail"), ("明", "name_last"), ("明", "name_tail")):
        plan = q.query_plan(CustomerFilter(text=query))
        _no_book_scan(plan)
        assert any(f"COVERING INDEX ix_customer_search_{index} (store_id=?" in line for line in plan), (query, plan)
    assert not any("_tail" in line or "name_last" in line for line in q.query_plan(CustomerFilter(text="x")))


def test_detail_of_missing_or_deleted_customer(ctx: AppContext, book: dict[str, str]) -> None:
    q = CustomerQuery(ctx)
    with pytest.raises(UserError) as err:
        q.detail("nope")
    assert err.value.key == "customer.not_found"
    CustomerService(ctx).delete(book["li"])
    with pytest.raises(UserError) as err:
        q.detail(book["li"])
    assert err.value.key == "customer.deleted"
