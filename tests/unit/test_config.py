import pytest

from reseller.core.config import DEMO_SECRET_KEY, ConfigError, check_production, load_config

PRODUCTION = {
    "TUNNUS_ENV": "production",
    "SECRET_KEY": "s" * 48,
    "DATABASE_URL": "postgresql+psycopg://tunnus@db/tunnus",
    "REDIS_URL": "redis://cache:6379/0",
    "SMTP_HOST": "smtp.internal",
    "REGISTRY_ADAPTER": "epp",
    "PAYMENTS_ADAPTER": "live",
    "DATA_ENCRYPTION_KEYS": "x9JkUhjf0yMDn2ZCr0m8cvH8oB4BeGM8gGmwc3hbeMk=",
}


def test_sandbox_is_the_default_with_sqlite_in_the_instance_dir(tmp_path):
    config = load_config({"INSTANCE_DIR": str(tmp_path)})
    assert config["SANDBOX"] is True
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'tunnus.db'}"
    assert config["JOBS_MODE"] == "thread"


def test_production_with_safe_settings_starts():
    check_production(load_config(PRODUCTION))


@pytest.mark.parametrize("change, complaint", [
    ({"SECRET_KEY": DEMO_SECRET_KEY}, "SECRET_KEY"),
    ({"SECRET_KEY": ""}, "SECRET_KEY"),
    ({"DATABASE_URL": "sqlite:///x.db"}, "PostgreSQL"),
    ({"REDIS_URL": ""}, "REDIS_URL"),
    ({"REGISTRY_ADAPTER": "sandbox"}, "REGISTRY_ADAPTER"),
    ({"DATA_ENCRYPTION_KEYS": ""}, "DATA_ENCRYPTION_KEYS"),
])
def test_production_refuses_demo_secrets_and_sqlite(change, complaint):
    with pytest.raises(ConfigError, match=complaint):
        check_production(load_config({**PRODUCTION, **change}))


def test_unknown_mode_is_refused():
    with pytest.raises(ConfigError):
        load_config({"TUNNUS_ENV": "staging"})
