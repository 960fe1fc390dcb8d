"""What HQ accepts in a mutation: the entity's fields, their value kinds, stamps within the clock
window, and valid phones. A failed check is a :class:`Rejected` with a reason code and zh_CN text.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from guide_app.domain import codes, entities
from guide_app.domain.entities import (
    CONSENT_VALUES,
    FOLLOW_UP_KINDS,
    GENDERS,
    MANUAL_STAGES,
    SPECS,
)
from guide_app.domain.errors import UserError
from guide_app.domain.hlc import Stamp, too_far_ahead
from guide_app.domain.phones import normalize_phone
from guide_app.i18n import tr
from guide_app.sync.protocol import Mutation
from hq.messages import zh

# audit_log rows are synced up (append-only) but are not part of the shared merge spec
AUDIT_LOG_FIELDS = ("store_id", "actor_id", "action", "target", "detail", "at")

# rows that hang off a customer: re-pointed to the survivor when HQ merges two customers
CUSTOMER_CHILDREN = frozenset(
    name for name, spec in SPECS.items() if "customer_id" in spec.fields and name != "customer_tag"
) | {"customer_tag"}
READ_ONLY_FIELDS = frozenset({"merged_into"})  # set by HQ's same-phone merge only
ID_FIELDS = frozenset({"store_id", "customer_id", "tag_id", "group_id", "owner_guide_id", "guide_id", "actor_id"})
INT_FIELDS = frozenset({"created_at", "at", "amount_cents", "sort_order"})
NULLABLE_INT_FIELDS = frozenset({"expires_at", "done_at"})
BOOL_FIELDS = frozenset({"multi", "done", "disabled", "erased"})
DATE_FIELDS = frozenset({"birthday", "next_at"})
STAMP_VALUE_FIELDS = frozenset({"added_hlc", "removed_hlc"})
DICT_FIELDS = frozenset({"detail"})
ID_LIST_FIELDS = {"auto_tag_ids": codes.AUTO_TAGS_MAX}
ENUMS: dict[str, tuple[str, ...]] = {
    "gender": GENDERS,
    "stage": MANUAL_STAGES,
    "consent_phone": CONSENT_VALUES,
    "consent_sms": CONSENT_VALUES,
    "consent_wechat": CONSENT_VALUES,
    "kind": FOLLOW_UP_KINDS,
    "scope": ("store", "personal"),  # corp groups are made by HQ only
    "origin": ("guide",),  # purchases from HQ are never pushed by a PC
    "status": entities.CAMPAIGN_TASK_STATUSES,
    "outcome": entities.CAMPAIGN_OUTCOMES,
}
EXTRA_MAX_LENGTHS = {"phone": 20, "color": 9, "action": 30, "target": 100}
DEFAULT_MAX_LENGTH = 4000
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$")
_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_-]{0,35}$")
_MAX_INT = 2**53  # what every JSON reader keeps exactly


class Rejected(Exception):
    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    @property
    def reason(self) -> str:
        return zh(f"rej.{self.code}", **self.params)


def entity_fields(entity: str) -> tuple[str, ...] | None:
    if entity in SPECS:
        return SPECS[entity].fields
    if entity == "audit_log":
        return AUDIT_LOG_FIELDS
    return None


def max_length(entity: str, field: str) -> int:
    spec = SPECS.get(entity)
    limits = dict(spec.max_lengths) if spec else {}
    return limits.get(field) or EXTRA_MAX_LENGTHS.get(field) or (36 if field in ID_FIELDS else DEFAULT_MAX_LENGTH)


def check_id(value: Any) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise Rejected("bad_id", value=str(value)[:40])
    return value


def check_stamp(value: Any, server_ms: int) -> str:
    if not isinstance(value, str):
        raise Rejected("bad_hlc", value=str(value)[:70])
    try:
        Stamp.parse(value)
    except ValueError as exc:
        raise Rejected("bad_hlc", value=value[:70]) from exc
    if len(value) > 64:
        raise Rejected("bad_hlc", value=value[:70])
    if too_far_ahead(value, server_ms):
        raise Rejected("clock_ahead", value=value)
    return value


def has_nul(value: Any) -> bool:
    """A NUL character anywhere inside: PostgreSQL text and JSON cannot hold it."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


def storable(value: Any) -> Any:
    """``value`` with every NUL replaced by U+FFFD, so a refused mutation can still be recorded."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value


def _bad(field: str, value: Any) -> Rejected:
    return Rejected("bad_value", field=field, value=repr(value)[:60])


def check_value(entity: str, field: str, value: Any, server_ms: int) -> None:
    if field in STAMP_VALUE_FIELDS:
        if value is not None:
            check_stamp(value, server_ms)
        return
    if field in INT_FIELDS or (field in NULLABLE_INT_FIELDS and value is not None):
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > _MAX_INT:
            raise _bad(field, value)
        return
    if field in NULLABLE_INT_FIELDS:
        return
    if field in ID_LIST_FIELDS:
        if not isinstance(value, list) or len(value) > ID_LIST_FIELDS[field]:
            raise _bad(field, value)
        for item in value:
            if not isinstance(item, str) or not _ID.match(item):
                raise _bad(field, item)
        return
    if field in BOOL_FIELDS:
        if not isinstance(value, bool):
            raise _bad(field, value)
        return
    if field in DICT_FIELDS:
        if not isinstance(value, dict) or len(repr(value)) > DEFAULT_MAX_LENGTH or has_nul(value):
            raise _bad(field, value)
        return
    if value is None:
        raise _bad(field, value)
    if not isinstance(value, str):
        raise _bad(field, value)
    if "\x00" in value:  # PostgreSQL text cannot hold NUL: refused here, not a 500 that blocks the queue
        raise _bad(field, value)
    limit = max_length(entity, field)
    if len(value) > limit:
        raise Rejected("field_too_long", field=tr(f"field.{field}", lang="zh_CN") if field in _LABELLED else field,
                       limit=limit)
    if field in ENUMS and value not in ENUMS[field]:
        raise _bad(field, value)
    if field in ID_FIELDS and value and not _ID.match(value):
        raise _bad(field, value)
    if field in DATE_FIELDS and value:
        try:
            if dt.date.fromisoformat(value).isoformat() != value:
                raise ValueError(value)
        except ValueError as exc:
            raise _bad(field, value) from exc
    if field == "color" and not _COLOR.match(value):
        raise _bad(field, value)
    if entity == "acquisition_code" and field == "code" and not codes.is_code_text(value):
        raise Rejected("bad_code", value=value[:40])
    if entity == "acquisition_code" and field == "channel":
        try:
            ok = codes.normalize_channel(value) == value
        except UserError:
            ok = False
        if not ok:
            raise _bad(field, value)
    if field == "phone" and value:
        try:
            normalized = normalize_phone(value)
        except UserError as exc:
            raise Rejected("bad_phone", reason=tr(exc.key, lang="zh_CN", **exc.params)) from exc
        if normalized != value:  # clients store E.164; another spelling would split the same person
            raise Rejected("bad_phone", reason=f"{value} → {normalized}")


_LABELLED = frozenset({"name", "wechat_id", "preferences", "sizes", "notes", "source"})


def check_shape(m: Mutation, server_ms: int) -> tuple[str, ...]:
    """Checks that need no database: entity, id, fields, stamps, values. Returns the entity's fields."""
    fields = entity_fields(m.entity)
    if fields is None:
        raise Rejected("unknown_entity", entity=m.entity[:40])
    check_id(m.entity_id)
    for name in m.fields:
        if name not in fields:
            raise Rejected("unknown_field", entity=m.entity, field=name[:40])
        if name in READ_ONLY_FIELDS:
            raise Rejected("read_only_field", field=name)
        if name not in m.hlc:
            raise Rejected("missing_stamp", field=name)
    for name, stamp in m.hlc.items():
        if name in m.fields:
            check_stamp(stamp, server_ms)
    if m.deleted_hlc is not None:
        check_stamp(m.deleted_hlc, server_ms)
    for name, value in m.fields.items():
        check_value(m.entity, name, value, server_ms)
    return fields


def lookup_of(entity: str, data: dict[str, Any]) -> str:
    """The value HQ finds a row by: a customer's phone (same-phone merge), a code's text (landing page),
    the exporting account of an export's audit entry (the day's exports of one person, every PC)."""
    if entity == "customer":
        return str(data.get("phone") or "")
    if entity == "acquisition_code":
        return str(data.get("code") or "")
    if entity == "audit_log" and data.get("action") == "export":
        return str(data.get("actor_id") or "")
    return ""
