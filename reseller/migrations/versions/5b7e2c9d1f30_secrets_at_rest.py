"""secrets at rest: DKIM keys, webhook secrets, ACME TSIG secrets and TOTP seeds encrypted

Revision ID: 5b7e2c9d1f30
Revises: e3a457d3a8ac
Create Date: 2026-11-22 08:30:00

The columns become TEXT (Fernet tokens are longer than the secrets) and every stored value
is encrypted with the first key of DATA_ENCRYPTION_KEYS (reseller.core.crypto). The
downgrade decrypts them back.
"""
from alembic import op
import sqlalchemy as sa

from reseller.core import crypto

revision = '5b7e2c9d1f30'
down_revision = 'e3a457d3a8ac'
branch_labels = None
depends_on = None

# (table, primary key, column, length before)
COLUMNS = (
    ('sender_domains', 'id', 'dkim_private_key', None),
    ('webhook_endpoints', 'id', 'secret', 100),
    ('dns_acme_keys', 'id', 'secret', 100),
    ('users', 'id', 'totp_secret', 64),
)


def _rewrite(table: str, key: str, column: str, change) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        f'SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL')).all()
    for ident, value in rows:
        bind.execute(sa.text(f'UPDATE {table} SET {column} = :value WHERE {key} = :ident'),
                     {"value": change(value), "ident": ident})


def upgrade():
    for table, key, column, length in COLUMNS:
        if length is not None:
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.alter_column(column, existing_type=sa.String(length=length),
                                      type_=sa.Text())
        _rewrite(table, key, column, crypto.keyring().rotate)


def downgrade():
    for table, key, column, length in COLUMNS:
        _rewrite(table, key, column, crypto.keyring().decrypt)
        if length is not None:
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.alter_column(column, existing_type=sa.Text(),
                                      type_=sa.String(length=length))
