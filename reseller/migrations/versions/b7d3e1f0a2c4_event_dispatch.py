"""Events remember whether their deferred listeners have run (transactional outbox).

Revision ID: b7d3e1f0a2c4
Revises: b7e3c1d2a9f4
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

import reseller.core.types

revision = 'b7d3e1f0a2c4'
down_revision = 'b7e3c1d2a9f4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('events') as batch:
        batch.add_column(sa.Column('dispatched_at', reseller.core.types.UTCDateTime(timezone=True),
                                   nullable=True))
    # Every earlier event's listeners ran inside its own transaction.
    op.execute("UPDATE events SET dispatched_at = created_at")
    op.create_index('ix_events_undispatched', 'events', ['created_at'],
                    postgresql_where=sa.text('dispatched_at IS NULL'),
                    sqlite_where=sa.text('dispatched_at IS NULL'))


def downgrade():
    op.drop_index('ix_events_undispatched', table_name='events')
    with op.batch_alter_table('events') as batch:
        batch.drop_column('dispatched_at')
