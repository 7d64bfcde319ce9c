"""The event feed reads in (txid, id) order: an index per reseller in that order.

Revision ID: c5e8a2f4b913
Revises: 1ad45e03afbf
Create Date: 2026-12-06 07:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c5e8a2f4b913'
down_revision = 'c4d2e8a61b97'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_events_feed', 'events', ['reseller_id', 'txid', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_events_feed', table_name='events')
