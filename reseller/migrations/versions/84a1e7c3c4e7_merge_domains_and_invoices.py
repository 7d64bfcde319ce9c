"""merge domains and invoices

Revision ID: 84a1e7c3c4e7
Revises: 4685c127a2fa, a02ae15fbc10
Create Date: 2026-11-22 03:56:57.528128

"""
from alembic import op
import sqlalchemy as sa
import reseller.core.types


# revision identifiers, used by Alembic.
revision = '84a1e7c3c4e7'
down_revision = ('4685c127a2fa', 'a02ae15fbc10')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
