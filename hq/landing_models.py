"""HQ tables of the landing page (活码落地页): rate-limit hits, leads with the consent given, and the
per-code daily figures sent down to the store's PCs. On :class:`hq.models.Base`, so migrations and
test resets see them."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hq.models import Base


class LandingHit(Base):
    """One page view (``scan``) or form post (``submit``): the sliding-window rate limits count these in
    the database, so every ``hq serve`` process behind a balancer sees the same counts."""

    __tablename__ = "landing_hit"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    code: Mapped[str] = mapped_column(String(30), nullable=False)
    address: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[int] = mapped_column(BigInteger, nullable=False)

    __table_args__ = (
        Index("ix_landing_hit_code", "kind", "code", "at"),
        Index("ix_landing_hit_address", "kind", "address", "at"),
        Index("ix_landing_hit_at", "at"),
    )


class CodeLead(Base):
    """A shopper's submission: who, through which code, what became of it (``new`` customer or an
    ``existing`` one re-reached) and the consent they gave (channels, how, when)."""

    __tablename__ = "code_lead"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code_id: Mapped[str] = mapped_column(String(36), nullable=False)
    store_id: Mapped[str] = mapped_column(String(36), nullable=False)
    customer_id: Mapped[str] = mapped_column(String(36), nullable=False)
    phone: Mapped[str] = mapped_column(String(20), nullable=False)
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    outcome: Mapped[str] = mapped_column(String(10), nullable=False)  # new | existing
    channels: Mapped[str] = mapped_column(String(30), nullable=False)  # "phone,sms,wechat" as ticked
    how: Mapped[str] = mapped_column(String(20), nullable=False)  # qr_landing
    address: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[int] = mapped_column(BigInteger, nullable=False)

    __table_args__ = (Index("ix_code_lead_code_phone", "code_id", "phone", "at"),)


class CodeStatDay(Base):
    """One code's figures for one org-local day; ``version`` is the store version that last changed
    them, so a pull sends a code's days again only when they moved."""

    __tablename__ = "code_stat_day"
    code_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD
    store_id: Mapped[str] = mapped_column(String(36), nullable=False)
    scans: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    leads: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    new_customers: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    existing_customers: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)

    __table_args__ = (Index("ix_code_stat_day_store_version", "store_id", "version"),)
