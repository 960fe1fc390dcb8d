"""The context every service runs in: the database, the HLC clock, the store and the acting guide.

:meth:`AppContext.write` opens one write transaction; :class:`Writer` applies field changes to a
synced row, stamps each changed field with the clock, and appends the outbox mutation in that same
transaction, so a crash can never leave a change without its outbox row or the reverse.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from guide_app.db import outbox
from guide_app.db.engine import Database
from guide_app.db.state import get_state, set_state
from guide_app.domain.hlc import Clock


def wall_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Actor:
    guide_id: str
    store_id: str
    role: str = "guide"  # guide | store_manager | region_manager | hq_admin
    name: str = ""

    @property
    def is_manager(self) -> bool:
        return self.role in ("store_manager", "region_manager", "hq_admin")


class AppContext:
    def __init__(self, db: Database, actor: Actor, now_ms: Callable[[], int] = wall_ms) -> None:
        self.db = db
        self.actor = actor
        self._now = now_ms
        self.after_write: list[Callable[[], None]] = []  # e.g. the sync scheduler's "changes pending" nudge
        with db.write() as session:
            node = get_state(session, "hlc_node")
            if node is None:
                node = secrets.token_hex(6)
                set_state(session, "hlc_node", node)
            offset = int(get_state(session, "clock_offset_ms", "0") or 0)
        self.clock = Clock(node, wall=now_ms, offset_ms=offset)

    @property
    def store_id(self) -> str:
        return self.actor.store_id

    def now_ms(self) -> int:
        return self.clock.now_ms()

    @contextmanager
    def write(self) -> Iterator[Writer]:
        with self.db.write() as session:
            writer = Writer(session, self)
            yield writer
        if writer.mutations:
            for hook in list(self.after_write):
                hook()

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self.db.read() as session:
            yield session


@dataclass
class Writer:
    session: Session
    ctx: AppContext
    mutations: int = 0
    stamps: list[str] = field(default_factory=list)

    def stamp(self) -> str:
        s = self.ctx.clock.tick()
        self.stamps.append(s)
        return s

    def apply(self, entity: str, row: Any, changes: dict[str, Any], *, new: bool = False) -> dict[str, Any]:
        """Set ``changes`` on ``row`` (only fields whose value differs, or all when ``new``), stamp them,
        and append the outbox mutation. Returns the old values of the fields that changed."""
        changed = {k: v for k, v in changes.items() if new or getattr(row, k) != v}
        if not changed:
            return {}
        old = {k: (None if new else getattr(row, k)) for k in changed}
        stamp = self.stamp()
        hlc = dict(row.field_hlc or {})
        for k, v in changed.items():
            setattr(row, k, v)
            hlc[k] = stamp
        row.field_hlc = hlc
        if new:
            self.session.add(row)
        self.session.flush()
        outbox.append(
            self.session,
            entity=entity,
            entity_id=row.id,
            fields=changed,
            field_hlc={k: stamp for k in changed},
            now_ms=self.ctx.now_ms(),
        )
        self.mutations += 1
        return old

    def tombstone(self, entity: str, row: Any) -> str:
        stamp = self.stamp()
        row.deleted_hlc = stamp
        self.session.flush()
        outbox.append(
            self.session,
            entity=entity,
            entity_id=row.id,
            fields={},
            field_hlc={},
            deleted_hlc=stamp,
            now_ms=self.ctx.now_ms(),
        )
        self.mutations += 1
        return stamp
