"""Contact identity for .fi/.se/.nu: the holder's type and its business/organisation
number or personal identity code (encrypted), also on the sandbox registry's contacts.

Revision ID: a27c1d3e5f70
Revises: f1a7d4c8e2b6
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

import reseller.core.crypto

revision = 'a27c1d3e5f70'
down_revision = 'f1a7d4c8e2b6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contacts') as batch:
        batch.add_column(sa.Column('entity_type', sa.String(length=30), nullable=True))
        batch.add_column(sa.Column('registration_number', reseller.core.crypto.EncryptedText(),
                                   nullable=True))
        batch.add_column(sa.Column('personal_id', reseller.core.crypto.EncryptedText(),
                                   nullable=True))
    with op.batch_alter_table('sandbox_registry_contacts') as batch:
        batch.add_column(sa.Column('identity', reseller.core.crypto.EncryptedText(),
                                   nullable=True))


def downgrade():
    with op.batch_alter_table('sandbox_registry_contacts') as batch:
        batch.drop_column('identity')
    with op.batch_alter_table('contacts') as batch:
        batch.drop_column('personal_id')
        batch.drop_column('registration_number')
        batch.drop_column('entity_type')
