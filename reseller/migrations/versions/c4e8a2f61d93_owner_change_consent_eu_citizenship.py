"""Owner-change consent links (link_tokens purpose 'owner_change') and a contact's country
of citizenship (.eu eligibility of EU citizens living outside the EU).

Revision ID: c4e8a2f61d93
Revises: 1ad45e03afbf
Create Date: 2026-12-06 06:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e8a2f61d93'
down_revision = '1ad45e03afbf'
branch_labels = None
depends_on = None

OLD = "purpose IN ('confirm_email', 'transfer_in', 'transfer_out', 'renewal')"
NEW = "purpose IN ('confirm_email', 'transfer_in', 'transfer_out', 'renewal', 'owner_change')"


def upgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('citizenship', sa.String(length=2), nullable=True))
    with op.batch_alter_table('link_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_link_tokens_purpose'), type_='check')
        batch_op.create_check_constraint('purpose', NEW)


def downgrade():
    op.execute("DELETE FROM link_tokens WHERE purpose = 'owner_change'")
    with op.batch_alter_table('link_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_link_tokens_purpose'), type_='check')
        batch_op.create_check_constraint('purpose', OLD)
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('citizenship')
