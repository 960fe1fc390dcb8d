"""Search keys for Chinese names: full pinyin and initials, so ``zs`` and ``zhangsan`` find 张三."""

from __future__ import annotations

from functools import lru_cache
from itertools import product

from pypinyin import Style, lazy_pinyin, pinyin

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


def sort_key(name: str) -> str:
    """Name order a Chinese user expects: by pinyin, not by code point."""
    text = "".join(name.split()).lower()
    # the phrase-aware common reading (曾 → zeng), not the first heteronym
    return "".join(lazy_pinyin(text, errors=lambda x: x.lower()))
