"""How values read in the UI: money, dates, stages, masked phones, translated errors."""

from __future__ import annotations

import datetime as dt

from guide_app.domain.errors import UserError
from guide_app.domain.phones import mask_phone
from guide_app.i18n import tr


def money(cents: int) -> str:
    return f"¥{cents / 100:,.2f}"


def day(ms: int | None) -> str:
    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d")


def day_time(ms: int | None) -> str:
    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")


def stage(value: str) -> str:
    return tr(f"stage.{value}") if value else ""


def masked(phone: str) -> str:
    return mask_phone(phone)


def error_text(exc: BaseException) -> str:
    """The message for the user: a UserError in the UI language, anything else a plain apology."""
    if isinstance(exc, UserError):
        params = dict(exc.params)
        field_key = params.get("field_key")
        if isinstance(field_key, str):
            params["field"] = tr(field_key)
        return tr(exc.key, **params)
    return tr("ui.error.unexpected", detail=type(exc).__name__)
