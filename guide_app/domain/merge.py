"""Merge rules, decided by HQ and replayed identically by the client.

- scalar fields: per-field last-writer-wins by HLC stamp (stamps sort as text, and include the node,
  so two different writes never tie);
- consent fields: an opt-out beats a grant whatever the stamps (opt-out wins);
- customer_tag ``added_hlc``/``removed_hlc``: each keeps the larger stamp; the assignment is active
  when ``added_hlc > removed_hlc``. A removal records the add stamp it *observed*, so an add the
  remover never saw survives (add-wins set);
- tombstones: ``deleted_hlc`` keeps the larger stamp and a deleted row stays deleted;
- the losing value of a text field is returned so the caller writes it into the record's history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from guide_app.domain.entities import SPECS

OPTED_OUT = "opted_out"
_MAX_FIELDS = ("added_hlc", "removed_hlc")


@dataclass
class Loser:
    field: str
    value: Any
    hlc: str
    winner_value: Any
    winner_hlc: str


@dataclass
class MergeResult:
    values: dict[str, Any]
    hlc: dict[str, str]
    changed: set[str] = field(default_factory=set)
    losers: list[Loser] = field(default_factory=list)


def _max_stamp(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def merge_row(
    entity: str,
    current: Mapping[str, Any],
    current_hlc: Mapping[str, str],
    incoming: Mapping[str, Any],
    incoming_hlc: Mapping[str, str],
) -> MergeResult:
    """Merge ``incoming`` field writes into ``current``. Unknown fields are ignored by the caller's
    validation before this point; fields without an incoming stamp are not applied."""
    spec = SPECS[entity]
    values = dict(current)
    hlc = dict(current_hlc)
    result = MergeResult(values, hlc)
    for name, new_value in incoming.items():
        stamp = incoming_hlc.get(name)
        if stamp is None:
            continue
        old_stamp = hlc.get(name)
        old_value = values.get(name)
        if name in _MAX_FIELDS:
            merged = _max_stamp(old_value, new_value)
            if merged != old_value:
                values[name] = merged
                hlc[name] = _max_stamp(old_stamp, stamp) or stamp
                result.changed.add(name)
            continue
        if name in spec.consent_fields and (new_value == OPTED_OUT) != (old_value == OPTED_OUT) and old_stamp:
            # opt-out wins: whichever side opted out keeps the value; the stamp still advances
            if new_value == OPTED_OUT:
                values[name] = new_value
                result.changed.add(name)
            hlc[name] = _max_stamp(old_stamp, stamp) or stamp
            continue
        if old_stamp is None or stamp > old_stamp:
            if old_stamp is not None and name in spec.text_fields and old_value not in (None, "", new_value):
                result.losers.append(Loser(name, old_value, old_stamp, new_value, stamp))
            if new_value != old_value or old_stamp is None:
                result.changed.add(name)
            values[name] = new_value
            hlc[name] = stamp
        elif stamp < old_stamp:
            if name in spec.text_fields and new_value not in (None, "", old_value):
                result.losers.append(Loser(name, new_value, stamp, old_value, old_stamp))
        # equal stamps: the same write seen twice; nothing to do
    return result


def tag_active(added_hlc: str | None, removed_hlc: str | None) -> bool:
    return added_hlc is not None and (removed_hlc is None or added_hlc > removed_hlc)


def merge_tombstone(current: str | None, incoming: str | None) -> str | None:
    return _max_stamp(current, incoming)
