import pytest

from reseller.core.config import (
    DEMO_DEFAULTS,
    DEMO_SECRET_KEY,
    ConfigError,
    load_config,
)
from reseller.core.config import check_production as check_kernel
from wallet import settings as wallet_settings

PRODUCTION = {
    "TUNNUS_ENV": "production",
    "SECRET_KEY": "s" * 48,
    "DATABASE_URL": "postgresql+psycopg://tunnus@db/tunnus",
    "REDIS_URL": "redis://cache:6379/0",
    "SMTP_HOST": "smtp.internal",
    "REGISTRY_ADAPTER": "epp",
    "PAYMENTS_ADAPTER": "live",
    "DNS_ADAPTER": "knot",
    "DATA_ENCRYPTION_KEYS": "x9JkUhjf0yMDn2ZCr0m8cvH8oB4BeGM8gGmwc3hbeMk=",
    "BASE_URL": "https://portal.rekisteri.fi",
    "OPERATOR_NAME": "Rekisteri Oy",
    "OPERATOR_BRAND": "Rekisteri",
    "OPERATOR_DOMAIN": "rekisteri.fi",
    "OPERATOR_EMAIL": "staff@rekisteri.fi",
    "OPERATOR_BUSINESS_ID": "1572860-0",
    "OPERATOR_VAT_ID": "FI15728600",
    "OPERATOR_IBAN": "FI49 5000 9420 0287 30",
    "OPERATOR_BIC": "OKOYFIHH",
    "OPERATOR_ADDRESS": "Satamakatu 3, 33200 Tampere",
    "OPERATOR_ABUSE_EMAIL": "abuse@rekisteri.fi",
    "OPERATOR_ABUSE_PHONE": "+358.401234567",
    "NEUTRAL_SENDER_DOMAIN": "mailrelay.fi",
    "DNS_NAMESERVERS": "ns1.dnspalvelu.fi,ns2.dnspalvelu.fi",
    "DNS_NAMESERVER_ADDRESSES": "193.166.4.53,2001:708:10::53",
    "FORWARDING_IPV4": "193.166.4.80",
    "PAYMENT_METHODS": "card,bank_transfer",
    "CARD_API_KEY": "sk_live_abc",
    "CARD_WEBHOOK_SECRET": "whsec_abc",
}


def settings(environ: dict) -> dict:
    """What create_app reads from ``environ``: the kernel's settings, then the wallet's
    (``wallet.init_app``), the one feature with settings these tests check."""
    return {**load_config(environ), **wallet_settings.load(environ)}


def check_production(config: dict) -> None:
    """The production refusal create_app raises: the kernel's lines and the wallet's."""
    check_kernel(config, [wallet_settings.production_problems])


def test_sandbox_is_the_default_with_sqlite_in_the_instance_dir(tmp_path):
    config = load_config({"INSTANCE_DIR": str(tmp_path)})
    assert config["SANDBOX"] is True
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'tunnus.db'}"
    assert config["JOBS_MODE"] == "thread"


def test_production_with_safe_settings_starts():
    check_production(settings(PRODUCTION))


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
        check_production(settings({**PRODUCTION, **change}))


def test_unknown_mode_is_refused():
    with pytest.raises(ConfigError):
        load_config({"TUNNUS_ENV": "staging"})


def _refusals(change: dict) -> list[str]:
    """The refusal's lines, one per problem (without the heading)."""
    with pytest.raises(ConfigError) as refused:
        check_production(settings({**PRODUCTION, **change}))
    heading, *lines = str(refused.value).splitlines()
    assert heading == "Refusing to start in production:"
    return [line.strip() for line in lines]


DEMO_OR_MISSING = [
    "OPERATOR_NAME", "OPERATOR_BRAND", "OPERATOR_DOMAIN", "OPERATOR_EMAIL",
    "OPERATOR_BUSINESS_ID", "OPERATOR_VAT_ID", "OPERATOR_IBAN", "OPERATOR_BIC",
    "OPERATOR_ADDRESS", "OPERATOR_ABUSE_EMAIL", "OPERATOR_ABUSE_PHONE",
    "NEUTRAL_SENDER_DOMAIN", "DNS_NAMESERVERS", "DNS_NAMESERVER_ADDRESSES", "FORWARDING_IPV4",
]


@pytest.mark.parametrize("key", DEMO_OR_MISSING)
def test_production_refuses_every_demo_default_when_the_setting_is_left_unset(key):
    environ = {k: v for k, v in PRODUCTION.items() if k != key}
    with pytest.raises(ConfigError) as refused:
        check_production(settings(environ))
    lines = [line.strip() for line in str(refused.value).splitlines()[1:]]
    assert [line for line in lines if line.startswith(key)] == [
        f"{key} is still the demo value {DEMO_DEFAULTS[key]!r}: set the operator's own"]


@pytest.mark.parametrize("key", DEMO_OR_MISSING)
def test_production_refuses_a_demo_value_given_explicitly_or_an_empty_one(key):
    demo = _refusals({key: DEMO_DEFAULTS[key]})
    assert any(line.startswith(f"{key} is still the demo value") for line in demo), demo
    empty = _refusals({key: ""})
    assert any(line.startswith(key) for line in empty), empty


@pytest.mark.parametrize("change, line", [
    ({"OPERATOR_IBAN": "FI21 1234 5600 0007 84"},
     "OPERATOR_IBAN 'FI21 1234 5600 0007 84' is not a valid IBAN"),
    ({"OPERATOR_BIC": "NDEA"}, "OPERATOR_BIC 'NDEA' is not a valid BIC"),
    ({"OPERATOR_BUSINESS_ID": "1572860-1"},
     "OPERATOR_BUSINESS_ID '1572860-1' is not a valid Finnish business ID (Y-tunnus, "
     "e.g. 1234567-1)"),
    ({"OPERATOR_VAT_ID": "FI24644919"}, "OPERATOR_VAT_ID is still the demo value "
     "'FI24644919': set the operator's own"),
    ({"OPERATOR_VAT_ID": "FI02464491"}, "OPERATOR_VAT_ID 'FI02464491' is not a valid "
     "Finnish VAT ID (FI + the business ID's 8 digits)"),
    ({"OPERATOR_VAT_ID": "FI01120389"}, "OPERATOR_VAT_ID does not belong to "
     "OPERATOR_BUSINESS_ID"),
    ({"OPERATOR_ABUSE_PHONE": "040 123 4567"},
     "OPERATOR_ABUSE_PHONE '040 123 4567' must be in EPP format, e.g. +358.401234567"),
    ({"OPERATOR_ABUSE_EMAIL": "abuse@registrar.test"},
     "OPERATOR_ABUSE_EMAIL 'abuse@registrar.test' is not a deliverable address"),
    ({"DNS_NAMESERVERS": "ns1.dnspalvelu.fi,ns2.dns-hosting.example"},
     "DNS_NAMESERVERS: 'ns2.dns-hosting.example' is a reserved name, not a real nameserver"),
    ({"DNS_NAMESERVER_ADDRESSES": "193.166.4.53,10.0.0.53"},
     "DNS_NAMESERVER_ADDRESSES: '10.0.0.53' is not a public IP address"),
    ({"FORWARDING_IPV4": "203.0.113.80"},
     "FORWARDING_IPV4: '203.0.113.80' is not a public IP address"),
    ({"BASE_URL": ""},
     "BASE_URL must be the public https:// address of the client area and API"),
    ({"BASE_URL": "http://portal.rekisteri.fi"},
     "BASE_URL must be the public https:// address of the client area and API"),
    ({"DNS_ADAPTER": "sandbox"},
     "DNS_ADAPTER must be 'knot' in production (not the in-process DNS sandbox)"),
    ({"PAYMENTS_ADAPTER": "sandbox"},
     "PAYMENTS_ADAPTER must be 'live' in production (not the sandbox provider)"),
    ({"SMTP_HOST": ""}, "SMTP_HOST is required in production (without it mail stays in the "
     "sandbox outbox)"),
])
def test_each_refusal_is_one_line_naming_the_setting(change, line):
    assert _refusals(change) == [line]


def test_dns_adapter_unset_is_refused_not_the_sandbox_in_silence():
    environ = {k: v for k, v in PRODUCTION.items() if k != "DNS_ADAPTER"}
    with pytest.raises(ConfigError, match="DNS_ADAPTER must be 'knot'"):
        check_production(settings(environ))


@pytest.mark.parametrize("method, missing", [
    ("card", "CARD_API_KEY, CARD_WEBHOOK_SECRET are"),
    ("paypal", "PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET, PAYPAL_WEBHOOK_ID, PAYPAL_CERT_FILE are"),
    ("online_banking", "PAYTRAIL_ACCOUNT, PAYTRAIL_SECRET are"),
])
def test_a_payment_method_offered_without_its_keys_is_refused(method, missing):
    keys = ("CARD_API_KEY", "CARD_WEBHOOK_SECRET")
    environ = {k: v for k, v in PRODUCTION.items() if k not in keys}
    environ["PAYMENT_METHODS"] = f"bank_transfer,{method}"
    with pytest.raises(ConfigError) as refused:
        check_production(settings(environ))
    assert str(refused.value).splitlines()[1:] == [
        f"  PAYMENT_METHODS offers {method} but {missing} not set (set them, or leave "
        f"{method} out)"]


def test_a_method_left_out_of_payment_methods_needs_no_keys():
    keys = ("CARD_API_KEY", "CARD_WEBHOOK_SECRET")
    environ = {k: v for k, v in PRODUCTION.items() if k not in keys}
    config = settings({**environ, "PAYMENT_METHODS": "bank_transfer"})
    check_production(config)
    assert config["PAYMENT_METHODS"] == ("bank_transfer",)


def test_payment_methods_default_to_all_and_refuse_unknown_ones():
    assert settings({})["PAYMENT_METHODS"] == ("card", "paypal", "online_banking",
                                               "bank_transfer")
    with pytest.raises(ConfigError, match="PAYMENT_METHODS: unknown method 'cash'"):
        settings({"PAYMENT_METHODS": "card,cash"})


def test_paypal_certificate_file_that_cannot_be_read_names_the_setting(tmp_path):
    with pytest.raises(ConfigError, match="PAYPAL_CERT_FILE: cannot read"):
        settings({"PAYPAL_CERT_FILE": str(tmp_path / "missing.pem")})


@pytest.mark.parametrize("key, value", [("PAYMENTS_ADAPTER", "whatever"),
                                        ("LOG_FORMAT", "xml"), ("LOG_LEVEL", "loud")])
def test_unknown_choices_are_refused_naming_the_setting(key, value):
    with pytest.raises(ConfigError, match=f"^{key} must be one of"):
        settings({key: value})


def test_a_bare_production_environment_lists_every_missing_setting_once():
    with pytest.raises(ConfigError) as refused:
        check_production(settings({"TUNNUS_ENV": "production"}))
    lines = str(refused.value).splitlines()[1:]
    named = {line.split()[0].rstrip(":") for line in lines}
    assert {"SECRET_KEY", "DATA_ENCRYPTION_KEYS", "DATABASE_URL", "REDIS_URL", "SMTP_HOST",
            "REGISTRY_ADAPTER", "DNS_ADAPTER", "PAYMENTS_ADAPTER", "BASE_URL",
            "PAYMENT_METHODS", *DEMO_OR_MISSING} <= named
    assert len(lines) == len(set(lines))


def test_the_wsgi_entry_point_freezes_what_the_process_built_to_start(tmp_path):
    """Full garbage collections then skip the app's own objects (the long pause under load)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "INSTANCE_DIR": str(tmp_path), "PYTHONPATH": str(root)}
    env.pop("DATABASE_URL", None)
    frozen = subprocess.run(
        [sys.executable, "-c", "import gc, reseller.wsgi; print(gc.get_freeze_count())"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=True)
    assert int(frozen.stdout.strip().splitlines()[-1]) > 50_000
