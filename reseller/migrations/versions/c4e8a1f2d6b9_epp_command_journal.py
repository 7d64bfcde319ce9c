"""The EPP client's command journal (what was sent under which transaction id).

Revision ID: c4e8a1f2d6b9
Revises: b7d3e1f0a2c4
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

import reseller.core.types

revision = 'c4e8a1f2d6b9'
down_revision = 'b7d3e1f0a2c4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'epp_commands',
        sa.Column('id', sa.String(length=120), nullable=False),
        sa.Column('registry', sa.String(length=40), nullable=False),
        sa.Column('command', sa.String(length=30), nullable=False),
        sa.Column('name', sa.String(length=253), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('sent_at', reseller.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('answered_at', reseller.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('code', sa.Integer(), nullable=True),
        sa.Column('message', sa.String(length=300), nullable=True),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('epp_commands')
