"""Provider payments: the operator's queue of refused, reversed and disputed payments;
top-ups remember their hosted checkout and what was taken back.

Revision ID: f1a7d4c8e2b6
Revises: e6b1c3a9d2f4
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = 'f1a7d4c8e2b6'
down_revision = 'e6b1c3a9d2f4'
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table(
        'wallet_payment_issues',
        sa.Column('id', BIG, nullable=False),
        sa.Column('provider', sa.String(length=20), nullable=False),
        sa.Column('event_id', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('topup_id', BIG, nullable=True),
        sa.Column('reseller_id', sa.Integer(), nullable=True),
        sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column('currency', sa.String(length=3), nullable=True),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('resolved_by', sa.String(length=100), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('currency', 'amount', 'refund', 'chargeback', "
                           "'reinstated', 'dispute', 'unknown_payment')",
                           name=op.f('ck_wallet_payment_issues_kind')),
        sa.CheckConstraint("state IN ('open', 'resolved')",
                           name=op.f('ck_wallet_payment_issues_state')),
        sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'],
                                name=op.f('fk_wallet_payment_issues_reseller_id_resellers')),
        sa.ForeignKeyConstraint(['topup_id'], ['wallet_topups.id'],
                                name=op.f('fk_wallet_payment_issues_topup_id_wallet_topups')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_payment_issues')),
        sa.UniqueConstraint('provider', 'event_id', name='uq_wallet_payment_issues_event'),
    )
    op.create_index(op.f('ix_wallet_payment_issues_reseller_id'), 'wallet_payment_issues',
                    ['reseller_id'])
    op.create_index('ix_wallet_payment_issues_state', 'wallet_payment_issues', ['state'])
    with op.batch_alter_table('wallet_topups') as batch:
        batch.add_column(sa.Column('checkout_url', sa.String(length=2000), nullable=True))
        batch.add_column(sa.Column('reversed_amount', sa.BigInteger(), nullable=False, server_default='0'))
        batch.create_check_constraint(
            'reversed_amount', "reversed_amount >= 0 AND reversed_amount <= total")
        batch.create_index('ix_wallet_topups_provider_reference',
                           ['provider', 'provider_reference'])
    with op.batch_alter_table('wallet_topups') as batch:
        batch.alter_column('reversed_amount', server_default=None)


def downgrade():
    with op.batch_alter_table('wallet_topups') as batch:
        batch.drop_index('ix_wallet_topups_provider_reference')
        batch.drop_constraint(batch.f('ck_wallet_topups_reversed_amount'), type_='check')
        batch.drop_column('reversed_amount')
        batch.drop_column('checkout_url')
    op.drop_index('ix_wallet_payment_issues_state', table_name='wallet_payment_issues')
    op.drop_index(op.f('ix_wallet_payment_issues_reseller_id'),
                  table_name='wallet_payment_issues')
    op.drop_table('wallet_payment_issues')
