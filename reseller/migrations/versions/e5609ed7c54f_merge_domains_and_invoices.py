"""merge domains and invoices

Revision ID: e5609ed7c54f
Revises: 4685c127a2fa, 98fce87c181a
Create Date: 2026-11-22 03:36:30.380271

"""
from alembic import op
import sqlalchemy as sa
import reseller.core.types


# revision identifiers, used by Alembic.
revision = 'e5609ed7c54f'
down_revision = ('4685c127a2fa', '98fce87c181a')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
