"""sandbox registry: creation time of host and contact objects (EPP crDate)

Revision ID: b7e3c1d2a9f4
Revises: a8fc51d9f730
Create Date: 2026-12-03 21:40:00

"""
from alembic import op
import sqlalchemy as sa
import reseller.core.types


# revision identifiers, used by Alembic.
revision = 'b7e3c1d2a9f4'
down_revision = 'a8fc51d9f730'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('sandbox_registry_hosts', 'sandbox_registry_contacts'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('created_at',
                                          reseller.core.types.UTCDateTime(timezone=True),
                                          nullable=True))


def downgrade():
    for table in ('sandbox_registry_contacts', 'sandbox_registry_hosts'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('created_at')
