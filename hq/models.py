"""HQ's own schema: the org (regions, stores, accounts, devices), auth state, login attempts, and the
synced rows of every store with their per-store version stamps.

Synced rows live in one table keyed by ``(entity, id)``: the fields and their HLC stamps are JSON (the
entity list is shared with the client in ``guide_app.domain.entities``), and the few columns HQ must
query by (store, version, customer phone, parent customer) are kept beside them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JsonType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JsonType, dict[str, str]: JsonType}


class OrgSecret(Base):
    """Server secrets made on first use: the token HMAC key and the Ed25519 signing key pair."""

    __tablename__ = "org_secret"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[int] = mapped_column(BigInteger, nullable=False)


class Region(Base):
    __tablename__ = "region"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    created_at: Mapped[int] = mapped_column(BigInteger, nullable=False)


class Store(Base):
    """A store and its sync counter: ``version`` is bumped once per push transaction that changed rows
    (under a row lock), ``org_version`` is the version at which its org (stores, guides) last changed."""

    __tablename__ = "store"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    region_id: Mapped[str] = mapped_column(String(36), ForeignKey("region.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    org_version: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    created_at: Mapped[int] = mapped_column(BigInteger, nullable=False)


class Account(Base):
    __tablename__ = "account"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    display_name: Mapped[str] = mapped_column(String(60), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)  # guide|store_manager|region_manager|hq_admin
    region_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("region.id"), nullable=True)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    disabled_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger, nullable=False)


class AccountStore(Base):
    """The stores a guide or store manager works in (a guide may belong to several)."""

    __tablename__ = "account_store"
    account_id: Mapped[str] = mapped_column(String(36), ForeignKey("account.id"), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(36), ForeignKey("store.id"), primary_key=True, index=True)


class Device(Base):
    """A counter PC enrolled to one store; ``last_seq`` is the highest outbox seq HQ has accepted."""

    __tablename__ = "device"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(36), ForeignKey("store.id"), nullable=False, index=True)
    enrolled_by: Mapped[str] = mapped_column(String(36), ForeignKey("account.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    last_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    enrolled_at: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_seen_at: Mapped[int] = mapped_column(BigInteger, nullable=False)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class AuthSession(Base):
    """One login of one account on one device: the chain its rotating refresh tokens belong to."""

    __tablename__ = "auth_session"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(36), ForeignKey("account.id"), nullable=False, index=True)
    device_id: Mapped[str] = mapped_column(String(36), ForeignKey("device.id"), nullable=False, index=True)
    created_at: Mapped[int] = mapped_column(BigInteger, nullable=False)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revoked_reason: Mapped[str] = mapped_column(String(30), nullable=False, default="")


class RefreshToken(Base):
    """Only the SHA-256 of a refresh token is kept; ``used_at`` set means it was rotated away."""

    __tablename__ = "refresh_token"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(36), ForeignKey("auth_session.id"), nullable=False, index=True)
    issued_at: Mapped[int] = mapped_column(BigInteger, nullable=False)
    expires_at: Mapped[int] = mapped_column(BigInteger, nullable=False)
    used_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class LoginAttempt(Base):
    __tablename__ = "login_attempt"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    address: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[int] = mapped_column(BigInteger, nullable=False)
    ok: Mapped[bool] = mapped_column(Boolean, nullable=False)

    __table_args__ = (
        Index("ix_login_attempt_user_at", "username", "at"),
        Index("ix_login_attempt_addr_at", "address", "at"),
    )


class SyncRow(Base):
    """The current state of one synced row of one store as HQ holds it (what a pull sends).

    Keyed by store: HQ-owned rows every store receives (corp tag groups and their tags) are kept as
    one copy per store, so each store's pull stays a single ordered scan of its own versions; the
    master copies live under ``store_id = ""`` and are copied into stores made later.
    """

    __tablename__ = "sync_row"
    store_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    entity: Mapped[str] = mapped_column(String(30), primary_key=True)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False)
    hlc: Mapped[dict[str, str]] = mapped_column(JsonType, nullable=False)
    deleted_hlc: Mapped[str | None] = mapped_column(String(64), nullable=True)
    hq_owned: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # read-only for PCs
    # query helpers, copied from ``data`` on every write
    lookup: Mapped[str] = mapped_column(String(40), nullable=False, default="")  # customer phone, code text
    customer_id: Mapped[str] = mapped_column(String(36), nullable=False, default="")
    merged_into: Mapped[str | None] = mapped_column(String(36), nullable=True)

    __table_args__ = (
        Index("ix_sync_row_store_version", "store_id", "version"),
        Index("ix_sync_row_entity_id", "entity", "id"),
        Index("ix_sync_row_lookup", "entity", "lookup", "store_id"),
        Index("ix_sync_row_store_customer", "store_id", "customer_id"),
    )


class CustomerHistory(Base):
    """Losing values of text fields, so no one's typing is lost; sent down with the version that made them."""

    __tablename__ = "customer_history"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(String(36), nullable=False)
    customer_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    field: Mapped[str] = mapped_column(String(40), nullable=False)
    value: Mapped[Any] = mapped_column(JsonType, nullable=True)
    hlc: Mapped[str] = mapped_column(String(64), nullable=False)
    winner_hlc: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)
    device_id: Mapped[str] = mapped_column(String(36), nullable=False, default="")
    at: Mapped[int] = mapped_column(BigInteger, nullable=False)

    __table_args__ = (Index("ix_customer_history_store_version", "store_id", "version"),)


class DeviceMutation(Base):
    """Every mutation HQ accepted from a device, with its outcome: rejected ones keep their payload
    and reason, so nothing a PC sent is ever dropped without a trace."""

    __tablename__ = "device_mutation"
    device_id: Mapped[str] = mapped_column(String(36), ForeignKey("device.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    op_id: Mapped[str] = mapped_column(String(64), nullable=False)
    entity: Mapped[str] = mapped_column(String(30), nullable=False)
    entity_id: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)  # applied | rejected
    code: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    payload: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)  # kept for rejected ones
    version: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    at: Mapped[int] = mapped_column(BigInteger, nullable=False)


class CampaignPack(Base):
    """A published version of a campaign pack: its signed manifest and the archive devices download.

    ``status``: published (the version devices should have), superseded (a newer version replaced
    it) or withdrawn (devices drop it). The archive is loaded only when asked for.
    """

    __tablename__ = "campaign_pack"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(80), nullable=False)
    manifest: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False)
    valid_from: Mapped[str] = mapped_column(String(10), nullable=False)
    valid_to: Mapped[str] = mapped_column(String(10), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    archive: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, deferred=True)
    published_at: Mapped[int] = mapped_column(BigInteger, nullable=False)
    withdrawn_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (Index("ix_campaign_pack_status", "status"),)


# --- leaderboards (hq/ledger.py keeps these; hq/leaderboards.py reads them) ----------------------


class OrgSetting(Base):
    """Org-wide settings an operator may change, e.g. the time zone leaderboard days are counted in."""

    __tablename__ = "org_setting"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


class LedgerEvent(Base):
    """Append-only: one change to what a synced row counts for on the boards (+1 for an acquisition,
    -1 when it stops counting, +amount for a sale …), on the org-local day it counts for."""

    __tablename__ = "ledger_event"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    metric: Mapped[str] = mapped_column(String(20), nullable=False)
    day: Mapped[int] = mapped_column(Integer, nullable=False)  # date.toordinal() in the org's time zone
    store_id: Mapped[str] = mapped_column(String(36), nullable=False)
    region_id: Mapped[str] = mapped_column(String(36), nullable=False)
    guide_id: Mapped[str] = mapped_column(String(36), nullable=False)
    campaign_id: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    delta: Mapped[int] = mapped_column(BigInteger, nullable=False)
    subject: Mapped[str] = mapped_column(String(70), nullable=False)  # "entity:id" of the row that caused it
    at: Mapped[int] = mapped_column(BigInteger, nullable=False)  # epoch ms the event's day was taken from

    __table_args__ = (Index("ix_ledger_event_subject", "subject"),)


class LedgerItem(Base):
    """What one synced row counts for now, for whom and on which day: the base the next change of that
    row is diffed against. Customers keep their first acquirer here, whoever owns them later."""

    __tablename__ = "ledger_item"
    entity: Mapped[str] = mapped_column(String(30), primary_key=True)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(36), nullable=False)
    region_id: Mapped[str] = mapped_column(String(36), nullable=False)
    guide_id: Mapped[str] = mapped_column(String(36), nullable=False)
    campaign_id: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    day: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[int] = mapped_column(BigInteger, nullable=False)
    channel: Mapped[str] = mapped_column(String(10), nullable=False, default="")  # manual | qr | import
    phone: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    counts: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False)

    __table_args__ = (Index("ix_ledger_item_store_phone", "store_id", "phone"),)


class _Rollup:
    """The columns every rollup shares. A rollup's key is (metric, day or month, store, [guide,] campaign) in
    that order, which is also the order of its primary key index: ``sort_order`` puts the columns a table
    adds (its period, its guide) between these."""

    metric: Mapped[str] = mapped_column(String(20), primary_key=True, sort_order=-3)
    store_id: Mapped[str] = mapped_column(String(36), primary_key=True, sort_order=-1)
    campaign_id: Mapped[str] = mapped_column(String(64), primary_key=True, sort_order=1)
    region_id: Mapped[str] = mapped_column(String(36), nullable=False, sort_order=2)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False, sort_order=3)


def _guide_rollup_indexes(table: str, period: str) -> tuple[Index, ...]:
    # covering indexes: a board is one index range scan per scope
    return (
        Index(f"ix_{table}_store", "metric", "store_id", period, "guide_id", "value"),
        Index(f"ix_{table}_region", "metric", "region_id", period, "guide_id", "value"),
        Index(f"ix_{table}_all", "metric", period, "guide_id", "value"),
    )


def _store_rollup_indexes(table: str, period: str) -> tuple[Index, ...]:
    return (
        Index(f"ix_{table}_region", "metric", "region_id", period, "store_id", "value"),
        Index(f"ix_{table}_all", "metric", period, "store_id", "region_id", "value"),
    )


class LedgerGuideDay(_Rollup, Base):
    """Daily rollup per guide and store, kept by every ledger event (boards never read raw rows)."""

    __tablename__ = "ledger_guide_day"
    day: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-2)
    guide_id: Mapped[str] = mapped_column(String(36), primary_key=True, sort_order=0)

    __table_args__ = _guide_rollup_indexes("ledger_guide_day", "day")


class LedgerStoreDay(_Rollup, Base):
    """Daily rollup per store (store, region and company boards of stores and regions)."""

    __tablename__ = "ledger_store_day"
    day: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-2)

    __table_args__ = _store_rollup_indexes("ledger_store_day", "day")


class LedgerGuideMonth(_Rollup, Base):
    """Monthly rollup per guide and store (``month`` = ordinal of its first day): whole months of a
    period are read here, only the days at its edges from the daily rollup."""

    __tablename__ = "ledger_guide_month"
    month: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-2)
    guide_id: Mapped[str] = mapped_column(String(36), primary_key=True, sort_order=0)

    __table_args__ = _guide_rollup_indexes("ledger_guide_month", "month")


class LedgerStoreMonth(_Rollup, Base):
    """Monthly rollup per store."""

    __tablename__ = "ledger_store_month"
    month: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-2)

    __table_args__ = _store_rollup_indexes("ledger_store_month", "month")


# the landing page's tables live in their own module; loading them here keeps one metadata for migrations
from hq import landing_models as _landing_models  # noqa: E402,F401
