"""customer_search: given-name keys (name_tail, py_initials_tail, name_last) so 小明 / xm find 王小明

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 10:00:00

customer_search is kept by guide_app.db.search_index (raw SQL, not ORM-mapped). The new keys depend on
the name alone, so the backfill reads the lower-cased name already in customer_search and computes them
with the same domain functions search_keys() uses; the indexes are built after the backfill (one sorted
build each instead of 3 index updates per row).
"""
from alembic import op

from guide_app.domain.pinyin_keys import name_tail, pinyin_keys

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

TAIL_COLUMNS = ("name_tail", "py_initials_tail", "name_last")
_BATCH = 5000


def _tail_keys(name: str, cache: dict[str, tuple[str, str, str]]) -> tuple[str, str, str]:
    keys = cache.get(name)
    if keys is None:
        tail = name_tail(name)
        keys = cache[name] = (tail, pinyin_keys(tail)[1], tail[-1:])
    return keys


def upgrade() -> None:
    for col in TAIL_COLUMNS:
        op.execute(f"ALTER TABLE customer_search ADD COLUMN {col} TEXT NOT NULL DEFAULT ''")
    conn = op.get_bind()
    cache: dict[str, tuple[str, str, str]] = {}  # many customers share a given name, fewer a whole name
    last_pk = -1
    while True:
        rows = conn.exec_driver_sql(
            "SELECT pk, name FROM customer_search WHERE pk > ? ORDER BY pk LIMIT ?", (last_pk, _BATCH)
        ).all()
        if not rows:
            break
        last_pk = rows[-1][0]
        updates = [(*_tail_keys(name, cache), pk) for pk, name in rows]
        conn.exec_driver_sql(
            "UPDATE customer_search SET name_tail = ?, py_initials_tail = ?, name_last = ? WHERE pk = ?", updates
        )
    for col in TAIL_COLUMNS:
        op.execute(f"CREATE INDEX ix_customer_search_{col} ON customer_search(store_id, {col})")


def downgrade() -> None:
    for col in TAIL_COLUMNS:
        op.execute(f"DROP INDEX IF EXISTS ix_customer_search_{col}")
        op.execute(f"ALTER TABLE customer_search DROP COLUMN {col}")
