"""Outbox messages and webhook deliveries carry the lease of the send in flight.

The claim commits before the SMTP or HTTP call, so no transaction stays open across it;
the lease lets another run take the send over when the claiming worker died mid-send.

Revision ID: d3a7c1e9f5b2
Revises: c5e8a2f4b913
Create Date: 2026-12-06 09:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

import reseller.core.types

# revision identifiers, used by Alembic.
revision = 'd3a7c1e9f5b2'
down_revision = 'c5e8a2f4b913'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('outbox_messages', 'webhook_deliveries'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('claimed_until',
                                          reseller.core.types.UTCDateTime(timezone=True),
                                          nullable=True))


def downgrade():
    for table in ('webhook_deliveries', 'outbox_messages'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('claimed_until')
