"""Secrets the server must read back (DKIM keys, webhook and TSIG secrets, TOTP seeds) are
encrypted in the database, readable through the models, rotatable, and migrated."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from reseller.core import crypto
from reseller.core.config import ConfigError, check_production, load_config
from reseller.core.db import unit_of_work
from reseller.core.extensions import db

TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _raw(table: str, column: str, key: int) -> str:
    """The stored text, bypassing the model's decryption."""
    return db.session.execute(sa.select(sa.column(column)).select_from(sa.table(table))
                              .where(sa.column("id") == key)).scalar_one()


def test_a_keyring_encrypts_differently_each_time_and_reads_back():
    ring = crypto.Keyring([Fernet.generate_key().decode()])
    first, second = ring.encrypt("whsec_abc"), ring.encrypt("whsec_abc")
    assert first.startswith("fernet:") and first != second and "abc" not in first
    assert ring.decrypt(first) == ring.decrypt(second) == "whsec_abc"
    assert ring.decrypt("written before encryption") == "written before encryption"


def test_another_key_cannot_read_and_rotation_keeps_old_keys_readable():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    stored = crypto.Keyring([old]).encrypt("secret")
    with pytest.raises(crypto.SecretsUnreadable):
        crypto.Keyring([new]).decrypt(stored)
    both = crypto.Keyring([new, old])
    assert both.decrypt(stored) == "secret"
    assert crypto.Keyring([new]).decrypt(both.rotate(stored)) == "secret"


def test_keys_are_checked_and_production_requires_them():
    with pytest.raises(ConfigError, match="Fernet keys"):
        load_config({"DATA_ENCRYPTION_KEYS": "not-a-key"})
    key = Fernet.generate_key().decode()
    assert load_config({"DATA_ENCRYPTION_KEYS": f" {key} ,"})["DATA_ENCRYPTION_KEYS"] == [key]
    with pytest.raises(ConfigError, match="DATA_ENCRYPTION_KEYS is required"):
        check_production(load_config({"TUNNUS_ENV": "production"}))


@pytest.mark.smoke
def test_secrets_are_ciphertext_in_the_database_and_plain_through_the_models(factory):
    from whitelabel import sender

    user = factory.user(totp_secret=TOTP)
    with unit_of_work():
        domain = sender.set_sender_domain(reseller_id=user.reseller_id, domain="mail.example.fi")
    private_key = domain.dkim_private_key
    raw_totp = _raw("users", "totp_secret", user.id)
    raw_key = _raw("sender_domains", "dkim_private_key", domain.id)
    assert raw_totp.startswith("fernet:") and TOTP not in raw_totp
    assert raw_key.startswith("fernet:") and "PRIVATE KEY" not in raw_key
    db.session.expire_all()
    assert user.totp_secret == TOTP and domain.dkim_private_key == private_key


def test_rotation_re_encrypts_everything_with_the_new_key(factory, app):
    user = factory.user(totp_secret=TOTP)
    legacy = factory.user()
    db.session.execute(sa.text("UPDATE users SET totp_secret = 'PLAINOLDSEED' WHERE id = :id"),
                       {"id": legacy.id})
    db.session.commit()
    configured = app.config.get("DATA_ENCRYPTION_KEYS")
    old = list(configured or []) or [crypto.derive_key(app.config["SECRET_KEY"])]
    new = Fernet.generate_key().decode()
    app.config["DATA_ENCRYPTION_KEYS"] = [new, *old]
    app.extensions.pop("tunnus.keyring", None)
    try:
        result = app.test_cli_runner().invoke(args=["secrets", "rotate"])
        assert result.exit_code == 0, result.output
        assert "users.totp_secret: " in result.output
        only_new = crypto.Keyring([new])
        assert only_new.decrypt(_raw("users", "totp_secret", user.id)) == TOTP
        assert only_new.decrypt(_raw("users", "totp_secret", legacy.id)) == "PLAINOLDSEED"
    finally:
        app.config["DATA_ENCRYPTION_KEYS"] = configured
        app.extensions.pop("tunnus.keyring", None)


def test_new_key_prints_a_usable_key(app):
    result = app.test_cli_runner().invoke(args=["secrets", "new-key"])
    assert crypto.parse_keys(result.output.strip()) == [result.output.strip()]


def test_the_migration_encrypts_existing_secrets_and_the_downgrade_restores_them(tmp_path):
    from flask_migrate import downgrade, upgrade

    from reseller.accounts.models import User
    from reseller.app import create_app
    from tests.conftest import test_config

    url = f"sqlite:///{tmp_path / 'migrate.db'}"
    application = create_app(test_config(url, tmp_path))
    with application.app_context():
        upgrade(revision="heads")
        with unit_of_work():
            staff = User(email="staff@operator.test", name="Staff", role="staff",
                         is_operator=True, totp_secret=TOTP)
            db.session.add(staff)
            db.session.flush()
            staff_id = staff.id
        db.session.remove()  # SQLite: hand the write lock to the migrations
        downgrade(revision="e3a457d3a8ac")
        assert _raw("users", "totp_secret", staff_id) == TOTP
        db.session.remove()
        upgrade(revision="heads")
        assert _raw("users", "totp_secret", staff_id).startswith("fernet:")
        assert db.session.get(User, staff_id).totp_secret == TOTP
        db.session.remove()
