"""Configuration read once from the environment in ``create_app`` and passed down.

Two modes: ``sandbox`` (the embedded default: SQLite, in-process jobs, sandbox adapters,
the time machine) and ``production`` (PostgreSQL, Redis, real adapters), which refuses to
start with demo secrets or SQLite.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask

from reseller.core import resources
from reseller.core.crypto import parse_keys
from reseller.core.production import DEMO_DEFAULTS, DEMO_SECRET_KEY, production_problems

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(RuntimeError):
    """A required production setting is missing or unsafe."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _encryption_keys(value: str | None) -> list[str]:
    try:
        return parse_keys(value)
    except ValueError as error:
        raise ConfigError(str(error)) from None


DEFAULT_RATE_LIMITS = {
    "standard": "20000/hour",
    "plus": "60000/hour",
    "pro": "60000/hour",
    "enterprise": "unlimited",
}


def _rate(limit: str, setting: str) -> str:
    """A flask-limiter rate (``100/hour``), checked at start-up."""
    from limits import parse

    try:
        parse(limit)
    except ValueError as error:
        raise ConfigError(f"{setting}: {limit!r} is not a rate like 100/hour") from error
    return limit


def _rate_limits(value: str | None) -> dict[str, str]:
    """``standard=20000/hour,enterprise=unlimited`` over the defaults, checked at start-up."""
    limits = dict(DEFAULT_RATE_LIMITS)
    for item in filter(None, (value or "").split(",")):
        tier, _, limit = item.partition("=")
        tier, limit = tier.strip().lower(), limit.strip().lower()
        limits[tier] = limit if limit == "unlimited" else _rate(limit, "RATE_LIMITS")
    return limits


def translation_directories() -> str:
    """Every catalogue area (flask-babel merges them), installed or in the checkout."""
    return ";".join(str(path) for path in resources.translation_directories())


def _demo(env: Mapping[str, str], key: str) -> str:
    """The setting, or the demo operator's value when it is not set at all."""
    return env.get(key, DEMO_DEFAULTS[key])


def _color(value: str) -> str:
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", value.strip()):
        raise ValueError(f"OPERATOR_COLOR must be a colour such as #1f5f8b, not {value!r}")
    return value.strip().lower()


def one_of(key: str, value: str | None, choices: tuple[str, ...]) -> str:
    """``value`` (the first choice when unset), refused unless it is one of ``choices``."""
    chosen = (value or choices[0]).strip().lower()
    if chosen not in choices:
        raise ConfigError(f"{key} must be one of {', '.join(choices)}, not {value!r}")
    return chosen


def _log_level(value: str | None) -> str:
    level = (value or "INFO").strip().upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {value!r}")
    return level


def split_list(value: str | None, default: list[str]) -> list[str]:
    items = [item.strip() for item in (value or "").split(",") if item.strip()]
    return items or list(default)


def load_config(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build the Flask config dict from ``environ`` (``os.environ`` by default)."""
    env = dict(os.environ if environ is None else environ)
    instance_dir = Path(env.get("INSTANCE_DIR", "instance")).resolve()
    mode = env.get("TUNNUS_ENV", "sandbox").strip().lower()
    if mode not in {"sandbox", "production"}:
        raise ConfigError(f"TUNNUS_ENV must be 'sandbox' or 'production', not {mode!r}")
    sandbox = mode == "sandbox"
    port = int(env.get("PORT", "5000"))
    config: dict[str, Any] = {
        "TUNNUS_ENV": mode,
        "SANDBOX": sandbox,
        "INSTANCE_DIR": str(instance_dir),
        "SECRET_KEY": env.get("SECRET_KEY") or (DEMO_SECRET_KEY if sandbox else ""),
        # Fernet keys for secrets at rest, first one encrypts (reseller.core.crypto).
        "DATA_ENCRYPTION_KEYS": _encryption_keys(env.get("DATA_ENCRYPTION_KEYS")),
        # Logging (reseller.core.logs): level, "text" or "json" lines, the access log.
        "LOG_LEVEL": _log_level(env.get("LOG_LEVEL")),
        "LOG_FORMAT": one_of("LOG_FORMAT", env.get("LOG_FORMAT"), ("text", "json")),
        "ACCESS_LOG": _bool(env.get("ACCESS_LOG"), default=True),
        "DB_PING_IDLE_SECONDS": float(env.get("DB_PING_IDLE_SECONDS") or "5"),
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL")
        or f"sqlite:///{instance_dir / 'tunnus.db'}",
        "REDIS_URL": env.get("REDIS_URL") or None,
        "JOBS_MODE": env.get("JOBS_MODE") or ("rq" if env.get("REDIS_URL") else "thread"),
        "BASE_URL": (env.get("BASE_URL") or f"http://127.0.0.1:{port}").rstrip("/"),
        # RFC 9457 problem types: documented under the operator's own site (unset:
        # BASE_URL/problems/).
        "PROBLEM_TYPE_BASE": env.get("PROBLEM_TYPE_BASE") or None,
        "PORT": port,
        # Reverse proxies in front of gunicorn whose X-Forwarded-* headers we trust.
        "PROXY_FIX_HOPS": int(env.get("PROXY_FIX_HOPS", "0" if sandbox else "1")),
        "WHOIS_PORT": int(env.get("WHOIS_PORT", "4343")),
        # The operator: a Finnish registrar. Its brand never reaches resellers' customers.
        "OPERATOR_NAME": _demo(env, "OPERATOR_NAME"),
        "OPERATOR_BRAND": _demo(env, "OPERATOR_BRAND"),
        # The client area's accent colour (header, buttons, favicon): the operator's brand.
        "OPERATOR_COLOR": _color(env.get("OPERATOR_COLOR") or "#1f5f8b"),
        "OPERATOR_DOMAIN": _demo(env, "OPERATOR_DOMAIN"),
        "OPERATOR_EMAIL": _demo(env, "OPERATOR_EMAIL"),
        "OPERATOR_PASSWORD": env.get("OPERATOR_PASSWORD") or None,
        "OPERATOR_BUSINESS_ID": _demo(env, "OPERATOR_BUSINESS_ID"),
        "OPERATOR_VAT_ID": _demo(env, "OPERATOR_VAT_ID"),
        "OPERATOR_IBAN": _demo(env, "OPERATOR_IBAN"),
        "OPERATOR_BIC": _demo(env, "OPERATOR_BIC"),
        "OPERATOR_ADDRESS": _demo(env, "OPERATOR_ADDRESS"),
        "OPERATOR_IANA_ID": env.get("OPERATOR_IANA_ID", "9999"),
        "OPERATOR_ABUSE_EMAIL": _demo(env, "OPERATOR_ABUSE_EMAIL"),
        "OPERATOR_ABUSE_PHONE": _demo(env, "OPERATOR_ABUSE_PHONE"),
        "OPERATOR_URL": env.get("OPERATOR_URL")
        or f"https://{_demo(env, 'OPERATOR_DOMAIN')}",
        # Mail: until a reseller's own domain verifies, mail leaves from this neutral domain.
        "NEUTRAL_SENDER_DOMAIN": _demo(env, "NEUTRAL_SENDER_DOMAIN"),
        # Where registrant links point until a reseller's own link domain verifies; must
        # not carry the operator's brand. The sandbox serves them on BASE_URL's host.
        "NEUTRAL_LINK_HOST": env.get("NEUTRAL_LINK_HOST") or None,
        "LINK_SCHEME": env.get("LINK_SCHEME") or ("http" if sandbox else "https"),
        # What a reseller's DNS must point at: the link host's CNAME target, the SPF include.
        "LINK_CNAME_TARGET": env.get("LINK_CNAME_TARGET") or None,
        "SPF_INCLUDE": env.get("SPF_INCLUDE") or None,
        # Resolver for sender-domain checks, "host" or "host:port"; empty = the system's.
        "DNS_RESOLVER": env.get("DNS_RESOLVER", ""),
        "NEUTRAL_DKIM_SELECTOR": env.get("NEUTRAL_DKIM_SELECTOR", "relay"),
        "NEUTRAL_DKIM_KEY_FILE": env.get("NEUTRAL_DKIM_KEY_FILE") or None,
        "REGISTRANT_VERIFICATION_DAYS": int(env.get("REGISTRANT_VERIFICATION_DAYS", "15")),
        "SMTP_HOST": env.get("SMTP_HOST") or None,
        "SMTP_PORT": int(env.get("SMTP_PORT", "25")),
        "SMTP_USERNAME": env.get("SMTP_USERNAME") or None,
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD") or None,
        "SMTP_STARTTLS": _bool(env.get("SMTP_STARTTLS")),
        "MAIL_ADAPTER": env.get("MAIL_ADAPTER") or ("smtp" if env.get("SMTP_HOST") else "sandbox"),
        "REGISTRY_ADAPTER": env.get("REGISTRY_ADAPTER", "sandbox"),
        # Our registrar id at the registries (EPP clID); the sandbox uses it as sponsor.
        "REGISTRY_CLIENT_ID": env.get("REGISTRY_CLIENT_ID", "tunnus"),
        # Sandbox registry failure injection: share of calls failing before / timing out
        # after the work (decimal fractions), and added latency per call.
        "SANDBOX_REGISTRY_FAILURE_RATE": Decimal(env.get("SANDBOX_REGISTRY_FAILURE_RATE") or "0"),
        "SANDBOX_REGISTRY_TIMEOUT_RATE": Decimal(env.get("SANDBOX_REGISTRY_TIMEOUT_RATE") or "0"),
        "SANDBOX_REGISTRY_LATENCY_MS": int(env.get("SANDBOX_REGISTRY_LATENCY_MS") or "0"),
        # The sandbox registry's EPP server (`flask registry epp-server`): the password of
        # REGISTRY_CLIENT_ID, more logins as "id:pw,id2:pw2", idle timeout in seconds,
        # connection bound, and schema validation of incoming commands.
        "EPP_SERVER_PASSWORD": env.get("EPP_SERVER_PASSWORD") or ("sandbox" if sandbox else None),
        "EPP_SERVER_CLIENTS": env.get("EPP_SERVER_CLIENTS", ""),
        "EPP_SERVER_IDLE_TIMEOUT": float(env.get("EPP_SERVER_IDLE_TIMEOUT") or "300"),
        "EPP_SERVER_MAX_CONNECTIONS": int(env.get("EPP_SERVER_MAX_CONNECTIONS") or "32"),
        "EPP_VALIDATE": _bool(env.get("EPP_VALIDATE"), default=True),
        # REGISTRY_ADAPTER=epp: the registries as JSON, one object per TLD group (name,
        # tlds, host, port, client_id, password or password_env, cert, key, ca, profile,
        # pool_size, timeout, keepalive); checked at start-up, see docs/epp.md.
        "EPP_REGISTRIES": env.get("EPP_REGISTRIES", ""),
        "AUTO_RENEW_DAYS_AHEAD": int(env.get("AUTO_RENEW_DAYS_AHEAD") or "14"),
        "ORDER_RECOVERY_AFTER_MINUTES": int(env.get("ORDER_RECOVERY_AFTER_MINUTES") or "5"),
        # Domain sync (`registry.sync`, hourly): names per run, how often one name is
        # read at most, and the pace (info commands per second) for the registry's limits.
        "REGISTRY_SYNC_BATCH": int(env.get("REGISTRY_SYNC_BATCH") or "200"),
        "REGISTRY_SYNC_MIN_AGE_HOURS": float(env.get("REGISTRY_SYNC_MIN_AGE_HOURS") or "24"),
        "REGISTRY_SYNC_PER_SECOND": float(env.get("REGISTRY_SYNC_PER_SECOND") or "5"),
        # TLDs whose registrant must have an identity number on file before an order
        # (their registries refuse one without): see docs/domains.md.
        "REGISTRANT_IDENTITY_TLDS": frozenset(
            t.strip().lower().lstrip(".") for t in
            env.get("REGISTRANT_IDENTITY_TLDS", "fi,se,nu").split(",") if t.strip()),
        # DNS hosting: "sandbox" keeps zones in process (embedded default); "knot" publishes
        # to a Knot server by TSIG-signed DNS UPDATE and adds zones with knotc.
        "DNS_ADAPTER": env.get("DNS_ADAPTER", "sandbox"),
        "DNS_SERVER": env.get("DNS_SERVER", "127.0.0.1:53"),
        "DNS_TSIG_NAME": env.get("DNS_TSIG_NAME") or None,
        "DNS_TSIG_SECRET": env.get("DNS_TSIG_SECRET") or None,
        "DNS_PUBLIC_SERVER": env.get("DNS_PUBLIC_SERVER") or None,
        # The DNS update gate (``flask dns gate``): host:port ACME keys are given instead of
        # the server; where the gate listens (default: all addresses, that port).
        "DNS_GATE_SERVER": env.get("DNS_GATE_SERVER") or None,
        "DNS_GATE_LISTEN": env.get("DNS_GATE_LISTEN") or None,
        "KNOT_CONF": env.get("KNOT_CONF") or None,
        "KNOT_SOCKET": env.get("KNOT_SOCKET") or None,
        "KNOT_ZONE_DIR": env.get("KNOT_ZONE_DIR") or None,
        "KNOT_ACL": env.get("KNOT_ACL", "tunnus"),
        # Neutral default nameserver names (never the operator's brand) and their addresses,
        # shown to resellers as the glue for their vanity names.
        "DNS_NAMESERVERS": split_list(env.get("DNS_NAMESERVERS"),
                                 DEMO_DEFAULTS["DNS_NAMESERVERS"].split(",")),
        "DNS_NAMESERVER_ADDRESSES": split_list(env.get("DNS_NAMESERVER_ADDRESSES"),
                                          DEMO_DEFAULTS["DNS_NAMESERVER_ADDRESSES"].split(",")),
        "DNS_VERIFY_RESOLVER": env.get("DNS_VERIFY_RESOLVER") or None,
        "DNS_VERIFY_AUTHORITATIVE_PORT": int(env.get("DNS_VERIFY_AUTHORITATIVE_PORT") or 53),
        "FORWARDING_IPV4": _demo(env, "FORWARDING_IPV4"),
        "FORWARDING_IPV6": env.get("FORWARDING_IPV6") or None,
        "WHOIS_RATE_LIMIT": int(env.get("WHOIS_RATE_LIMIT", "30")),
        "LOGIN_MAX_FAILURES": int(env.get("LOGIN_MAX_FAILURES", "5")),
        "LOGIN_LOCK_MINUTES": int(env.get("LOGIN_LOCK_MINUTES", "15")),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": int(env.get("LOGIN_MAX_FAILURES_PER_ADDRESS", "20")),
        "RDAP_RATE_LIMIT": _rate(env.get("RDAP_RATE_LIMIT", "60/minute"), "RDAP_RATE_LIMIT"),
        # Where RDAP's "Terms of Use" notice links (rel terms-of-service); /rdap/help if unset.
        "RDAP_TERMS_URL": env.get("RDAP_TERMS_URL", ""),
        "ACCESS_TOKEN_TTL": int(env.get("ACCESS_TOKEN_TTL", "3600")),
        # API platform: idempotency keys, rate limits per tier, webhooks.
        "IDEMPOTENCY_TTL_HOURS": max(24, int(env.get("IDEMPOTENCY_TTL_HOURS", "24"))),
        # How long a request waits for the answer of another with its key before 409.
        "IDEMPOTENCY_WAIT_SECONDS": float(env.get("IDEMPOTENCY_WAIT_SECONDS") or "2"),
        # A key committed without its answer this recently is a request still waiting on
        # the registry or a provider (as long as pending.LEASE, a domain command's lease).
        "IDEMPOTENCY_IN_USE_SECONDS": float(env.get("IDEMPOTENCY_IN_USE_SECONDS") or "300"),
        # Bearer token for /metrics (unset: served only in sandbox mode).
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or "",
        # /readyz: the oldest waiting job may be this old while workers consume.
        "READY_QUEUE_WAIT_SECONDS": int(env.get("READY_QUEUE_WAIT_SECONDS") or "60"),
        "RATE_LIMITS": _rate_limits(env.get("RATE_LIMITS")),
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), default=True),
        "WEBHOOKS_ALLOW_PRIVATE": _bool(env.get("WEBHOOKS_ALLOW_PRIVATE"), default=sandbox),
        "WEBHOOKS_TIMEOUT": float(env.get("WEBHOOKS_TIMEOUT", "10")),
        "WEBHOOKS_RETRY_HOURS": int(env.get("WEBHOOKS_RETRY_HOURS", "72")),
        # What resellers' servers see as the webhook sender: neutral unless set.
        "WEBHOOKS_USER_AGENT": env.get("WEBHOOKS_USER_AGENT") or "Webhooks/1.0",
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_TRANSLATION_DIRECTORIES": translation_directories(),
        "LANGUAGES": ("fi", "sv", "en"),
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": not sandbox,
        "JSON_SORT_KEYS": False,
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        # Monthly invoices (see docs/invoices.md).
        "INVOICE_PAYMENT_TERMS_DAYS": int(env.get("INVOICE_PAYMENT_TERMS_DAYS", "14")),
        "INVOICE_REMINDER_DAYS": env.get("INVOICE_REMINDER_DAYS", "7,21"),
        "INVOICE_BLOCK_OVERDUE": _bool(env.get("INVOICE_BLOCK_OVERDUE"), default=True),
        "INVOICE_BLOCK_OVERDUE_DAYS": int(env.get("INVOICE_BLOCK_OVERDUE_DAYS", "30")),
        "LATE_INTEREST_REFERENCE_RATES": env.get("LATE_INTEREST_REFERENCE_RATES") or None,
        "LATE_INTEREST_MARGIN": env.get("LATE_INTEREST_MARGIN", "8"),
        "OPERATOR_BILLING_EMAIL": env.get("OPERATOR_BILLING_EMAIL") or None,
    }
    neutral = config["NEUTRAL_SENDER_DOMAIN"]
    config["LINK_CNAME_TARGET"] = config["LINK_CNAME_TARGET"] or f"links.{neutral}"
    config["SPF_INCLUDE"] = config["SPF_INCLUDE"] or f"_spf.{neutral}"
    config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(config["SQLALCHEMY_DATABASE_URI"])
    return config


def engine_options(uri: str) -> dict[str, Any]:
    if uri.startswith("sqlite"):
        # Threads share pooled connections (job thread, threaded server); writers are
        # serialised by BEGIN IMMEDIATE, see reseller.core.db.configure_sqlite.
        return {"connect_args": {"check_same_thread": False, "timeout": 30}}
    # No pool_pre_ping: reseller.core.db.ping_idle_connections pings only connections
    # that sat idle in the pool (create_app installs it), not one per unit of work.
    return {"pool_size": 10, "max_overflow": 20}


ProductionCheck = Callable[[Mapping[str, Any]], Iterable[str]]
PRODUCTION_CHECKS = "tunnus.production_checks"


def use_settings(app: Flask, values: Mapping[str, Any]) -> None:
    """A feature's settings, read by its ``init_app``: a value the app already has (a
    test's config) wins over the one read from the environment."""
    for key, value in values.items():
        app.config.setdefault(key, value)


def add_production_check(app: Flask, check: ProductionCheck) -> None:
    """A feature's production refusals (one line each), joined to the kernel's when
    ``create_app`` has run every ``init_app``."""
    app.extensions.setdefault(PRODUCTION_CHECKS, []).append(check)


def check_production(config: Mapping[str, Any], checks: Iterable[ProductionCheck] = ()) -> None:
    """Refuse to start production with anything of the demo; one line per problem, the
    kernel's and then those of each feature's ``checks``."""
    if config.get("SANDBOX"):
        return
    problems = production_problems(config)
    for check in checks:
        problems.extend(check(config))
    if problems:
        raise ConfigError("Refusing to start in production:\n"
                          + "\n".join(f"  {problem}" for problem in problems))
