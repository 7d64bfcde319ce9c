"""Searching names and contacts by a fragment uses an index (PostgreSQL trigrams).

``?q=`` is ``LIKE '%fragment%'``, which a B-tree cannot serve: at 100,000 domains that was
a sequential scan. A GIN index of trigrams (``pg_trgm``, a trusted extension since
PostgreSQL 13: the database's owner may create it) answers LIKE/ILIKE with an inner
wildcard. SQLite keeps the plain scan.

Revision ID: a3f1c9e5b7d2
Revises: c5d9e2f7a3b1
Create Date: 2026-12-06
"""
from alembic import op

revision = 'a3f1c9e5b7d2'
down_revision = 'c5d9e2f7a3b1'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_domains_name_trgm", "domains", "name"),
    ("ix_domains_unicode_name_trgm", "domains", "unicode_name"),
    ("ix_contacts_name_trgm", "contacts", "name"),
    ("ix_contacts_organization_trgm", "contacts", "organization"),
    ("ix_contacts_email_trgm", "contacts", "email"),
)


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], postgresql_using='gin',
                        postgresql_ops={column: 'gin_trgm_ops'})


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for name, table, _column in INDEXES:
        op.drop_index(name, table_name=table)
