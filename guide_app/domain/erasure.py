"""What erasing a customer on request (PIPL) leaves of them: the one rule HQ and every PC apply.

The personal fields become the values below, every channel is opted out, and ``erased`` is set; the
record stays as a tombstone (id, store, source, dates) so figures still add up and sync cannot bring
the data back. Free text on rows that hang off the customer is wiped too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from guide_app.domain.entities import CONSENT_CHANNELS

WIPED: dict[str, Any] = {"name": "", "phone": "", "wechat_id": "", "gender": "", "birthday": "",
                         "preferences": "", "sizes": "", "notes": ""}
OPTED_OUT: dict[str, str] = {f"consent_{ch}": "opted_out" for ch in CONSENT_CHANNELS}
ERASED_VALUES: dict[str, Any] = {**WIPED, **OPTED_OUT, "erased": True}
CHILD_TEXT: dict[str, tuple[str, ...]] = {"follow_up": ("note",), "purchase": ("items",), "campaign_task": ("note",)}


def is_wipe(entity: str, fields: Mapping[str, Any]) -> bool:
    """Whether a write only erases (so it may still reach an erased record): wiped or opted-out
    values, a tag assignment's removal, or nothing but ids."""
    for name, value in fields.items():
        if name in ("store_id", "customer_id", "tag_id"):
            continue
        if entity == "customer" and name in ERASED_VALUES and value == ERASED_VALUES[name]:
            continue
        if name in CHILD_TEXT.get(entity, ()) and value == "":
            continue
        if entity == "customer_tag" and name == "removed_hlc":
            continue
        return False
    return True
