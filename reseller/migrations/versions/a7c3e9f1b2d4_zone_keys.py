"""zone keys with scopes (acme, records, read); changes adopted from the server

Revision ID: a7c3e9f1b2d4
Revises: a27d2e4f6a81
Create Date: 2026-12-07

Existing keys are ACME keys (scope ``acme``), marked not installed so that the next
``dns-sync-zones`` run gives the server today's ACL rule for them; existing changes were
made in Tunnus (origin ``tunnus``).
"""
import sqlalchemy as sa
from alembic import op

revision = 'a7c3e9f1b2d4'
down_revision = 'a27d2e4f6a81'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dns_acme_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.String(length=10), nullable=False,
                                      server_default='acme'))
        batch_op.create_check_constraint('scope', "scope IN ('acme', 'records', 'read')")
    # Reinstalled by the next dns-sync-zones run: the ACME rule now covers new host names.
    op.execute("UPDATE dns_acme_keys SET installed_at = NULL")
    with op.batch_alter_table('dns_zone_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=10), nullable=False,
                                      server_default='tunnus'))
        batch_op.add_column(sa.Column('key_names', sa.JSON(), nullable=False,
                                      server_default=sa.text("'[]'")))
    with op.batch_alter_table('dns_zones', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_sync', sa.JSON(), nullable=False,
                                      server_default=sa.text("'{}'")))
    with op.batch_alter_table('dns_zone_changes', schema=None) as batch_op:
        batch_op.alter_column('key_names', server_default=None)
    with op.batch_alter_table('dns_zones', schema=None) as batch_op:
        batch_op.alter_column('last_sync', server_default=None)


def downgrade():
    with op.batch_alter_table('dns_zones', schema=None) as batch_op:
        batch_op.drop_column('last_sync')
    with op.batch_alter_table('dns_zone_changes', schema=None) as batch_op:
        batch_op.drop_column('key_names')
        batch_op.drop_column('origin')
    op.execute("DELETE FROM dns_acme_keys WHERE scope <> 'acme'")
    with op.batch_alter_table('dns_acme_keys', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_dns_acme_keys_scope'), type_='check')
        batch_op.drop_column('scope')
