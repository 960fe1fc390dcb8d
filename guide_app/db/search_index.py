"""Keeps the customer search keys (FTS5 trigram + prefix table) in step with the customer row.

Called in the same transaction as every customer write, so search never sees a half-written row.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from guide_app.domain.phones import national_digits
from guide_app.domain.pinyin_keys import pinyin_keys


def search_keys(name: str, phone: str, wechat_id: str) -> dict[str, str]:
    full, initials = pinyin_keys(name)
    return {
        "name": (name or "").lower(),
        "py_full": full,
        "py_initials": initials,
        "phone_digits": national_digits(phone),
        "wechat": (wechat_id or "").lower(),
    }


def index_customer(session: Session, pk: int, store_id: str, name: str, phone: str, wechat_id: str) -> None:
    index_customers(session, [(pk, store_id, name, phone, wechat_id)])


def index_customers(session: Session, rows: Sequence[tuple[int, str, str, str, str]], *,
                    fresh: Sequence[bool] = ()) -> None:
    """(Re)write the search keys of ``(pk, store_id, name, phone, wechat_id)`` rows, one executemany per
    statement. ``fresh[i]`` says row i has no keys yet (a customer inserted in this write): its old
    FTS row need not be deleted."""
    params = [{"pk": pk, "store_id": store_id, **search_keys(name, phone, wechat_id)}
              for pk, store_id, name, phone, wechat_id in rows]
    if not params:
        return
    stale = [{"pk": p["pk"]} for i, p in enumerate(params) if not (i < len(fresh) and fresh[i])]
    if stale:
        session.execute(text("DELETE FROM customer_fts WHERE rowid = :pk"), stale)
    session.execute(
        text(
            "INSERT INTO customer_fts(rowid, name, py_full, py_initials, phone_digits, wechat) "
            "VALUES (:pk, :name, :py_full, :py_initials, :phone_digits, :wechat)"
        ),
        params,
    )
    session.execute(
        text(
            "INSERT OR REPLACE INTO customer_search(pk, store_id, name, py_full, py_initials, phone_digits, wechat) "
            "VALUES (:pk, :store_id, :name, :py_full, :py_initials, :phone_digits, :wechat)"
        ),
        params,
    )


def unindex_customer(session: Session, pk: int) -> None:
    session.execute(text("DELETE FROM customer_fts WHERE rowid = :pk"), {"pk": pk})
    session.execute(text("DELETE FROM customer_search WHERE pk = :pk"), {"pk": pk})
