"""Test harness: real PostgreSQL and Redis started for the run, one app, rolled-back tests.

``TUNNUS_TEST_DB=sqlite`` runs the same fixtures on SQLite (the embedded default); the
Makefile uses it for the ``smoke`` subset. Every test runs inside a transaction that is
rolled back (application commits become SAVEPOINT releases); concurrency tests use
``committed_db`` instead, which commits for real and truncates afterwards.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm
from flask import has_app_context
from flask.testing import FlaskClient
from flask_sqlalchemy.session import _app_ctx_id

from reseller.core.config import engine_options
from tests.support import servers

DB_KIND = os.environ.get("TUNNUS_TEST_DB", "postgresql")

# Feature fixtures that need real servers of their own (Knot for DNS, …).
pytest_plugins = ["tests.support.dns_fixtures", "tests.support.whitelabel", "tests.support.epp"]


def pytest_sessionstart(session):
    """Compile the gettext catalogues, so a bare ``pytest`` works like ``make test``."""
    import runpy

    runpy.run_path(str(Path(__file__).resolve().parents[1] / "i18n" / "tool.py"),
                   run_name="i18n_tool")["compile_all"]()


def pytest_collection_modifyitems(config, items):
    if DB_KIND == "sqlite":
        skip = pytest.mark.skip(reason="needs PostgreSQL")
        for item in items:
            if "postgres_only" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def postgres():
    if DB_KIND != "postgresql":
        yield None
        return
    server = servers.start_postgres()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server():
    if DB_KIND != "postgresql":
        yield None
        return
    server = servers.start_redis()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def instance_dir():
    with tempfile.TemporaryDirectory(prefix="tunnus-test-") as path:
        yield Path(path)


def test_config(database_url: str, instance_dir: Path, **extra) -> dict:
    config = {
        "TESTING": True,
        "RAISE_UNEXPECTED": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        "INSTANCE_DIR": str(instance_dir),
        "JOBS_MODE": "collect",
        "WTF_CSRF_ENABLED": False,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "BASE_URL": "http://tunnus.test",
        "SERVER_NAME": None,
        "SANDBOX": True,
        "TUNNUS_ENV": "sandbox",
        "MAIL_ADAPTER": "sandbox",
        # Every test calls RDAP from 127.0.0.1; tests of the limit set their own.
        "RDAP_RATE_LIMIT": "100000/minute",
        # The demo's sandbox zone files (trademark watch): small, tests need no realism.
        "TRADEMARK_SANDBOX_ZONE_SIZE": 1000,
    }
    config.update(extra)
    return config


@pytest.fixture(scope="session")
def database_url(postgres, instance_dir):
    if postgres is not None:
        return postgres.url
    return f"sqlite:///{instance_dir / 'test.db'}"


class IsolatedClient(FlaskClient):
    """Serve each request in its own thread, so it gets its own app context, ``g``,
    locale and session (as in production) instead of reusing the test's; then expire the
    test's session so it reads what the request wrote."""

    def open(self, *args, **kwargs):
        from reseller.core.extensions import db

        outcome: dict = {}

        def serve() -> None:
            try:
                outcome["response"] = FlaskClient.open(self, *args, **kwargs)
            except BaseException as error:  # re-raised in the test's thread
                outcome["error"] = error

        thread = threading.Thread(target=serve)
        thread.start()
        thread.join()
        if has_app_context():
            db.session.expire_all()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["response"]


@pytest.fixture(scope="session")
def app(database_url, instance_dir, redis_server):
    from flask_migrate import upgrade

    from reseller.app import create_app

    extra = {"REDIS_URL": redis_server.url} if redis_server else {}
    application = create_app(test_config(database_url, instance_dir, **extra))
    application.test_client_class = IsolatedClient
    with application.app_context():
        upgrade(revision="heads")
    return application


@pytest.fixture
def db_session(app):
    """A session whose commits are savepoints inside one rolled-back transaction."""
    from reseller.core.clock import clock
    from reseller.core.extensions import db

    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        original = db.session
        # A plain Session: Flask-SQLAlchemy's own picks the engine over ``bind``.
        db.session = sa.orm.scoped_session(
            sa.orm.sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
            scopefunc=_app_ctx_id,
        )
        app.extensions["tunnus.jobs"].jobs.clear()
        app.extensions["tunnus.guard"].store.reset()  # Redis counters outlive the rollback
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            if transaction.is_active:
                transaction.rollback()
            connection.close()
            clock.configure(sandbox=app.config["SANDBOX"])
            app.extensions["tunnus.jobs"].jobs.clear()


@pytest.fixture
def committed_db(app):
    """Real commits (for concurrency tests); every table is emptied afterwards."""
    from reseller.core.extensions import db

    with app.app_context():
        yield db
        db.session.remove()
        # Only tables that exist: a model imported from outside this tree (a shared
        # editable install) must not make the cleanup fail and leak rows into later tests.
        existing = set(sa.inspect(db.engine).get_table_names())
        tables = [t.name for t in reversed(db.metadata.sorted_tables) if t.name in existing]
        with db.engine.begin() as conn:
            if db.engine.dialect.name == "postgresql":
                _truncate_postgres(conn, tables)
            else:
                for name in tables:
                    conn.execute(sa.text(f"DELETE FROM {name}"))  # noqa: S608 (our own table names)


def _truncate_postgres(conn, tables: list[str]) -> None:
    """What ``TRUNCATE <every table> RESTART IDENTITY CASCADE`` leaves, at a fraction of
    its cost (~0.25 s: it gives each of ~80 tables and their indexes new files): only the
    tables holding rows are truncated, and every sequence owned by a column of any of the
    tables (serial or identity) is reset to its start, as RESTART IDENTITY would."""
    probe = " UNION ALL ".join(
        f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {name})" for name in tables)  # noqa: S608
    filled = list(conn.scalars(sa.text(probe)))
    if filled:
        conn.execute(sa.text(f"TRUNCATE {', '.join(filled)} RESTART IDENTITY CASCADE"))
    conn.execute(sa.text(
        "SELECT setval(q.seqrelid, q.seqstart, false) FROM pg_sequence q "
        "JOIN pg_depend d ON d.objid = q.seqrelid AND d.classid = 'pg_class'::regclass "
        "AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') "
        "JOIN pg_class t ON t.oid = d.refobjid "
        "WHERE t.relname = ANY(:tables) AND t.relnamespace = current_schema()::regnamespace"),
        {"tables": tables})


@pytest.fixture
def jobs(app, db_session):
    """The collected background jobs; ``jobs.run_all()`` runs them (and what they queue)."""
    return app.extensions["tunnus.jobs"]


@pytest.fixture
def delays(app, monkeypatch):
    """(path, args, delay) of every job queued (the collecting runner keeps no delay)."""
    runner = app.extensions["tunnus.jobs"]
    seen: list[tuple[str, tuple, int]] = []
    submit = runner.submit

    def recording(path, args, retries=0, delay=0, queue="default"):
        seen.append((path, args, delay))
        submit(path, args, retries, delay, queue)

    monkeypatch.setattr(runner, "submit", recording)
    return seen


@pytest.fixture
def client(app, db_session):
    return app.test_client()


@pytest.fixture
def factory(db_session, app):
    from tests.support.factories import Factory

    return Factory(app)
