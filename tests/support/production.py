"""Production settings for tests, in one place: every setting a production start-up checks,
with real-looking valid values (no demo value), so a new production refusal needs one new
line here rather than one per test.

``production_env`` is the environment of a separately started process (the installed
wheel); ``production_app`` builds a production-mode app in the test's process from
``tests.unit.test_config.PRODUCTION`` with the test's database, instance directory and job
runner swapped in.
"""

from __future__ import annotations

import json
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reseller.core.config import engine_options
from tests.unit.test_config import PRODUCTION, settings


def _dkim_key(path: Path) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


def production_env(*, database_url: str, redis_url: str, smtp_port: int, secrets_dir: Path,
                   base_url: str = "https://tunnus.nimikauppa.fi",
                   epp_port: int = 7000, dns_port: int = 5353) -> dict[str, str]:
    """``TUNNUS_ENV=production`` with ``secrets_dir`` holding the files it names (a DKIM
    key). Registry and DNS point at loopback ports nothing needs to answer on at start-up."""
    from cryptography.fernet import Fernet

    return {
        "TUNNUS_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATA_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "BASE_URL": base_url,
        "INSTANCE_DIR": str(secrets_dir / "instance"),
        "PROXY_FIX_HOPS": "1",
        # The operator: a registrar of its own, with its own details on invoices and RDAP.
        "OPERATOR_NAME": "Nimikauppa Suomi Oy",
        "OPERATOR_BRAND": "Nimikauppa",
        "OPERATOR_DOMAIN": "nimikauppa.fi",
        "OPERATOR_URL": "https://www.nimikauppa.fi",
        "OPERATOR_EMAIL": "tuki@nimikauppa.fi",
        "OPERATOR_BILLING_EMAIL": "laskutus@nimikauppa.fi",
        "OPERATOR_BUSINESS_ID": "0112038-9",
        "OPERATOR_VAT_ID": "FI01120389",
        "OPERATOR_IBAN": "FI4950009420028730",
        "OPERATOR_BIC": "OKOYFIHH",
        "OPERATOR_ADDRESS": "Aleksanterinkatu 15, 00100 Helsinki",
        "OPERATOR_IANA_ID": "3819",
        "OPERATOR_ABUSE_EMAIL": "abuse@nimikauppa.fi",
        "OPERATOR_ABUSE_PHONE": "+358.98765432",
        # Registrants see neutral names only, never the operator's.
        "NEUTRAL_SENDER_DOMAIN": "mail.domainrelay.eu",
        "NEUTRAL_LINK_HOST": "links.domainrelay.eu",
        "NEUTRAL_DKIM_SELECTOR": "dr2026",
        "NEUTRAL_DKIM_KEY_FILE": str(_dkim_key(secrets_dir / "dkim.pem")),
        "LINK_CNAME_TARGET": "links.domainrelay.eu",
        "SPF_INCLUDE": "_spf.domainrelay.eu",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "MAIL_ADAPTER": "smtp",
        "REGISTRY_ADAPTER": "epp",
        "REGISTRY_CLIENT_ID": "nimikauppa",
        "EPP_REGISTRIES": json.dumps([{
            "name": "traficom", "tlds": ["fi"], "host": "127.0.0.1", "port": epp_port,
            "client_id": "nimikauppa", "password": secrets.token_urlsafe(12),
            "profile": "generic", "pool_size": 1, "timeout": 5}]),
        "PAYMENTS_ADAPTER": "live",
        "CARD_API_KEY": "sk_live_" + secrets.token_hex(12),
        "CARD_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(16),
        "DNS_ADAPTER": "knot",
        "DNS_SERVER": f"127.0.0.1:{dns_port}",
        "DNS_TSIG_NAME": "tunnus-update",
        "DNS_TSIG_SECRET": "c2VjcmV0LXRzaWcta2V5LWZvci10ZXN0cy0wMDAwMDA=",
        "DNS_PUBLIC_SERVER": "ns1.domainrelay.eu",
        "DNS_NAMESERVERS": "ns1.domainrelay.eu,ns2.domainrelay.eu",
        "DNS_NAMESERVER_ADDRESSES": "193.166.4.53,193.166.4.54",
        "FORWARDING_IPV4": "193.166.4.80",
        "PAYMENT_METHODS": "card,bank_transfer",
        "WEBHOOKS_ALLOW_PRIVATE": "false",
    }


# An EPP registry and a Knot server that are configured but never contacted.
SERVICES = {
    "EPP_REGISTRIES": json.dumps([{"name": "traficom", "tlds": ["fi"], "host": "127.0.0.1",
                                   "port": 1, "client_id": "registrar", "password": "pw"}]),
    "DNS_TSIG_NAME": "tunnus", "DNS_TSIG_SECRET": "c2VjcmV0c2VjcmV0c2VjcmV0",
}


def production_config(database_url: str, instance_dir: Path, **overrides: Any) -> dict:
    config = settings({**PRODUCTION, **SERVICES})
    config.update({
        "TESTING": True, "RAISE_UNEXPECTED": False,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        "INSTANCE_DIR": str(instance_dir), "JOBS_MODE": "collect", "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
    }, **overrides)
    return config


@contextmanager
def production_app(database_url: str, instance_dir: Path, **overrides: Any):
    """A production app; the process-wide clock is back in sandbox mode afterwards."""
    from reseller.app import create_app
    from reseller.core.clock import clock

    app = create_app(production_config(database_url, instance_dir, **overrides))
    try:
        yield app
    finally:
        clock.configure(sandbox=True)
