"""Landing page of acquisition codes: rate-limit hits, leads with consent, per-code daily figures

Revision ID: 0003_landing
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = '0003_landing'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('landing_hit',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('landing_hit', schema=None) as batch_op:
        batch_op.create_index('ix_landing_hit_code', ['kind', 'code', 'at'], unique=False)
        batch_op.create_index('ix_landing_hit_address', ['kind', 'address', 'at'], unique=False)
        batch_op.create_index('ix_landing_hit_at', ['at'], unique=False)

    op.create_table('code_lead',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('code_id', sa.String(length=36), nullable=False),
    sa.Column('store_id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('channels', sa.String(length=30), nullable=False),
    sa.Column('how', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('code_lead', schema=None) as batch_op:
        batch_op.create_index('ix_code_lead_code_phone', ['code_id', 'phone', 'at'], unique=False)

    op.create_table('code_stat_day',
    sa.Column('code_id', sa.String(length=36), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('store_id', sa.String(length=36), nullable=False),
    sa.Column('scans', sa.Integer(), nullable=False),
    sa.Column('leads', sa.Integer(), nullable=False),
    sa.Column('new_customers', sa.Integer(), nullable=False),
    sa.Column('existing_customers', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('code_id', 'day')
    )
    with op.batch_alter_table('code_stat_day', schema=None) as batch_op:
        batch_op.create_index('ix_code_stat_day_store_version', ['store_id', 'version'], unique=False)


def downgrade() -> None:
    op.drop_table('code_stat_day')
    op.drop_table('code_lead')
    op.drop_table('landing_hit')
