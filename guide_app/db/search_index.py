"""Keeps the customer search keys (FTS5 trigram + prefix table) in step with the customer row.

Called in the same transaction as every customer write, so search never sees a half-written row.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from sqlalchemy import text
from sqlalchemy.orm import Session

from guide_app.domain.phones import national_digits
from guide_app.domain.pinyin_keys import name_tail, pinyin_keys


def search_keys(name: str, phone: str, wechat_id: str) -> dict[str, str]:
    full, initials = pinyin_keys(name)
    tail = name_tail(name)
    return {
        "name": (name or "").lower(),
        "py_full": full,
        "py_initials": initials,
        "phone_digits": national_digits(phone),
        "wechat": (wechat_id or "").lower(),
        # the given name, so 小明 / xm find 王小明 before the FTS (3+ characters) takes over
        "name_tail": tail,
        "py_initials_tail": _initials(tail),
        "name_last": tail[-1:],
    }


@lru_cache(maxsize=1 << 14)
def _initials(text: str) -> str:
    """Initials of a given name: cached, as given names repeat across a book far more than full names."""
    return pinyin_keys(text)[1]


# customer_search columns after pk and store_id, in the order of search_row()
SEARCH_COLUMNS = ("name", "py_full", "py_initials", "phone_digits", "wechat", "name_tail", "py_initials_tail",
                  "name_last")
FTS_COLUMNS = ("name", "py_full", "py_initials", "phone_digits", "wechat")
FTS_INSERT = f"INSERT INTO customer_fts(rowid, {', '.join(FTS_COLUMNS)}) VALUES (?{', ?' * len(FTS_COLUMNS)})"
SEARCH_UPSERT = (f"INSERT OR REPLACE INTO customer_search(pk, store_id, {', '.join(SEARCH_COLUMNS)}) "
                 f"VALUES (?, ?{', ?' * len(SEARCH_COLUMNS)})")


def search_row(pk: int, store_id: str, keys: dict[str, str]) -> tuple[object, ...]:
    """Parameters of SEARCH_UPSERT."""
    return (pk, store_id, *(keys[c] for c in SEARCH_COLUMNS))


def fts_row(pk: int, keys: dict[str, str]) -> tuple[object, ...]:
    """Parameters of FTS_INSERT."""
    return (pk, *(keys[c] for c in FTS_COLUMNS))


def index_customer(session: Session, pk: int, store_id: str, name: str, phone: str, wechat_id: str) -> None:
    index_customers(session, [(pk, store_id, name, phone, wechat_id)])


def index_customers(session: Session, rows: Sequence[tuple[int, str, str, str, str]], *,
                    fresh: Sequence[bool] = ()) -> None:
    """(Re)write the search keys of ``(pk, store_id, name, phone, wechat_id)`` rows, one executemany per
    statement. ``fresh[i]`` says row i has no keys yet (a customer inserted in this write): its old
    FTS row need not be deleted."""
    if not rows:
        return
    keyed = [(pk, store_id, search_keys(name, phone, wechat_id)) for pk, store_id, name, phone, wechat_id in rows]
    conn = session.connection()
    stale = [(pk,) for i, (pk, _, _) in enumerate(keyed) if not (i < len(fresh) and fresh[i])]
    if stale:
        conn.exec_driver_sql("DELETE FROM customer_fts WHERE rowid = ?", stale)
    conn.exec_driver_sql(FTS_INSERT, [fts_row(pk, k) for pk, _, k in keyed])
    conn.exec_driver_sql(SEARCH_UPSERT, [search_row(pk, store_id, k) for pk, store_id, k in keyed])


def unindex_customer(session: Session, pk: int) -> None:
    session.execute(text("DELETE FROM customer_fts WHERE rowid = :pk"), {"pk": pk})
    session.execute(text("DELETE FROM customer_search WHERE pk = :pk"), {"pk": pk})
