from __future__ import annotations

import pytest
from pypinyin import lazy_pinyin

from guide_app.domain.errors import UserError
from guide_app.domain.ids import pair_id, uuid7
from guide_app.domain.phones import mask_phone, normalize_phone
from guide_app.domain.pinyin_keys import _SURNAME_READINGS, name_tail, pinyin_keys, sort_key
from guide_app.domain.stages import DAY_MS, Stage, StageThresholds, derive_stage
from guide_app.i18n import tr


@pytest.mark.parametrize("raw", ["13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "8613812345678"])
def test_cn_mobiles_normalise_to_e164(raw: str) -> None:
    assert normalize_phone(raw) == "+8613812345678"


@pytest.mark.parametrize("raw,key", [("", "phone.empty"), ("123", "phone.too_short"), ("12345678901", "phone.invalid"),
                                     ("abc", "phone.too_short"), ("1" * 20, "phone.too_long")])
def test_bad_phones_are_refused_with_a_reason_in_both_languages(raw: str, key: str) -> None:
    with pytest.raises(UserError) as err:
        normalize_phone(raw)
    assert err.value.key == key
    zh = tr(err.value.key, lang="zh_CN", **err.value.params)
    en = tr(err.value.key, lang="en", **err.value.params)
    assert zh != key and en != key and zh != en
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh)


def test_mask() -> None:
    assert mask_phone("+8613812345678") == "138****5678"


def test_pinyin_full_and_initials_with_heteronyms() -> None:
    full, initials = pinyin_keys("张三")
    assert full.split()[0] == "zhangsan" and initials.split()[0] == "zs"
    full, initials = pinyin_keys("曾小贤")
    assert "zengxiaoxian" in full.split() and "zxx" in initials.split()
    assert sort_key("阿宝") < sort_key("张三")
    # surnames read as surnames: 曾 sorts under z, 单 under s
    assert sort_key("曾倩") == "zengqian" and sort_key("单田芳").startswith("shan")
    assert sort_key("曹静") < sort_key("陈刚") < sort_key("曾倩")


@pytest.mark.parametrize(("name", "tail"), [
    ("王小明", "小明"), ("王芳", "芳"), ("欧阳娜娜", "娜娜"), ("司马光", "光"), ("诸葛亮", "亮"), ("长孙无忌", "无忌"),
    ("夏雨", "雨"), ("欧阳", ""), ("王", ""), (" 王 小明 ", "小明"), ("Wang Xiaoming", "xiaoming"),
    ("Anna Li", "li"), ("anna", ""), ("", ""),
])
def test_name_tail_is_the_given_name_after_a_single_or_compound_surname(name: str, tail: str) -> None:
    assert name_tail(name) == tail


@pytest.mark.parametrize("name", ["重庆火锅", "长孙无忌", "银行家", "朝阳", "行长", "欧阳娜娜", "司马相如", "上官婉儿",
                                  "Alice王", "王 小明", "x1-2", "李长春", "张重阳", "乐乐", "解放军", "一行人"])
def test_sort_key_reads_phrases_like_lazy_pinyin(name: str) -> None:
    # sort_key caches per segment; it must still give the phrase-aware reading of the whole text
    text = "".join(name.split()).lower()

    def read(part: str) -> str:
        return "".join(lazy_pinyin(part, errors=lambda x: x.lower()))

    head = _SURNAME_READINGS.get(text[0])
    assert sort_key(name) == (head + read(text[1:]) if head else read(text))


def test_uuid7_is_time_ordered_and_unique() -> None:
    a, b = uuid7(1_000), uuid7(2_000)
    assert a < b and a[14] == "7"
    assert len({uuid7() for _ in range(1000)}) == 1000
    assert pair_id("c", "t") == pair_id("c", "t") != pair_id("c", "u")


def test_stage_boundaries() -> None:
    t = StageThresholds(new_days=30, sleeping_days=90, lost_days=180)
    now = 1_000 * DAY_MS
    assert derive_stage(now - 5 * DAY_MS, None, now, t) is Stage.NEW
    assert derive_stage(now - 400 * DAY_MS, now - 89 * DAY_MS, now, t) is Stage.ACTIVE
    assert derive_stage(now - 400 * DAY_MS, now - 90 * DAY_MS, now, t) is Stage.SLEEPING
    assert derive_stage(now - 400 * DAY_MS, now - 180 * DAY_MS, now, t) is Stage.LOST
    with pytest.raises(UserError):
        StageThresholds(30, 100, 90).validate()
