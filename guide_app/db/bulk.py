"""Inserting many new mapped rows with one Core ``executemany`` per table instead of an ORM flush each.

Used by the write path's batch mode (an import): the rows stay plain (transient) objects that are
never added to the session. Their integer keys are allocated here and set on the objects, so later
steps (search keys) can use ``row.pk``: the write holds SQLite's only write lock (BEGIN IMMEDIATE),
and these tables have no AUTOINCREMENT, so ``max(pk) + 1, + 2, …`` is exactly what SQLite would
assign row by row. (``INSERT … RETURNING`` in parameter order would do, but SQLAlchemy then sends
SQLite one statement per row.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Table, func, insert, inspect, select
from sqlalchemy.orm import Mapper, Session

from guide_app.db.models import Base

_MISSING = object()


@dataclass(frozen=True)
class _Column:
    attr: str  # attribute on the object
    key: str  # column key in the insert
    default: Callable[[], Any]  # value when the object never set the attribute


@dataclass(frozen=True)
class _Plan:
    table: Table
    columns: tuple[_Column, ...]
    returned: _Column | None  # the database-assigned integer key, when the table has one


_PLANS: dict[type, _Plan] = {}


def _default(column: Any) -> Callable[[], Any]:
    d = column.default
    if d is None:
        return lambda: None
    if d.is_scalar:
        value = d.arg
        return lambda: value
    if d.is_callable:
        fn = d.arg
        return lambda: fn(None)  # SQLAlchemy wraps a zero-argument default to take the context
    raise ValueError(f"unsupported default on {column}")


def _plan(model: type) -> _Plan:
    plan = _PLANS.get(model)
    if plan is None:
        mapper: Mapper[Any] = inspect(model)
        table = mapper.local_table
        assert isinstance(table, Table)
        returned = None
        columns = []
        for prop in mapper.column_attrs:
            col = prop.columns[0]
            if col.primary_key and col.autoincrement in (True, "auto") and isinstance(col.type, Integer):
                if table.kwargs.get("sqlite_autoincrement"):
                    raise ValueError(f"{table.name}: keys of an AUTOINCREMENT table are not max + 1")
                returned = _Column(prop.key, col.key, _default(col))
                continue
            columns.append(_Column(prop.key, col.key, _default(col)))
        plan = _PLANS[model] = _Plan(table, tuple(columns), returned)
    return plan


def insert_new(session: Session, rows: Sequence[Any]) -> None:
    """INSERT the given new objects (not in the session), table by table in foreign-key order and in
    the given order within a table; sets the database-assigned key (``pk``) on each object."""
    by_model: dict[type, list[Any]] = {}
    for row in rows:
        by_model.setdefault(type(row), []).append(row)
    order = {t: i for i, t in enumerate(Base.metadata.sorted_tables)}
    for model in sorted(by_model, key=lambda m: order[_plan(m).table]):
        plan = _plan(model)
        objs = by_model[model]
        params = []
        for obj in objs:
            state = obj.__dict__
            params.append({c.key: (v if (v := state.get(c.attr, _MISSING)) is not _MISSING else c.default())
                           for c in plan.columns})
        if plan.returned is not None:
            key_col = plan.table.c[plan.returned.key]
            top = int(session.execute(select(func.coalesce(func.max(key_col), 0))).scalar_one())
            for key, (obj, p) in enumerate(zip(objs, params, strict=True), start=top + 1):
                p[plan.returned.key] = key
                setattr(obj, plan.returned.attr, key)
        session.execute(insert(plan.table), params)


def insert_values(session: Session, model: type, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT plain rows given as ``{attribute: value}`` with one executemany; an attribute a row leaves
    out gets its column default (executemany needs the same columns in every row)."""
    if not rows:
        return
    plan = _plan(model)
    params = [{c.key: (v if (v := r.get(c.attr, _MISSING)) is not _MISSING else c.default()) for c in plan.columns}
              for r in rows]
    session.execute(insert(plan.table), params)
