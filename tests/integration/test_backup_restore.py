"""The backup and restore runbook (docs/operations.md): a ``pg_dump -Fc`` restored with
``pg_restore`` into an empty database serves again with the key list in use when the dump
was made, and ``flask secrets status`` tells when the keys given do not fit the dump."""

from __future__ import annotations

import subprocess
import uuid

import pytest
from cryptography.fernet import Fernet

from reseller.accounts.models import User
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from tests.support.servers import PGBIN

pytestmark = pytest.mark.postgres_only


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _app(url: str, instance_dir, keys: list[str]):
    from reseller.app import create_app
    from tests.conftest import test_config

    return create_app(test_config(url, instance_dir, DATA_ENCRYPTION_KEYS=keys))


def _cli(app, *args: str):
    with app.app_context():  # the command runs in the app context already pushed
        result = app.test_cli_runner().invoke(args=list(args))
        db.session.remove()
        return result


def _dispose(app) -> None:
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def restored(postgres):
    name = f"restored_{uuid.uuid4().hex[:8]}"
    url = postgres.create_database(name)
    yield url
    subprocess.run([str(PGBIN / "psql"), _libpq(postgres.url), "-q", "-c",
                    f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=True,
                   capture_output=True)


def test_a_dump_restored_into_an_empty_database_serves_with_its_keys(
        app, committed_db, database_url, instance_dir, restored, tmp_path):
    key = Fernet.generate_key().decode()
    live = _app(database_url, instance_dir, [key])
    with live.app_context():
        with unit_of_work():
            db.session.add(User(email="staff@restore.test", name="Staff", role="staff",
                                is_operator=True, totp_secret="JBSWY3DPEHPK3PXP"))
        db.session.remove()
    _dispose(live)

    dump = tmp_path / "tunnus.dump"
    subprocess.run([str(PGBIN / "pg_dump"), "-Fc", "-f", str(dump), _libpq(database_url)],
                   check=True, capture_output=True)
    subprocess.run([str(PGBIN / "pg_restore"), "--clean", "--if-exists", "--no-owner",
                    "-d", _libpq(restored), str(dump)], check=True, capture_output=True)

    wrong = _app(restored, instance_dir, [Fernet.generate_key().decode()])
    refused = _cli(wrong, "secrets", "status")
    _dispose(wrong)
    assert refused.exit_code == 1
    assert "users.totp_secret: 0 first key, 0 older keys, 0 plaintext, 1 unreadable" \
        in refused.output

    back = _app(restored, instance_dir, [key])
    try:
        status = _cli(back, "secrets", "status")
        assert status.exit_code == 0, status.output
        upgrade = _cli(back, "db", "upgrade", "heads")
        assert upgrade.exit_code == 0, upgrade.output
        verify = _cli(back, "wallet", "verify")
        assert verify.exit_code == 0, verify.output
        with back.app_context():
            staff = db.session.query(User).filter_by(email="staff@restore.test").one()
            assert staff.totp_secret == "JBSWY3DPEHPK3PXP"
            db.session.remove()
    finally:
        _dispose(back)
