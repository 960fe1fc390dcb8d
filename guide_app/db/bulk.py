"""Inserting many rows with one ``executemany`` per table instead of an ORM flush (or a Core
statement compiled per row) each.

Used by the write path's batch mode (an import). New mapped objects stay plain (transient): they are
never added to the session. Their integer keys are allocated here and set on the objects, so later
steps (search keys) can use ``row.pk``: the write holds SQLite's only write lock (BEGIN IMMEDIATE),
and these tables have no AUTOINCREMENT, so ``max(pk) + 1, + 2, …`` is exactly what SQLite would
assign row by row. (``INSERT … RETURNING`` in parameter order would do, but SQLAlchemy then sends
SQLite one statement per row.) Values go through each column type's own bind processor (JSON as
SQLAlchemy writes it), then straight to the driver's ``executemany``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, Integer, Table, func, inspect, select
from sqlalchemy.orm import Mapper, Session

from guide_app.db.models import Base

_MISSING = object()


@dataclass(frozen=True)
class _Column:
    attr: str  # attribute on the object
    default: Callable[[], Any]  # value when the object never set the attribute
    process: Callable[[Any], Any] | None  # the column type's bind processor (JSON → text)
    fixed_default: Any  # the default when it is a constant (or None), else _MISSING


@dataclass(frozen=True)
class _Plan:
    table: Table
    key: _Column | None  # the integer primary key SQLite would assign, when the table has one
    insert_sql: str  # every column but the key
    insert_with_key_sql: str  # the key first, then the others
    # the per-row loop: (attribute, value when absent) for every column, then the positions whose
    # absent value must be computed or whose value goes through a bind processor
    plain: tuple[tuple[str, Any], ...]
    fix: tuple[tuple[int, _Column], ...]

    def values(self, given: dict[str, Any]) -> tuple[Any, ...]:
        get = given.get
        out = [get(attr, absent) for attr, absent in self.plain]
        for i, c in self.fix:
            v = out[i]
            if v is _MISSING:
                v = c.default()
            out[i] = v if c.process is None else c.process(v)
        return tuple(out)


_PLANS: dict[tuple[type, str], _Plan] = {}


def _column(attr: str, column: Any, dialect: Dialect) -> _Column:
    process = column.type.bind_processor(dialect)
    d = column.default
    if d is None:
        return _Column(attr, lambda: None, process, None)
    if d.is_scalar:
        value = d.arg
        return _Column(attr, lambda: value, process, value)
    if d.is_callable:
        fn = d.arg  # SQLAlchemy wraps a zero-argument default to take the context
        return _Column(attr, lambda: fn(None), process, _MISSING)
    raise ValueError(f"unsupported default on {column}")


def _plan(model: type, dialect: Dialect) -> _Plan:
    plan = _PLANS.get((model, dialect.name))
    if plan is None:
        mapper: Mapper[Any] = inspect(model)
        table = mapper.local_table
        assert isinstance(table, Table)
        key: tuple[str, _Column] | None = None
        columns: list[tuple[str, _Column]] = []
        for prop in mapper.column_attrs:
            col = prop.columns[0]
            entry = (col.name, _column(prop.key, col, dialect))
            if col.primary_key and col.autoincrement in (True, "auto") and isinstance(col.type, Integer):
                if table.kwargs.get("sqlite_autoincrement"):
                    raise ValueError(f"{table.name}: keys of an AUTOINCREMENT table are not max + 1")
                key = entry
            else:
                columns.append(entry)
        quote = dialect.identifier_preparer.quote

        def sql(names: list[str]) -> str:
            return (f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
                    f"VALUES ({', '.join('?' for _ in names)})")

        names = [n for n, _ in columns]
        cols = tuple(c for _, c in columns)
        plan = _PLANS[(model, dialect.name)] = _Plan(
            table, None if key is None else key[1], sql(names), sql(names if key is None else [key[0], *names]),
            plain=tuple((c.attr, c.fixed_default) for c in cols),
            fix=tuple((i, c) for i, c in enumerate(cols) if c.process is not None or c.fixed_default is _MISSING))
    return plan


def insert_new(session: Session, rows: Sequence[Any]) -> None:
    """INSERT the given new objects (not in the session), table by table in foreign-key order and in
    the given order within a table; sets the database-assigned key (``pk``) on each object."""
    by_model: dict[type, list[Any]] = {}
    for row in rows:
        by_model.setdefault(type(row), []).append(row)
    conn = session.connection()
    order = {t: i for i, t in enumerate(Base.metadata.sorted_tables)}
    for model in sorted(by_model, key=lambda m: order[_plan(m, conn.dialect).table]):
        plan = _plan(model, conn.dialect)
        objs = by_model[model]
        params = [plan.values(obj.__dict__) for obj in objs]
        if plan.key is None:
            conn.exec_driver_sql(plan.insert_sql, params)
            continue
        top = int(session.execute(select(func.coalesce(func.max(plan.table.primary_key.columns[0]), 0)))
                  .scalar_one())
        keys = range(top + 1, top + 1 + len(objs))
        for obj, k in zip(objs, keys, strict=True):
            setattr(obj, plan.key.attr, k)
        conn.exec_driver_sql(plan.insert_with_key_sql, [(k, *p) for k, p in zip(keys, params, strict=True)])


def insert_values(session: Session, model: type, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT plain rows given as ``{attribute: value}`` with one executemany; an attribute a row leaves
    out gets its column default, and the integer key is left to SQLite (rows keep the list order)."""
    if not rows:
        return
    conn = session.connection()
    plan = _plan(model, conn.dialect)
    conn.exec_driver_sql(plan.insert_sql, [plan.values(r) for r in rows])
