"""The local SQLite file: WAL, one writer at a time with BEGIN IMMEDIATE, readers never blocked.

Writes go through :meth:`Database.write` (``BEGIN IMMEDIATE`` so two writers never deadlock on a
lock upgrade); reads through :meth:`Database.read` (deferred, sees a consistent WAL snapshot).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

BUSY_TIMEOUT_MS = 15_000


def _make_engine(path: Path, begin: str) -> Engine:
    engine = create_engine(
        f"sqlite+pysqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _rec: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (pysqlite's own is broken)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.execute("PRAGMA cache_size=-32000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


class Database:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.write_engine = _make_engine(self.path, "BEGIN IMMEDIATE")
        self.read_engine = _make_engine(self.path, "BEGIN")
        self._write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: commits on success, rolls back everything on any exception."""
        with self._write_sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read_sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.write_engine.dispose()
        self.read_engine.dispose()


def open_database(path: Path, *, migrate: bool = True) -> Database:
    """Open (and by default migrate) the local file, creating its folder if needed."""
    from guide_app.db.migrate import upgrade_to_head

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if migrate:
        upgrade_to_head(path)
    return Database(path)
