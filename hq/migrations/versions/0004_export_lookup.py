"""Export audit entries are found by their actor: fill ``sync_row.lookup`` of those already held

Revision ID: 0004_export_lookup
Revises: 0003_landing
"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0004_export_lookup'
down_revision = '0003_landing'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # data only (hq/sync_rules.py lookup_of now sets it on push); ix_sync_row_lookup already covers it
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT store_id, id, data FROM sync_row WHERE entity = 'audit_log'")).fetchall()
    for store_id, row_id, data in rows:
        if isinstance(data, str):
            data = json.loads(data)
        if not isinstance(data, dict) or data.get("action") != "export" or not data.get("actor_id"):
            continue
        conn.execute(sa.text("UPDATE sync_row SET lookup = :actor WHERE store_id = :s AND entity = 'audit_log' "
                             "AND id = :i"), {"actor": str(data["actor_id"])[:40], "s": store_id, "i": row_id})


def downgrade() -> None:
    op.execute("UPDATE sync_row SET lookup = '' WHERE entity = 'audit_log'")
