"""Account security and details: TOTP recovery codes (hashed, one use each) and the log
of changes to account details (who, when, old and new value).

Revision ID: c4d2e8a61b97
Revises: 1ad45e03afbf
Create Date: 2026-12-06 06:20:00

"""
from alembic import op
import sqlalchemy as sa
import reseller.core.types


revision = 'c4d2e8a61b97'
down_revision = 'c4e8a2f61d93'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', reseller.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', reseller.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes')),
    sa.UniqueConstraint('user_id', 'code_hash', name='uq_recovery_code')
    )
    op.create_index(op.f('ix_recovery_codes_user_id'), 'recovery_codes', ['user_id'], unique=False)
    op.create_table('account_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_email', sa.String(length=254), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.Column('created_at', reseller.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_account_changes_reseller_id_resellers')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_changes_user_id_users')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_account_changes_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_changes'))
    )
    op.create_index(op.f('ix_account_changes_reseller_id'), 'account_changes', ['reseller_id'], unique=False)
    op.create_index(op.f('ix_account_changes_created_at'), 'account_changes', ['created_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_account_changes_created_at'), table_name='account_changes')
    op.drop_index(op.f('ix_account_changes_reseller_id'), table_name='account_changes')
    op.drop_table('account_changes')
    op.drop_index(op.f('ix_recovery_codes_user_id'), table_name='recovery_codes')
    op.drop_table('recovery_codes')
