"""A zone's publishing claim: who talks to the DNS server about it, until when.

Revision ID: d7a3f19c2e60
Revises: d3a7c1e9f5b2
Create Date: 2026-12-06 09:20:00.000000

"""
import sqlalchemy as sa
from alembic import op

import reseller.core.types

# revision identifiers, used by Alembic.
revision = 'd7a3f19c2e60'
down_revision = 'd3a7c1e9f5b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dns_zones', schema=None) as batch_op:
        batch_op.add_column(sa.Column('publish_claim', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('publishing_until',
                                      reseller.core.types.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('dns_zones', schema=None) as batch_op:
        batch_op.drop_column('publishing_until')
        batch_op.drop_column('publish_claim')
