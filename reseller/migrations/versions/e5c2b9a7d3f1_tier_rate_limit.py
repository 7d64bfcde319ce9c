"""Each volume tier names the API rate-limit tier (a key of RATE_LIMITS) its resellers get.

Revision ID: e5c2b9a7d3f1
Revises: d2a6f8b4c1e7
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = 'e5c2b9a7d3f1'
down_revision = 'd2a6f8b4c1e7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('catalog_tiers') as batch:
        batch.add_column(sa.Column('rate_limit', sa.String(length=20), nullable=False,
                                   server_default='standard'))
    # The rate limits were keyed by the tier's code until now: keep what each tier had.
    op.execute("UPDATE catalog_tiers SET rate_limit = code "
               "WHERE code IN ('plus', 'pro', 'enterprise')")


def downgrade():
    with op.batch_alter_table('catalog_tiers') as batch:
        batch.drop_column('rate_limit')
