"""Search keys for Chinese names: full pinyin and initials, so ``zs`` and ``zhangsan`` find 张三."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from itertools import product

from pypinyin import Style, lazy_pinyin, pinyin
from pypinyin.constants import PHRASES_DICT, RE_HANS
from pypinyin.core import Pinyin
from pypinyin.seg.mmseg import seg as _phrase_seg

_MAX_VARIANTS = 8  # heteronyms multiply; cap so one odd name cannot blow up the index


@lru_cache(maxsize=65536)
def _char_readings(ch: str) -> tuple[str, ...]:
    readings = pinyin(ch, style=Style.NORMAL, heteronym=True, errors=lambda x: x.lower())[0]
    seen: list[str] = []
    for r in readings:
        r = r.lower()
        if r and r not in seen:
            seen.append(r)
    return tuple(seen[:2]) or (ch.lower(),)


def pinyin_keys(name: str) -> tuple[str, str]:
    """Return (full, initials), each a space-separated list of variants (heteronyms, e.g. 曾 zeng/ceng)."""
    text = "".join(name.split()).lower()
    if not text:
        return "", ""
    per_char = [_char_readings(ch) for ch in text]
    fulls: list[str] = []
    initials: list[str] = []
    for combo in product(*per_char):
        if len(fulls) >= _MAX_VARIANTS:
            break
        full = "".join(combo)
        ini = "".join(p[0] for p in combo)
        if full not in fulls:
            fulls.append(full)
        if ini not in initials:
            initials.append(ini)
    return " ".join(fulls), " ".join(initials)


# Surnames whose everyday reading differs from their reading as a family name (曾经 ceng / 曾 zeng).
_SURNAME_READINGS = {
    "曾": "zeng", "单": "shan", "仇": "qiu", "解": "xie", "查": "zha", "朴": "piao", "区": "ou",
    "覃": "qin", "尉": "yu", "乐": "yue", "缪": "miao", "翟": "zhai", "盖": "ge", "召": "shao",
    "种": "chong", "秘": "bi", "冼": "xian", "长": "chang", "重": "chong", "任": "ren", "华": "hua",
    "纪": "ji", "燕": "yan", "沈": "shen", "贾": "jia", "万": "wan", "曲": "qu", "祭": "zhai",
}


def _lower(text: str) -> str:
    return text.lower()


_segment = Pinyin().seg  # the phrase segmentation lazy_pinyin does first


def _segments(text: str) -> Iterable[str]:
    if PHRASES_DICT and RE_HANS.match(text):
        return _phrase_seg.cut(text)  # what _segment comes to for Chinese-only text, without its char loop
    return _segment(text)  # type: ignore[no-any-return]


@lru_cache(maxsize=1 << 14)
def _word_pinyin(word: str) -> str:
    return "".join(lazy_pinyin(word, errors=_lower))


def _phrase_pinyin(text: str) -> str:
    """``lazy_pinyin`` joined, phrase-aware: the same segments, each read once and cached (a book's
    names share their characters and phrases, while whole names rarely repeat)."""
    return "".join(_word_pinyin(word) for word in _segments(text))


def sort_key(name: str) -> str:
    """Name order a Chinese user expects: by pinyin, not by code point."""
    text = "".join(name.split()).lower()
    if not text:
        return ""
    # a Chinese name starts with the surname: read it as one; the rest phrase-aware
    head = _SURNAME_READINGS.get(text[0])
    if head is not None:
        return head + _phrase_pinyin(text[1:])
    return _phrase_pinyin(text)


# Two-character family names (复姓): the given name starts after them. Only ones that are hardly ever a
# one-character surname followed by a given name (单于 / 万俟 are left out: 单 and 万 are common surnames).
COMPOUND_SURNAMES = frozenset((
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文", "司徒",
    "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "澹台", "呼延", "赫连", "申屠", "钟离", "闻人", "太史",
    "濮阳", "公冶",
))


def name_tail(name: str) -> str:
    """The name after its first part, lower case, no spaces: the given name of a Chinese name (what
    staff call a customer by), which starts after the surname (two characters for a known compound
    one); for a name in Latin letters the words after the first ("wang xiaoming" → "xiaoming",
    "Anna Li" → "li"). A name of one character or one word has no tail ("")."""
    words = (name or "").lower().split()
    if not words:
        return ""
    text = "".join(words)
    if is_han(text[0]):
        surname = 2 if text[:2] in COMPOUND_SURNAMES else 1
        return text[surname:]
    return "".join(words[1:])


def is_han(ch: str) -> bool:
    """Whether ``ch`` (one character) is a Chinese character."""
    return bool(RE_HANS.match(ch))
