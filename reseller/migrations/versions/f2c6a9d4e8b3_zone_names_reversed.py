"""Zones at or inside a name by an index: the reversed name, bytewise (PostgreSQL).

A registration asks twice which zones are at or inside its name (another account's to
take off, the reseller's own pending ones to publish). ``name LIKE '%.example.fi'`` has no
index to use: at 100,000 domains (33,000 zones) each ask scanned the table, some 2.4 ms
of database CPU. Reversed, those names share a prefix, which a B-tree with
``text_pattern_ops`` (bytewise, whatever the collation) reads as a range. SQLite keeps
the plain scan.

Revision ID: f2c6a9d4e8b3
Revises: e4b8d2a6c9f1
Create Date: 2026-12-06 18:40:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f2c6a9d4e8b3'
down_revision = 'e4b8d2a6c9f1'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("CREATE INDEX ix_dns_zones_name_reversed ON dns_zones"
               " (reverse((name)::text) text_pattern_ops)")


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_index('ix_dns_zones_name_reversed', table_name='dns_zones')
