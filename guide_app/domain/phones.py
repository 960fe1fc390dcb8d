"""Phone numbers: stored as E.164, CN is the default region, shown masked to guides."""

from __future__ import annotations

import re

import phonenumbers

from guide_app.domain.errors import UserError

DEFAULT_REGION = "CN"
_NON_DIGITS = re.compile(r"\D+")


def normalize_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """Return the E.164 form of ``raw`` or raise :class:`UserError` saying why it is refused."""
    text = (raw or "").strip()
    if not text:
        raise UserError("phone.empty")
    digits = _NON_DIGITS.sub("", text)
    if len(digits) < 5:
        raise UserError("phone.too_short", value=text)
    if len(digits) > 17:
        raise UserError("phone.too_long", value=text)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise UserError("phone.unparsable", value=text) from exc
    if not phonenumbers.is_possible_number(number):
        raise UserError("phone.impossible", value=text)
    if not phonenumbers.is_valid_number(number):
        raise UserError("phone.invalid", value=text)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_digits(e164: str) -> str:
    """Digits a guide would type: the national number for CN (13812345678), else all digits."""
    if not e164:
        return ""
    if e164.startswith("+86"):
        return e164[3:]
    return _NON_DIGITS.sub("", e164)


def display_phone(e164: str) -> str:
    return national_digits(e164) if e164.startswith("+86") else e164


def mask_phone(e164: str) -> str:
    """138****5678: the first three and last four digits, the rest hidden."""
    digits = national_digits(e164)
    if not digits:
        return ""
    if len(digits) <= 7:
        return digits[:2] + "*" * max(0, len(digits) - 4) + digits[-2:]
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def digits_only(text: str) -> str:
    return _NON_DIGITS.sub("", text)
