"""The synced entities and their fields: the one list both the client and HQ read.

Each synced row carries per-field HLC stamps, so these names are also the keys of ``field_hlc``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EntitySpec:
    name: str
    fields: tuple[str, ...]
    text_fields: tuple[str, ...] = ()  # a losing value of these is kept in the record's history
    consent_fields: tuple[str, ...] = ()  # opt-out wins
    max_lengths: tuple[tuple[str, int], ...] = ()


CONSENT_CHANNELS = ("phone", "sms", "wechat")
CONSENT_VALUES = ("unknown", "granted", "opted_out")
GENDERS = ("", "female", "male", "other")
FOLLOW_UP_KINDS = ("call", "message", "visit", "note")
MANUAL_STAGES = ("", "new", "active", "sleeping", "lost")

CUSTOMER = EntitySpec(
    "customer",
    fields=(
        "store_id", "name", "phone", "wechat_id", "gender", "birthday", "source", "owner_guide_id",
        "stage", "preferences", "sizes", "notes", "consent_phone", "consent_sms", "consent_wechat",
        "created_at", "merged_into", "erased",
    ),  # erased: True once wiped on request; HQ then refuses every later write to the record
    text_fields=("name", "phone", "wechat_id", "preferences", "sizes", "notes", "source", "birthday"),
    consent_fields=("consent_phone", "consent_sms", "consent_wechat"),
    max_lengths=(("name", 60), ("wechat_id", 64), ("preferences", 2000), ("sizes", 500),
                 ("notes", 4000), ("source", 100)),
)
TAG_GROUP = EntitySpec(
    "tag_group",
    fields=("store_id", "scope", "owner_guide_id", "name", "color", "sort_order", "multi"),
    max_lengths=(("name", 40),),
)
TAG = EntitySpec("tag", fields=("group_id", "name", "sort_order"), max_lengths=(("name", 40),))
CUSTOMER_TAG = EntitySpec("customer_tag", fields=("store_id", "customer_id", "tag_id", "added_hlc", "removed_hlc"))
FOLLOW_UP = EntitySpec(
    "follow_up",
    fields=("store_id", "customer_id", "guide_id", "kind", "note", "at", "next_at", "done"),
    text_fields=("note",),
    max_lengths=(("note", 4000),),
)
PURCHASE = EntitySpec(
    "purchase",
    fields=("store_id", "customer_id", "guide_id", "amount_cents", "items", "at", "origin"),
    max_lengths=(("items", 2000),),
)

ACQUISITION_CODE = EntitySpec(
    "acquisition_code",
    fields=(
        "store_id", "guide_id", "code", "label", "channel", "campaign_id", "auto_tag_ids", "welcome_text",
        "expires_at", "disabled", "logo",
    ),  # auto_tag_ids: JSON list of tag ids; expires_at: epoch ms or None; logo: base64 PNG or ""
    max_lengths=(("code", 30), ("label", 40), ("channel", 27), ("campaign_id", 36), ("welcome_text", 1000),
                 ("logo", 48_000)),
)

CAMPAIGN_TASK_STATUSES = ("open", "done")
CAMPAIGN_OUTCOMES = ("", "reached", "not_reachable", "bought", "declined", "opted_out")
CAMPAIGN_TASK = EntitySpec(
    "campaign_task",
    fields=("store_id", "pack_id", "task_id", "customer_id", "guide_id", "status", "outcome", "note", "done_at"),
    text_fields=("note",),  # done_at: epoch ms or None
    max_lengths=(("pack_id", 64), ("task_id", 64), ("note", 2000)),
)

SPECS: dict[str, EntitySpec] = {s.name: s for s in (CUSTOMER, TAG_GROUP, TAG, CUSTOMER_TAG, FOLLOW_UP, PURCHASE, ACQUISITION_CODE,
                                                         CAMPAIGN_TASK)}
