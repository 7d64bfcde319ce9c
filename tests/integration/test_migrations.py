"""The migrations build exactly the schema the models describe, and form one line."""

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from reseller.core.extensions import db


def _built_here(dialect: str):
    """Objects a model builds on one dialect only (``.ddl_if(dialect=...)``, e.g. the
    PostgreSQL trigram indexes) are compared on that dialect only."""

    def include(object_, _name, _type, _reflected, _compare_to) -> bool:
        condition = getattr(object_, "_ddl_if", None)
        return condition is None or condition.dialect in (None, dialect)

    return include


@pytest.mark.smoke
# SQLite cannot reflect expression indexes; ours are PostgreSQL's only (``ddl_if``)
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression")
def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": _built_here(connection.dialect.name)})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_migrations_have_a_single_head(app):
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_a_verification_s_names_move_to_rows_and_back(tmp_path):
    """e4b8d2a6c9f1 carries each verification's list of names over to rows of their own
    (a name listed twice once), and its downgrade puts the lists back."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from reseller.app import create_app
    from tests.conftest import test_config

    url = f"sqlite:///{tmp_path / 'migrate.db'}"
    app = create_app(test_config(url, tmp_path))
    with app.app_context():
        upgrade(revision="d7a3f19c2e60")
        with db.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO resellers (id, company_name, country, business_id, contact_email, "
                "language, tier, status, created_at) VALUES (1, 'A', 'FI', '2464491-9', "
                "'a@example.fi', 'fi', 'standard', 'active', '2026-01-01 00:00:00')"))
            for row_id, names in ((1, '["a.fi", "b.fi", "a.fi"]'), (2, '[]')):
                connection.execute(sa.text(
                    "INSERT INTO registrant_verifications (id, reseller_id, email, language, "
                    "domains, state, started_at, deadline_at) VALUES (:id, 1, :email, 'fi', "
                    ":names, 'pending', '2026-01-01 00:00:00', '2026-01-16 00:00:00')"),
                    {"id": row_id, "email": f"r{row_id}@example.fi", "names": names})
        upgrade(revision="e4b8d2a6c9f1")
        with db.engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT verification_id, domain FROM registrant_verification_domains "
                "ORDER BY id")).all()
        assert [tuple(row) for row in rows] == [(1, "a.fi"), (1, "b.fi")]
        downgrade(revision="d7a3f19c2e60")
        with db.engine.connect() as connection:
            lists = dict(connection.execute(sa.text(
                "SELECT id, domains FROM registrant_verifications ORDER BY id")).all())
        assert {key: json.loads(value) for key, value in lists.items()} == {
            1: ["a.fi", "b.fi"], 2: []}
        db.engine.dispose()
