"""merge feature branches

Revision ID: d22b3186ec71
Revises: 19b2445c8a01, 1e09eb54d549, a0d350fbe60f, dc816b29405e
Create Date: 2026-11-22 03:05:57.229326

"""
from alembic import op
import sqlalchemy as sa
import reseller.core.types


# revision identifiers, used by Alembic.
revision = 'd22b3186ec71'
down_revision = ('19b2445c8a01', '1e09eb54d549', 'a0d350fbe60f', 'dc816b29405e')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
