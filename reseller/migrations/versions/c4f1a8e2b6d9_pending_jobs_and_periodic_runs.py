"""Jobs owed by committed transactions (the relay hands them to Redis until they run), the
last cron time each periodic job fired for, and how often a hold was kept past its expiry
because its purchase was still open.

Revision ID: c4f1a8e2b6d9
Revises: caa66d9d7ec8
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

from reseller.core.types import UTCDateTime

revision = 'c4f1a8e2b6d9'
down_revision = 'caa66d9d7ec8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'pending_jobs',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('path', sa.String(length=255), nullable=False),
        sa.Column('args', sa.JSON(), nullable=False),
        sa.Column('queue', sa.String(length=16), nullable=False),
        sa.Column('retries', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.String(length=128), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('not_before', UTCDateTime(), nullable=False),
        sa.Column('handed_at', UTCDateTime(), nullable=True),
        sa.Column('handovers', sa.Integer(), nullable=False),
        sa.Column('rq_job_id', sa.String(length=64), nullable=True),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('failed_at', UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_pending_jobs_created_at'), 'pending_jobs', ['created_at'])
    op.create_table(
        'periodic_runs',
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('last_due_at', UTCDateTime(), nullable=False),
        sa.Column('fired_at', UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('name'),
    )
    with op.batch_alter_table('wallet_holds') as batch:
        batch.add_column(sa.Column('extensions', sa.Integer(), nullable=False,
                                   server_default='0'))


def downgrade():
    with op.batch_alter_table('wallet_holds') as batch:
        batch.drop_column('extensions')
    op.drop_table('periodic_runs')
    op.drop_index(op.f('ix_pending_jobs_created_at'), table_name='pending_jobs')
    op.drop_table('pending_jobs')
