"""Events remember their writing transaction (PostgreSQL), so the feed never skips one.

Revision ID: d2a6f8b4c1e7
Revises: c4e8a1f2d6b9
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = 'd2a6f8b4c1e7'
down_revision = 'c4e8a1f2d6b9'
branch_labels = None
depends_on = None


def upgrade():
    # Existing rows keep NULL (committed long ago: always shown); no table rewrite.
    op.add_column('events', sa.Column('txid', sa.BigInteger(), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE events ALTER COLUMN txid "
                   "SET DEFAULT (pg_current_xact_id()::text)::bigint")


def downgrade():
    with op.batch_alter_table('events') as batch:
        batch.drop_column('txid')
