"""Leaderboards: event ledger, per-row contributions, daily and monthly rollups per guide and per store, org settings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 23:15:20.990201
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ledger_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('metric', sa.String(length=20), nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.String(length=36), nullable=False),
    sa.Column('region_id', sa.String(length=36), nullable=False),
    sa.Column('guide_id', sa.String(length=36), nullable=False),
    sa.Column('campaign_id', sa.String(length=64), nullable=False),
    sa.Column('delta', sa.BigInteger(), nullable=False),
    sa.Column('subject', sa.String(length=70), nullable=False),
    sa.Column('at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ledger_event', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_event_subject', ['subject'], unique=False)

    op.create_table('ledger_guide_day',
    sa.Column('metric', sa.String(length=20), nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.String(length=36), nullable=False),
    sa.Column('guide_id', sa.String(length=36), nullable=False),
    sa.Column('campaign_id', sa.String(length=64), nullable=False),
    sa.Column('region_id', sa.String(length=36), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('metric', 'day', 'store_id', 'guide_id', 'campaign_id')
    )
    with op.batch_alter_table('ledger_guide_day', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_guide_day_all', ['metric', 'day', 'guide_id', 'value'], unique=False)
        batch_op.create_index('ix_ledger_guide_day_region', ['metric', 'region_id', 'day', 'guide_id', 'value'], unique=False)
        batch_op.create_index('ix_ledger_guide_day_store', ['metric', 'store_id', 'day', 'guide_id', 'value'], unique=False)

    op.create_table('ledger_item',
    sa.Column('entity', sa.String(length=30), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('store_id', sa.String(length=36), nullable=False),
    sa.Column('region_id', sa.String(length=36), nullable=False),
    sa.Column('guide_id', sa.String(length=36), nullable=False),
    sa.Column('campaign_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('at', sa.BigInteger(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('counts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('entity', 'id')
    )
    with op.batch_alter_table('ledger_item', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_item_store_phone', ['store_id', 'phone'], unique=False)

    op.create_table('ledger_store_day',
    sa.Column('metric', sa.String(length=20), nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.String(length=36), nullable=False),
    sa.Column('campaign_id', sa.String(length=64), nullable=False),
    sa.Column('region_id', sa.String(length=36), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('metric', 'day', 'store_id', 'campaign_id')
    )
    with op.batch_alter_table('ledger_store_day', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_store_day_all', ['metric', 'day', 'store_id', 'region_id', 'value'], unique=False)
        batch_op.create_index('ix_ledger_store_day_region', ['metric', 'region_id', 'day', 'store_id', 'value'], unique=False)

    op.create_table('ledger_guide_month',
    sa.Column('metric', sa.String(length=20), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.String(length=36), nullable=False),
    sa.Column('guide_id', sa.String(length=36), nullable=False),
    sa.Column('campaign_id', sa.String(length=64), nullable=False),
    sa.Column('region_id', sa.String(length=36), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('metric', 'month', 'store_id', 'guide_id', 'campaign_id')
    )
    with op.batch_alter_table('ledger_guide_month', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_guide_month_all', ['metric', 'month', 'guide_id', 'value'], unique=False)
        batch_op.create_index('ix_ledger_guide_month_region', ['metric', 'region_id', 'month', 'guide_id', 'value'], unique=False)
        batch_op.create_index('ix_ledger_guide_month_store', ['metric', 'store_id', 'month', 'guide_id', 'value'], unique=False)

    op.create_table('ledger_store_month',
    sa.Column('metric', sa.String(length=20), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.String(length=36), nullable=False),
    sa.Column('campaign_id', sa.String(length=64), nullable=False),
    sa.Column('region_id', sa.String(length=36), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('metric', 'month', 'store_id', 'campaign_id')
    )
    with op.batch_alter_table('ledger_store_month', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_store_month_all', ['metric', 'month', 'store_id', 'region_id', 'value'], unique=False)
        batch_op.create_index('ix_ledger_store_month_region', ['metric', 'region_id', 'month', 'store_id', 'value'], unique=False)

    op.create_table('org_setting',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('org_setting')
    op.drop_table('ledger_store_month')
    op.drop_table('ledger_guide_month')
    with op.batch_alter_table('ledger_store_day', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_store_day_region')
        batch_op.drop_index('ix_ledger_store_day_all')

    op.drop_table('ledger_store_day')
    with op.batch_alter_table('ledger_item', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_item_store_phone')

    op.drop_table('ledger_item')
    with op.batch_alter_table('ledger_guide_day', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_guide_day_store')
        batch_op.drop_index('ix_ledger_guide_day_region')
        batch_op.drop_index('ix_ledger_guide_day_all')

    op.drop_table('ledger_guide_day')
    with op.batch_alter_table('ledger_event', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_event_subject')

    op.drop_table('ledger_event')
