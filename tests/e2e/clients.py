"""Simulated counter PCs: each a real client SQLite file signed in to the real HQ process."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from guide_app.db.engine import open_database
from guide_app.db.models import Customer, CustomerHistory, CustomerTag, Outbox, Tag
from guide_app.services.context import AppContext
from guide_app.services.customers import CustomerInput, CustomerService
from guide_app.services.sync_service import SyncService
from guide_app.services.tags import TagService
from guide_app.sync.backoff import Backoff
from tests.e2e.hq_process import DEMO_PASSWORD

FAST = Backoff(base_s=0.01, cap_s=0.05, max_attempts=5, rng=random.Random(3))


class PC:
    def __init__(self, path: Path, url: str, username: str, *, transport: httpx.BaseTransport | None = None,
                 clock_skew_ms: int = 0, backoff: Backoff = FAST, protocol_version: int | None = None,
                 login: bool = True) -> None:
        self.path = path
        self.skew = clock_skew_ms
        self.db = open_database(path)
        self.sync_service = SyncService(self.db, memory_tokens=True, transport=transport, backoff=backoff,
                                        now_ms=self.wall, protocol_version=protocol_version)
        if login:
            actor = self.sync_service.login(url, username, DEMO_PASSWORD)
            self.ctx = AppContext(self.db, actor, now_ms=self.wall)
            self.sync_service.attach(self.ctx)
            self.customers = CustomerService(self.ctx)
            self.tags = TagService(self.ctx)

    def wall(self) -> int:
        return int(time.time() * 1000) + self.skew

    def sync(self) -> Any:
        return self.sync_service.sync_now()

    def close(self) -> None:
        self.sync_service.client.close()
        self.db.dispose()

    # --- helpers for tests -------------------------------------------------------------------
    def create(self, name: str, phone: str = "", **kw: str) -> str:
        return self.customers.create(CustomerInput(name=name, phone=phone, **kw))

    def edit(self, customer_id: str, **changes: str) -> None:
        current = self.customers.get(customer_id)
        data = CustomerInput.from_customer(current)
        for k, v in changes.items():
            setattr(data, k, v)
        self.customers.update(customer_id, data)

    def customer(self, customer_id: str) -> Customer:
        with self.db.read() as s:
            row = s.scalars(select(Customer).where(Customer.id == customer_id)).one()
            s.expunge(row)
            return row

    def book(self) -> dict[str, tuple[Any, ...]]:
        """The store's customers as this PC sees them, for convergence checks."""
        with self.db.read() as s:
            return {c.id: (c.name, c.phone, c.notes, c.wechat_id, c.consent_sms, c.deleted_hlc is not None,
                           c.merged_into, c.total_spent_cents)
                    for c in s.scalars(select(Customer))}

    def tag_state(self) -> dict[str, bool]:
        with self.db.read() as s:
            return {t.id: t.active for t in s.scalars(select(CustomerTag).where(CustomerTag.deleted_hlc.is_(None)))}

    def history(self, customer_id: str) -> list[tuple[str, str | None]]:
        with self.db.read() as s:
            return [(h.field, h.old_value) for h in s.scalars(
                select(CustomerHistory).where(CustomerHistory.customer_id == customer_id))]

    def outbox_status(self) -> dict[str, int]:
        with self.db.read() as s:
            out: dict[str, int] = {}
            for st in s.scalars(select(Outbox.status)):
                out[st] = out.get(st, 0) + 1
            return out

    def store_offset(self) -> int:
        return int(self.sync_service.store.get_state("clock_offset_ms") or 0)

    def any_tag(self) -> str:
        with self.db.read() as s:
            return s.scalars(select(Tag.id).order_by(Tag.id)).first() or ""
