"""Credential throttling: shared failure counters and locks (the database store), lock
events for the operator without a reseller, and the per-user lock columns they replace.

Revision ID: b7e3c9a1d5f2
Revises: 5e24c716de54
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

import reseller.core.types

revision = 'b7e3c9a1d5f2'
down_revision = '5e24c716de54'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'auth_throttles',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('window_ends_at', reseller.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('locked_until', reseller.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_auth_throttles')),
    )
    with op.batch_alter_table('auth_throttles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_throttles_locked_until'), ['locked_until'],
                              unique=False)
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.alter_column('reseller_id', existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('failed_logins')
        batch_op.drop_column('locked_until')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked_until',
                                      reseller.core.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False,
                                      server_default='0'))
    op.execute("DELETE FROM events WHERE reseller_id IS NULL")
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.alter_column('reseller_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('auth_throttles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_throttles_locked_until'))
    op.drop_table('auth_throttles')
