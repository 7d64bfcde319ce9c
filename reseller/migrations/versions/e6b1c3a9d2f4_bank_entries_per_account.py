"""Bank entries keyed per account and entry, returned payments, prepaid funds that a
reversal may take below zero.

Revision ID: e6b1c3a9d2f4
Revises: b7e3c9a1d5f2
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = 'e6b1c3a9d2f4'
down_revision = 'b7e3c9a1d5f2'
branch_labels = None
depends_on = None

STATES = "'matched', 'unmatched', 'allocated', 'ignored'"


def upgrade():
    with op.batch_alter_table('wallet_bank_entries') as batch:
        batch.add_column(sa.Column('entry_ref', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('account', sa.String(length=34), nullable=True))
        batch.add_column(sa.Column('direction', sa.String(length=10), nullable=False,
                                   server_default='credit'))
        batch.add_column(sa.Column('end_to_end_id', sa.String(length=35), nullable=True))
        batch.add_column(sa.Column('reverses_id', sa.BigInteger().with_variant(
            sa.Integer(), 'sqlite'), nullable=True))
        batch.create_foreign_key(batch.f('fk_wallet_bank_entries_reverses_id_wallet_bank_entries'),
                                 'wallet_bank_entries', ['reverses_id'], ['id'])
        batch.create_index(batch.f('ix_wallet_bank_entries_entry_ref'), ['entry_ref'])
        batch.drop_constraint(batch.f('ck_wallet_bank_entries_state'), type_='check')
        batch.create_check_constraint('state', f"state IN ({STATES}, 'reversed')")
        batch.create_check_constraint('direction', "direction IN ('credit', 'reversal')")
    with op.batch_alter_table('wallet_bank_entries') as batch:
        batch.alter_column('direction', server_default=None)
    with op.batch_alter_table('wallets') as batch:
        batch.drop_constraint(batch.f('ck_wallets_prepaid_not_negative'), type_='check')


def downgrade():
    with op.batch_alter_table('wallets') as batch:
        batch.create_check_constraint('prepaid_not_negative',
                                      "payment_mode = 'postpaid' OR funds >= 0")
    with op.batch_alter_table('wallet_bank_entries') as batch:
        batch.drop_constraint(batch.f('ck_wallet_bank_entries_direction'), type_='check')
        batch.drop_constraint(batch.f('ck_wallet_bank_entries_state'), type_='check')
        batch.create_check_constraint('state', f"state IN ({STATES})")
        batch.drop_index(batch.f('ix_wallet_bank_entries_entry_ref'))
        batch.drop_constraint(batch.f('fk_wallet_bank_entries_reverses_id_wallet_bank_entries'),
                              type_='foreignkey')
        for column in ('reverses_id', 'end_to_end_id', 'direction', 'account', 'entry_ref'):
            batch.drop_column(column)
