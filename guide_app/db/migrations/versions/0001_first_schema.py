"""first schema: customer book, tags, follow-ups, purchases, outbox

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23 22:44:57.850448
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

LIVE_CUSTOMER = "deleted_hlc IS NULL AND merged_into IS NULL"  # partial list indexes of models.Customer
GONE_CUSTOMER = "deleted_hlc IS NOT NULL OR merged_into IS NOT NULL"


def upgrade() -> None:
    op.create_table('app_setting',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('pc_account',
    sa.Column('guide_id', sa.String(length=36), nullable=False),
    sa.Column('pin_hash', sa.Text(), nullable=False),
    sa.Column('password_verifier', sa.Text(), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('guide_id')
    )
    op.create_table('audit_log',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.String(length=36), nullable=False),
    sa.Column('actor_id', sa.String(length=36), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('target', sa.String(length=100), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('at', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('field_hlc', sa.JSON(), nullable=False),
    sa.Column('deleted_hlc', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('id')
    )
    op.create_table('customer',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('wechat_id', sa.String(length=64), nullable=False),
    sa.Column('gender', sa.String(length=10), nullable=False),
    sa.Column('birthday', sa.String(length=10), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('owner_guide_id', sa.String(length=36), nullable=False),
    sa.Column('stage', sa.String(length=10), nullable=False),
    sa.Column('preferences', sa.Text(), nullable=False),
    sa.Column('sizes', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('consent_phone', sa.String(length=10), nullable=False),
    sa.Column('consent_sms', sa.String(length=10), nullable=False),
    sa.Column('consent_wechat', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.Integer(), nullable=False),
    sa.Column('merged_into', sa.String(length=36), nullable=True),
    sa.Column('erased', sa.Boolean(), server_default=sa.text('0'), nullable=False),
    sa.Column('sort_name', sa.String(length=200), nullable=False),
    sa.Column('last_purchase_at', sa.Integer(), nullable=True),
    sa.Column('total_spent_cents', sa.Integer(), nullable=False),
    sa.Column('order_count', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('field_hlc', sa.JSON(), nullable=False),
    sa.Column('deleted_hlc', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('id')
    )
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.create_index('ix_customer_owner', ['owner_guide_id'], unique=False)
        batch_op.create_index('ix_customer_store_created', ['store_id', 'created_at', 'stage', 'last_purchase_at',
                              'owner_guide_id'], unique=False,
                              sqlite_where=sa.text(LIVE_CUSTOMER))
        batch_op.create_index('ix_customer_store_lastbuy', ['store_id', 'last_purchase_at', 'stage', 'created_at',
                              'owner_guide_id'], unique=False,
                              sqlite_where=sa.text(LIVE_CUSTOMER))
        batch_op.create_index('ix_customer_store_phone', ['store_id', 'phone'], unique=False)
        batch_op.create_index('ix_customer_store_sort', ['store_id', 'sort_name', 'stage', 'created_at',
                              'last_purchase_at', 'owner_guide_id'], unique=False,
                              sqlite_where=sa.text(LIVE_CUSTOMER))
        batch_op.create_index('ix_customer_gone', ['store_id'], unique=False,
                              sqlite_where=sa.text(GONE_CUSTOMER))

    op.create_table('customer_history',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.Column('hlc', sa.String(length=64), nullable=False),
    sa.Column('by_guide_id', sa.String(length=36), nullable=False),
    sa.Column('at', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('pk')
    )
    with op.batch_alter_table('customer_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_history_customer_id'), ['customer_id'], unique=False)

    op.create_table('customer_tag',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('tag_id', sa.String(length=36), nullable=False),
    sa.Column('added_hlc', sa.String(length=64), nullable=True),
    sa.Column('removed_hlc', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('field_hlc', sa.JSON(), nullable=False),
    sa.Column('deleted_hlc', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('id')
    )
    with op.batch_alter_table('customer_tag', schema=None) as batch_op:
        batch_op.create_index('ix_customer_tag_pair', ['customer_id', 'tag_id'], unique=True)
        batch_op.create_index('ix_customer_tag_tag_active', ['tag_id', 'active', 'customer_id'], unique=False)

    op.create_table('follow_up',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('guide_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('at', sa.Integer(), nullable=False),
    sa.Column('next_at', sa.String(length=10), nullable=False),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('field_hlc', sa.JSON(), nullable=False),
    sa.Column('deleted_hlc', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('id')
    )
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_follow_up_due', ['store_id', 'done', 'next_at'], unique=False)

    op.create_table('guide',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('store_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('guide', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guide_store_id'), ['store_id'], unique=False)

    op.create_table('outbox',
    sa.Column('device_seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('op_id', sa.String(length=36), nullable=False),
    sa.Column('entity', sa.String(length=30), nullable=False),
    sa.Column('entity_id', sa.String(length=36), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('field_hlc', sa.JSON(), nullable=False),
    sa.Column('deleted_hlc', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reject_code', sa.String(length=40), nullable=False),
    sa.Column('reject_reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('device_seq'),
    sa.UniqueConstraint('op_id')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_status', ['status', 'device_seq'], unique=False)

    op.create_table('purchase',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('guide_id', sa.String(length=36), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('items', sa.Text(), nullable=False),
    sa.Column('at', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=10), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('field_hlc', sa.JSON(), nullable=False),
    sa.Column('deleted_hlc', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('id')
    )
    with op.batch_alter_table('purchase', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_customer_id'), ['customer_id'], unique=False)

    op.create_table('store',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('region_id', sa.String(length=36), nullable=True),
    sa.Column('region_name', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('sync_state',
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('tag_group',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.String(length=36), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('owner_guide_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('color', sa.String(length=9), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('multi', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('field_hlc', sa.JSON(), nullable=False),
    sa.Column('deleted_hlc', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('id')
    )
    op.create_table('tag',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('group_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('field_hlc', sa.JSON(), nullable=False),
    sa.Column('deleted_hlc', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['tag_group.id'], ),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('id')
    )
    with op.batch_alter_table('tag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tag_group_id'), ['group_id'], unique=False)


    op.create_table('acquisition_code',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.String(length=36), nullable=False),
    sa.Column('guide_id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('label', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=27), nullable=False),
    sa.Column('campaign_id', sa.String(length=36), nullable=False),
    sa.Column('auto_tag_ids', sa.JSON(), nullable=False),
    sa.Column('welcome_text', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.Integer(), nullable=True),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('logo', sa.Text(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('field_hlc', sa.JSON(), nullable=False),
    sa.Column('deleted_hlc', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('id')
    )
    with op.batch_alter_table('acquisition_code', schema=None) as batch_op:
        batch_op.create_index('ix_acquisition_code_code', ['code'], unique=True)
        batch_op.create_index('ix_acquisition_code_store_guide', ['store_id', 'guide_id'], unique=False)

    op.create_table('code_stat',
    sa.Column('code_id', sa.String(length=36), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('scans', sa.Integer(), nullable=False),
    sa.Column('leads', sa.Integer(), nullable=False),
    sa.Column('new_customers', sa.Integer(), nullable=False),
    sa.Column('existing_customers', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code_id', 'day')
    )

    op.create_table('leaderboard_snapshot',
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('metric', sa.String(length=20), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('as_of', sa.Integer(), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.Column('fetched_at', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )

    op.create_table('campaign_pack',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=80), nullable=False),
    sa.Column('manifest', sa.JSON(), nullable=False),
    sa.Column('valid_from', sa.String(length=10), nullable=False),
    sa.Column('valid_to', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('installed_at', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('campaign_pack_refusal',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('pack_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=80), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('reason_key', sa.String(length=60), nullable=False),
    sa.Column('reason_params', sa.JSON(), nullable=False),
    sa.Column('at', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('pk')
    )
    op.create_table('campaign_task',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.String(length=36), nullable=False),
    sa.Column('pack_id', sa.String(length=64), nullable=False),
    sa.Column('task_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('guide_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('done_at', sa.Integer(), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('field_hlc', sa.JSON(), nullable=False),
    sa.Column('deleted_hlc', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('id')
    )
    with op.batch_alter_table('campaign_task', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_task_pack', ['store_id', 'pack_id', 'customer_id', 'task_id'], unique=False)

    # search keys: FTS5 trigram for 3+ characters, prefix indexes for 1-2 characters
    op.execute(
        "CREATE VIRTUAL TABLE customer_fts USING fts5("
        "name, py_full, py_initials, phone_digits, wechat, tokenize='trigram')"
    )
    op.execute(
        "CREATE TABLE customer_search ("
        "pk INTEGER PRIMARY KEY, store_id TEXT NOT NULL, name TEXT NOT NULL, py_full TEXT NOT NULL, "
        "py_initials TEXT NOT NULL, phone_digits TEXT NOT NULL, wechat TEXT NOT NULL)"
    )
    for col in ("name", "py_full", "py_initials", "phone_digits", "wechat"):
        op.execute(f"CREATE INDEX ix_customer_search_{col} ON customer_search(store_id, {col})")


def downgrade() -> None:
    with op.batch_alter_table('campaign_task', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_task_pack')

    op.drop_table('campaign_task')
    op.drop_table('campaign_pack_refusal')
    op.drop_table('campaign_pack')
    op.drop_table('leaderboard_snapshot')
    op.drop_table('code_stat')
    with op.batch_alter_table('acquisition_code', schema=None) as batch_op:
        batch_op.drop_index('ix_acquisition_code_store_guide')
        batch_op.drop_index('ix_acquisition_code_code')

    op.drop_table('acquisition_code')
    op.execute("DROP TABLE IF EXISTS customer_search")
    op.execute("DROP TABLE IF EXISTS customer_fts")
    with op.batch_alter_table('tag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tag_group_id'))

    op.drop_table('tag')
    op.drop_table('tag_group')
    op.drop_table('sync_state')
    op.drop_table('store')
    with op.batch_alter_table('purchase', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_customer_id'))

    op.drop_table('purchase')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_status')

    op.drop_table('outbox')
    with op.batch_alter_table('guide', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_guide_store_id'))

    op.drop_table('guide')
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_due')
        batch_op.drop_index(batch_op.f('ix_follow_up_customer_id'))

    op.drop_table('follow_up')
    with op.batch_alter_table('customer_tag', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_tag_tag_active')
        batch_op.drop_index('ix_customer_tag_pair')

    op.drop_table('customer_tag')
    with op.batch_alter_table('customer_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_history_customer_id'))

    op.drop_table('customer_history')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_store_sort')
        batch_op.drop_index('ix_customer_gone')
        batch_op.drop_index('ix_customer_store_phone')
        batch_op.drop_index('ix_customer_store_lastbuy')
        batch_op.drop_index('ix_customer_store_created')
        batch_op.drop_index('ix_customer_owner')

    op.drop_table('customer')
    op.drop_table('audit_log')
    op.drop_table('pc_account')
    op.drop_table('app_setting')
