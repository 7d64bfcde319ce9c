"""A registrant verification's names as rows of their own (no list rewritten per name).

Revision ID: e4b8d2a6c9f1
Revises: d7a3f19c2e60
Create Date: 2026-12-06 15:10:00.000000

"""
import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e4b8d2a6c9f1'
down_revision = 'd7a3f19c2e60'
branch_labels = None
depends_on = None


def _names(value):
    if isinstance(value, str):  # SQLite hands JSON back as text
        value = json.loads(value or "[]")
    return [str(name) for name in value or []]


def upgrade():
    # The lists are read before anything changes: SQLite's batch mode rebuilds the table
    # (drop and rename), which would cascade to rows that referenced it already.
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, domains FROM registrant_verifications ORDER BY id")).all()
    with op.batch_alter_table('registrant_verifications', schema=None) as batch_op:
        batch_op.drop_column('domains')
    table = op.create_table(
        'registrant_verification_domains',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('verification_id', sa.Integer(), nullable=False),
        sa.Column('domain', sa.String(length=253), nullable=False),
        sa.ForeignKeyConstraint(
            ['verification_id'], ['registrant_verifications.id'],
            name=op.f('fk_registrant_verification_domains_verification_id_registrant_verifications'),
            ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_registrant_verification_domains')),
        sa.UniqueConstraint('verification_id', 'domain',
                            name=op.f('uq_registrant_verification_domains_verification_id_domain')))
    values = []
    for verification_id, domains in rows:
        for name in dict.fromkeys(_names(domains)):  # in order, each name once
            values.append({"verification_id": verification_id, "domain": name})
    if values:
        op.bulk_insert(table, values)


def downgrade():
    bind = op.get_bind()
    kept = {}
    for verification_id, name in bind.execute(sa.text(
            "SELECT verification_id, domain FROM registrant_verification_domains ORDER BY id")):
        kept.setdefault(verification_id, []).append(name)
    op.drop_table('registrant_verification_domains')
    with op.batch_alter_table('registrant_verifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('domains', sa.JSON(), nullable=False,
                                      server_default='[]'))
    for verification_id, names in kept.items():
        bind.execute(sa.text("UPDATE registrant_verifications SET domains = :domains "
                             "WHERE id = :id"),
                     {"domains": json.dumps(names), "id": verification_id})
