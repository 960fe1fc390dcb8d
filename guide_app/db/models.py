"""Local SQLite schema. Synced rows carry ``id`` (UUIDv7 text), ``store_id``, ``field_hlc`` (JSON of
per-field HLC stamps) and ``deleted_hlc`` (tombstone); they are never hard-deleted.

Local-only helpers (``pk`` integer keys, search keys, purchase aggregates) are derived and rebuilt
from the synced columns, never sent to HQ.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, dict[str, str]: JSON}


class SyncedMixin:
    id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    field_hlc: Mapped[dict[str, str]] = mapped_column(JSON, nullable=False, default=dict)
    deleted_hlc: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Store(Base):
    """HQ-owned; the org this PC belongs to (and, for managers, the stores they see)."""

    __tablename__ = "store"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    region_id: Mapped[str | None] = mapped_column(String(36))
    region_name: Mapped[str] = mapped_column(String(100), default="")


class Guide(Base):
    """HQ-owned account as seen by this store (guides and managers)."""

    __tablename__ = "guide"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False, default="guide")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


LIVE_CUSTOMER = "deleted_hlc IS NULL AND merged_into IS NULL"
GONE_CUSTOMER = "deleted_hlc IS NOT NULL OR merged_into IS NOT NULL"


class Customer(SyncedMixin, Base):
    __tablename__ = "customer"
    # local integer key: the list model and the FTS index address rows by it (stable across VACUUM)
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(String(36), nullable=False)
    name: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    phone: Mapped[str] = mapped_column(String(20), nullable=False, default="")  # E.164 or ""
    wechat_id: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    gender: Mapped[str] = mapped_column(String(10), nullable=False, default="")
    birthday: Mapped[str] = mapped_column(String(10), nullable=False, default="")  # YYYY-MM-DD or ""
    source: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    owner_guide_id: Mapped[str] = mapped_column(String(36), nullable=False, default="")
    stage: Mapped[str] = mapped_column(String(10), nullable=False, default="")  # manual override or ""
    preferences: Mapped[str] = mapped_column(Text, nullable=False, default="")
    sizes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    consent_phone: Mapped[str] = mapped_column(String(10), nullable=False, default="unknown")
    consent_sms: Mapped[str] = mapped_column(String(10), nullable=False, default="unknown")
    consent_wechat: Mapped[str] = mapped_column(String(10), nullable=False, default="unknown")
    created_at: Mapped[int] = mapped_column(Integer, nullable=False)  # epoch ms
    updated_at: Mapped[int] = mapped_column(Integer, nullable=False)
    merged_into: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # erased on request (PIPL): personal fields wiped everywhere; the row stays as a tombstone
    erased: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=text("0"))
    # derived, local: rebuilt from purchases / name
    sort_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    last_purchase_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    total_spent_cents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    order_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    __table_args__ = (
        # partial "live customer" indexes, one per list sort, carrying the stage and owner filter
        # columns: the list query reads them alone (covering), never the 100k rows themselves
        Index("ix_customer_store_sort", "store_id", "sort_name", "stage", "created_at", "last_purchase_at",
              "owner_guide_id", sqlite_where=text(LIVE_CUSTOMER)),
        Index("ix_customer_store_created", "store_id", "created_at", "stage", "last_purchase_at",
              "owner_guide_id", sqlite_where=text(LIVE_CUSTOMER)),
        Index("ix_customer_store_lastbuy", "store_id", "last_purchase_at", "stage", "created_at",
              "owner_guide_id", sqlite_where=text(LIVE_CUSTOMER)),
        Index("ix_customer_store_phone", "store_id", "phone"),
        Index("ix_customer_owner", "owner_guide_id"),
        # the few deleted / merged customers, so per-tag counts can subtract them without a scan
        Index("ix_customer_gone", "store_id", sqlite_where=text(GONE_CUSTOMER)),
    )


class TagGroup(SyncedMixin, Base):
    __tablename__ = "tag_group"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(String(36), nullable=False, default="")  # "" for corp groups
    scope: Mapped[str] = mapped_column(String(10), nullable=False)  # corp | store | personal
    owner_guide_id: Mapped[str] = mapped_column(String(36), nullable=False, default="")  # personal groups
    name: Mapped[str] = mapped_column(String(40), nullable=False)
    color: Mapped[str] = mapped_column(String(9), nullable=False, default="#607d8b")
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    multi: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class Tag(SyncedMixin, Base):
    __tablename__ = "tag"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(String(36), ForeignKey("tag_group.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(40), nullable=False)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class CustomerTag(SyncedMixin, Base):
    """Add-wins set: active iff ``added_hlc > removed_hlc`` (see domain.merge). ``active`` is derived."""

    __tablename__ = "customer_tag"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(String(36), nullable=False)
    customer_id: Mapped[str] = mapped_column(String(36), nullable=False)
    tag_id: Mapped[str] = mapped_column(String(36), nullable=False)
    added_hlc: Mapped[str | None] = mapped_column(String(64))
    removed_hlc: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    __table_args__ = (
        Index("ix_customer_tag_pair", "customer_id", "tag_id", unique=True),
        Index("ix_customer_tag_tag_active", "tag_id", "active", "customer_id"),
    )


class FollowUp(SyncedMixin, Base):
    __tablename__ = "follow_up"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(String(36), nullable=False)
    customer_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    guide_id: Mapped[str] = mapped_column(String(36), nullable=False, default="")
    kind: Mapped[str] = mapped_column(String(10), nullable=False)  # call | message | visit | note
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    at: Mapped[int] = mapped_column(Integer, nullable=False)
    next_at: Mapped[str] = mapped_column(String(10), nullable=False, default="")  # reminder date or ""
    done: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # reminder handled

    __table_args__ = (Index("ix_follow_up_due", "store_id", "done", "next_at"),)


class Purchase(SyncedMixin, Base):
    __tablename__ = "purchase"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(String(36), nullable=False)
    customer_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    guide_id: Mapped[str] = mapped_column(String(36), nullable=False, default="")
    amount_cents: Mapped[int] = mapped_column(Integer, nullable=False)
    items: Mapped[str] = mapped_column(Text, nullable=False, default="")
    at: Mapped[int] = mapped_column(Integer, nullable=False)
    origin: Mapped[str] = mapped_column(String(10), nullable=False, default="guide")  # guide | hq


class AcquisitionCode(SyncedMixin, Base):
    """A guide's QR acquisition code (活码). ``code`` is the short random text in the landing URL."""

    __tablename__ = "acquisition_code"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(String(36), nullable=False)
    guide_id: Mapped[str] = mapped_column(String(36), nullable=False)
    code: Mapped[str] = mapped_column(String(30), nullable=False)
    label: Mapped[str] = mapped_column(String(40), nullable=False)
    channel: Mapped[str] = mapped_column(String(27), nullable=False)  # built-in key or custom:<name>
    campaign_id: Mapped[str] = mapped_column(String(36), nullable=False, default="")
    auto_tag_ids: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    welcome_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    expires_at: Mapped[int | None] = mapped_column(Integer, nullable=True)  # epoch ms
    disabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    logo: Mapped[str] = mapped_column(Text, nullable=False, default="")  # base64 PNG or ""

    __table_args__ = (
        Index("ix_acquisition_code_code", "code", unique=True),
        Index("ix_acquisition_code_store_guide", "store_id", "guide_id"),
    )


class CodeStat(Base):
    """HQ-owned per-code daily figures, replaced per pulled version; read offline."""

    __tablename__ = "code_stat"
    code_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD in the org's zone
    scans: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    leads: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    new_customers: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    existing_customers: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class LeaderboardSnapshot(Base):
    """The last copy of every board (or trend) HQ answered for the signed-in account, with its "as of"
    time, so the 业绩榜 opens offline and says how old it is. Local, replaced on each fetch. Campaign
    progress (services/pack_progress.py) is kept here too: scope "pack", metric "progress" (one campaign)
    or "overview" (the campaigns of the account's scope)."""

    __tablename__ = "leaderboard_snapshot"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)  # account + every query parameter
    account_id: Mapped[str] = mapped_column(String(36), nullable=False)
    scope: Mapped[str] = mapped_column(String(10), nullable=False)
    metric: Mapped[str] = mapped_column(String(20), nullable=False)
    period: Mapped[str] = mapped_column(String(10), nullable=False)  # today|week|month|custom|campaign|trend
    as_of: Mapped[int] = mapped_column(Integer, nullable=False)  # epoch ms, HQ's
    rows: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)  # the whole answer, rows included
    fetched_at: Mapped[int] = mapped_column(Integer, nullable=False)


class CampaignPack(Base):
    """A campaign pack installed on this PC (local; its content is HQ's): the installed version of each
    pack id, its manifest, and where its assets were unpacked."""

    __tablename__ = "campaign_pack"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(80), nullable=False)
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    valid_from: Mapped[str] = mapped_column(String(10), nullable=False)  # YYYY-MM-DD, inclusive
    valid_to: Mapped[str] = mapped_column(String(10), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="installed")  # installed|expired|withdrawn
    path: Mapped[str] = mapped_column(Text, nullable=False)  # <data dir>/packs/<id>/<version>
    installed_at: Mapped[int] = mapped_column(Integer, nullable=False)


class CampaignPackRefusal(Base):
    """A pack this PC refused, with the reason shown on the campaign page. Local, append-only."""

    __tablename__ = "campaign_pack_refusal"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pack_id: Mapped[str] = mapped_column(String(64), nullable=False, default="")  # "" when unreadable
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    title: Mapped[str] = mapped_column(String(80), nullable=False, default="")
    source: Mapped[str] = mapped_column(Text, nullable=False, default="")  # file name or download
    reason_key: Mapped[str] = mapped_column(String(60), nullable=False)
    reason_params: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    at: Mapped[int] = mapped_column(Integer, nullable=False)


class CampaignTask(SyncedMixin, Base):
    """One task of a campaign for one customer (synced up): done or open, the outcome and a note."""

    __tablename__ = "campaign_task"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(String(36), nullable=False)
    pack_id: Mapped[str] = mapped_column(String(64), nullable=False)
    task_id: Mapped[str] = mapped_column(String(64), nullable=False)
    customer_id: Mapped[str] = mapped_column(String(36), nullable=False)
    guide_id: Mapped[str] = mapped_column(String(36), nullable=False, default="")
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open")  # open | done
    outcome: Mapped[str] = mapped_column(String(16), nullable=False, default="")
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    done_at: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (
        Index("ix_campaign_task_pack", "store_id", "pack_id", "customer_id", "task_id"),
    )


class CustomerHistory(Base):
    """What changed on a customer, by whom: edits, merge losers from sync, transfers. Local, append-only."""

    __tablename__ = "customer_history"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # create | edit | delete | conflict | merge | transfer | import
    field: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    hlc: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    by_guide_id: Mapped[str] = mapped_column(String(36), nullable=False, default="")
    at: Mapped[int] = mapped_column(Integer, nullable=False)


class Outbox(Base):
    """Local writes waiting for HQ, in the same transaction as the write itself."""

    __tablename__ = "outbox"
    device_seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    op_id: Mapped[str] = mapped_column(String(36), nullable=False, unique=True)
    entity: Mapped[str] = mapped_column(String(30), nullable=False)
    entity_id: Mapped[str] = mapped_column(String(36), nullable=False)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    field_hlc: Mapped[dict[str, str]] = mapped_column(JSON, nullable=False)
    deleted_hlc: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")  # pending|acked|rejected|discarded
    reject_code: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    reject_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")

    __table_args__ = (Index("ix_outbox_status", "status", "device_seq"),)


class SyncState(Base):
    """Key/value state of sync: device id, cursor, last push seq acked, pinned HQ key, clock offset."""

    __tablename__ = "sync_state"
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


class Setting(Base):
    """Local preferences: language, stage thresholds, remembered import mappings, current guide."""

    __tablename__ = "app_setting"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=False)


class PcAccount(Base):
    """Who may use this shared PC (local, never synced): a guide's PIN hash for the quick switch,
    a manager's password verifier from their last online sign-in, and the failed-attempt count."""

    __tablename__ = "pc_account"
    guide_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    pin_hash: Mapped[str] = mapped_column(Text, nullable=False, default="")
    password_verifier: Mapped[str] = mapped_column(Text, nullable=False, default="")
    failed_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class AuditLog(SyncedMixin, Base):
    """Who revealed, exported, transferred or erased what. Append-only; synced up."""

    __tablename__ = "audit_log"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(String(36), nullable=False)
    actor_id: Mapped[str] = mapped_column(String(36), nullable=False)
    action: Mapped[str] = mapped_column(String(30), nullable=False)
    target: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    at: Mapped[int] = mapped_column(Integer, nullable=False)


# The search keys (customer_fts, an FTS5 trigram table whose rowid is customer.pk, and
# customer_search for 1-2 character prefix queries) are created by the first migration (0002 adds
# the given-name columns) and kept by guide_app.db.search_index; they are not ORM-mapped.
