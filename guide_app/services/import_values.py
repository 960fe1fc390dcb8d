"""Turning one spreadsheet cell into a customer field value, the way Excel and WeCom write them.

Each function takes the cell as text (see :func:`cell_text` for XLSX values) and either returns the
stored form or raises :class:`UserError` with a key the import report translates.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from guide_app.domain.errors import UserError
from guide_app.domain.phones import normalize_phone

_TAG_SPLIT = re.compile(r"[,，;；、|｜]+")
_FLOAT_INT = re.compile(r"^\+?(\d+)\.0*$")
_SCIENTIFIC = re.compile(r"^\+?(\d+)(?:\.(\d+))?[eE]\+?(\d+)$")
_EXCEL_TEXT = re.compile(r'^="(.*)"$')  # ="13812345678", Excel's way to keep digits as text
_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL = re.compile(r"^(\d{3,5})(?:\.0+)?$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01 once Excel's 1900 leap-year bug is allowed for
_FORMULA_START = ("=", "+", "-", "@")

_GENDERS = {
    "男": "male", "男性": "male", "先生": "male", "m": "male", "male": "male", "1": "male",
    "女": "female", "女性": "female", "女士": "female", "f": "female", "female": "female", "2": "female",
    "其他": "other", "other": "other",
    "": "", "未知": "", "未填": "", "不详": "", "保密": "", "unknown": "", "not set": "", "0": "",
}


def cell_text(value: Any) -> str:
    """XLSX cell value → text as the user sees it: whole floats without ``.0`` (a phone stored as
    the number 13812345678 shown as 1.38123E+10 comes back as its digits), dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e17:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="seconds")
    return str(value)


def unescape_formula_guard(text: str) -> str:
    """Undo the apostrophe the exporter puts before text starting with = + - @ (CSV injection guard)."""
    if len(text) > 1 and text[0] == "'" and text[1] in _FORMULA_START:
        return text[1:]
    return text


def phone_text(raw: str) -> str:
    """Clean a phone cell into something :func:`normalize_phone` reads.

    Full-width digits become ASCII; ``="138…"`` and a leading apostrophe are unwrapped; a number
    Excel wrote as ``13812345678.0`` or ``1.3812345678E+10`` becomes its digits. A number whose
    digits Excel already rounded away (``1.38123E+10``) is refused rather than guessed.
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    m = _EXCEL_TEXT.match(text)
    if m:
        text = m.group(1).strip()
    text = text.lstrip("'").strip()
    m = _FLOAT_INT.match(text)
    if m:
        return m.group(1)
    m = _SCIENTIFIC.match(text)
    if m:
        whole, frac = m.group(1), m.group(2) or ""
        try:
            number = Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - the pattern only admits valid decimals
            raise UserError("phone.unparsable", value=raw.strip()) from exc
        significant = len((whole + frac).lstrip("0"))
        digits = str(int(number)) if number == number.to_integral_value() else ""
        if not digits or significant < len(digits):
            raise UserError("import.phone_rounded", value=raw.strip())
        return digits
    digits = re.sub(r"\D", "", text)
    # 8613812345678 without the plus: a CN mobile with its country code
    if not text.startswith("+") and len(digits) == 13 and digits.startswith("861"):
        return "+" + digits
    return text


def parse_phone(raw: str) -> str:
    """E.164 or "" for an empty cell; :class:`UserError` for anything that is not a valid number."""
    if not raw.strip():
        return ""
    return normalize_phone(phone_text(raw))


def parse_gender(raw: str) -> str:
    key = unicodedata.normalize("NFKC", raw).strip().casefold()
    if key in _GENDERS:
        return _GENDERS[key]
    raise UserError("import.bad_gender", value=raw.strip())


def add_gender_words(words: dict[str, str]) -> None:
    """Let the labels the exporter writes (in every UI language) read back as the same gender."""
    for word, value in words.items():
        _GENDERS.setdefault(word.strip().casefold(), value)


def parse_birthday(raw: str, today: dt.date | None = None) -> str:
    """YYYY-MM-DD from 1990-01-02, 1990/1/2, 1990.1.2, 1990年1月2日, 19900102, an Excel date with a
    time part, or an Excel date serial (a date column saved as a number)."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        return ""
    today = today or dt.date.today()
    day: dt.date | None = None
    m = _YMD.match(text) or _COMPACT.match(text)
    try:
        if m:
            day = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        else:
            m = _SERIAL.match(text)
            if m:
                day = _EXCEL_EPOCH + dt.timedelta(days=int(m.group(1)))
    except (ValueError, OverflowError):
        day = None
    if day is None or not (1900 <= day.year and day <= today):
        raise UserError("import.bad_birthday", value=raw.strip())
    return day.isoformat()


def split_tags(raw: str) -> list[str]:
    """Tag names from one cell: split on , ， ; ； 、 |, trimmed, duplicates dropped, order kept."""
    seen: list[str] = []
    for part in _TAG_SPLIT.split(raw):
        name = part.strip()
        if name and name not in seen:
            seen.append(name)
    return seen
