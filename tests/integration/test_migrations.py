"""The migrations build exactly the schema the models describe, and form one line."""

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
