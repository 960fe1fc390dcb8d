"""The context every service runs in: the database, the HLC clock, the store and the acting guide.

:meth:`AppContext.write` opens one write transaction; :class:`Writer` applies field changes to a
synced row, stamps each changed field with the clock, and appends the outbox mutation in that same
transaction, so a crash can never leave a change without its outbox row or the reverse.

``write(batch=True)`` (an import) stamps and collects the same way but writes at the end of the
transaction: new rows, outbox rows and plain rows (history) with one ``executemany`` per table instead
of two ORM flushes per change. Inside such a write, queries do not see what it has collected yet, so
its caller keeps the look-ups it needs in memory.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from guide_app.db import outbox
from guide_app.db.bulk import insert_new, insert_values
from guide_app.db.engine import Database
from guide_app.db.state import get_state, set_state
from guide_app.domain.hlc import Clock

T = TypeVar("T")


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
    def write(self, *, batch: bool = False) -> Iterator[Writer]:
        with self.db.write() as session:
            writer = Writer(session, self, batch=batch)
            yield writer
            writer.write_collected()
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
    batch: bool = False
    mutations: int = 0
    stamps: list[str] = field(default_factory=list)
    # batch mode: what write_collected() writes at the end of the transaction
    _new_rows: list[Any] = field(default_factory=list, repr=False)
    _outbox: list[dict[str, Any]] = field(default_factory=list, repr=False)
    _plain: dict[type, list[dict[str, Any]]] = field(default_factory=dict, repr=False)
    _later: dict[str, tuple[Any, Callable[[Session, Any], None]]] = field(default_factory=dict, repr=False)

    def stamp(self) -> str:
        s = self.ctx.clock.tick()
        self.stamps.append(s)
        return s

    def apply(self, entity: str, row: Any, changes: dict[str, Any], *, new: bool = False) -> dict[str, Any]:
        """Set ``changes`` on ``row`` (only fields whose value differs, or all when ``new``), stamp them,
        and append the outbox mutation. Returns the old values of the fields that changed.

        In batch mode a new row is not added to the session: it is inserted when the write ends (its
        ``pk`` is set then), with the values it has at that point."""
        changed = {k: v for k, v in changes.items() if new or getattr(row, k) != v}
        if not changed:
            return {}
        old = {k: (None if new else getattr(row, k)) for k in changed}
        stamp = self.stamp()
        hlc = dict(row.field_hlc or {})
        hlc.update(dict.fromkeys(changed, stamp))
        if self.batch and new:
            # bulk.insert_new reads the values from the row's __dict__ and the ORM never flushes
            # the row, so its attribute events (a third of this call) would be wasted
            vars(row).update(changed, field_hlc=hlc)
        else:
            for k, v in changed.items():
                setattr(row, k, v)
            row.field_hlc = hlc
        mutation = outbox.mutation(entity=entity, entity_id=row.id, fields=changed,
                                   field_hlc={k: stamp for k in changed}, now_ms=self.ctx.now_ms())
        if self.batch:
            if new:
                self._new_rows.append(row)
            self._outbox.append(mutation)
        else:
            if new:
                self.session.add(row)
            self.session.flush()
            outbox.add(self.session, mutation)
        self.mutations += 1
        return old

    def tombstone(self, entity: str, row: Any) -> str:
        stamp = self.stamp()
        row.deleted_hlc = stamp
        mutation = outbox.mutation(entity=entity, entity_id=row.id, fields={}, field_hlc={},
                                   deleted_hlc=stamp, now_ms=self.ctx.now_ms())
        if self.batch:
            self._outbox.append(mutation)
        else:
            self.session.flush()
            outbox.add(self.session, mutation)
        self.mutations += 1
        return stamp

    def add_rows(self, model: type, rows: Sequence[dict[str, Any]]) -> None:
        """Insert plain (unsynced) rows such as history: now through the session, or at the end of a batch."""
        if self.batch:
            self._plain.setdefault(model, []).extend(rows)
        else:
            self.session.add_all([model(**r) for r in rows])

    def later(self, key: str, make: Callable[[], T], run: Callable[[Session, T], None]) -> T:
        """Batch mode: the collection ``make()`` shared under ``key`` for this write; ``run(session,
        collection)`` is called once when the write ends, after new rows have their keys."""
        if key not in self._later:
            self._later[key] = (make(), run)
        collected: T = self._later[key][0]
        return collected

    def write_collected(self) -> None:
        """Write what a batch collected: new rows, changes to loaded rows, deferred work, plain rows,
        then the outbox in mutation order. Called by :meth:`AppContext.write` before it commits."""
        if not self.batch:
            return
        insert_new(self.session, self._new_rows)
        self.session.flush()
        for collected, run in self._later.values():
            run(self.session, collected)
        for model, rows in self._plain.items():
            insert_values(self.session, model, rows)
        outbox.append_many(self.session, self._outbox)
        self._new_rows, self._outbox, self._plain, self._later = [], [], {}, {}
