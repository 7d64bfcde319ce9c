"""Registry truth: what the registry says about each domain (ROID, RFC 5731 statuses,
last sync, a change whose answer was lost), and the sandbox registry's server statuses,
ROIDs and RGP restores waiting for their report.

Revision ID: a27d2e4f6a81
Revises: a27c1d3e5f70
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

import reseller.core.types

revision = 'a27d2e4f6a81'
down_revision = 'a27c1d3e5f70'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('domains') as batch:
        batch.add_column(sa.Column('roid', sa.String(length=89), nullable=True))
        batch.add_column(sa.Column('registry_statuses', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('synced_at', reseller.core.types.UTCDateTime(),
                                   nullable=True))
        batch.add_column(sa.Column('pending_change', sa.JSON(), nullable=True))
        batch.create_index('ix_domains_synced_at', ['synced_at'])
    with op.batch_alter_table('sandbox_registry_domains') as batch:
        batch.add_column(sa.Column('server_statuses', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('roid', sa.String(length=89), nullable=True))
        batch.add_column(sa.Column('restore_requested_at', reseller.core.types.UTCDateTime(),
                                   nullable=True))


def downgrade():
    with op.batch_alter_table('sandbox_registry_domains') as batch:
        batch.drop_column('restore_requested_at')
        batch.drop_column('roid')
        batch.drop_column('server_statuses')
    with op.batch_alter_table('domains') as batch:
        batch.drop_index('ix_domains_synced_at')
        batch.drop_column('pending_change')
        batch.drop_column('synced_at')
        batch.drop_column('registry_statuses')
        batch.drop_column('roid')
