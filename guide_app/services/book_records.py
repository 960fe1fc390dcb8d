"""Read models of the customer book: what the list, the record page and the tag page display.

Plain frozen dataclasses (no ORM objects), so they cross from the DB thread to the GUI thread safely.
Times are epoch milliseconds; money is in cents; phones are E.164 (the views mask them).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CustomerRow:
    """One line of the customer list."""

    pk: int
    id: str
    name: str
    phone: str
    wechat_id: str
    gender: str
    stage: str  # new | active | sleeping | lost (the manual override when set)
    owner_guide_id: str
    owner_name: str
    last_purchase_at: int | None
    created_at: int
    total_spent_cents: int
    order_count: int
    tags: list[tuple[str, str]]  # (tag name, group colour), in group then tag order


@dataclass(frozen=True)
class TagRef:
    """A tag on a customer, with its group."""

    tag_id: str
    name: str
    group_id: str
    group_name: str
    color: str
    scope: str  # corp | store | personal
    multi: bool


@dataclass(frozen=True)
class FollowUpRecord:
    id: str
    customer_id: str
    customer_name: str
    guide_id: str
    guide_name: str
    kind: str  # call | message | visit | note
    note: str
    at: int
    next_at: str  # reminder date YYYY-MM-DD or ""
    done: bool


@dataclass(frozen=True)
class PurchaseRecord:
    id: str
    customer_id: str
    guide_id: str
    guide_name: str
    amount_cents: int
    items: str
    at: int
    origin: str  # guide | hq


@dataclass(frozen=True)
class HistoryRecord:
    kind: str  # create | edit | delete | conflict | merge | transfer | import
    field: str
    old_value: str | None
    new_value: str | None
    by_guide_id: str
    by_name: str
    at: int


@dataclass(frozen=True)
class CustomerDetail:
    """Everything the record page shows about one customer."""

    pk: int
    id: str
    name: str
    phone: str
    wechat_id: str
    gender: str
    birthday: str
    source: str
    owner_guide_id: str
    owner_name: str
    stage: str  # derived, or the manual override
    manual_stage: str  # the override itself ("" when derived)
    preferences: str
    sizes: str
    notes: str
    consent_phone: str
    consent_sms: str
    consent_wechat: str
    created_at: int
    updated_at: int
    last_purchase_at: int | None
    total_spent_cents: int
    order_count: int
    tags: list[TagRef]
    follow_ups: list[FollowUpRecord]  # newest first
    purchases: list[PurchaseRecord]  # newest first
    history: list[HistoryRecord]  # newest first
