"""What production refuses to start with: demo secrets and services, every demo default,
operator details that do not validate. Features add refusals of their own (the wallet:
payment methods offered without their keys) through ``config.add_production_check``.

Each problem is one line that starts with the setting's name, so an operator reading the
refusal knows exactly what to set.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

DEMO_SECRET_KEY = "tunnus-demo-secret-key-do-not-use-in-production"

# The demo operator of the embedded default. Production refuses every one of these
# (below), so none of them can reach an invoice, WHOIS or a registry.
DEMO_DEFAULTS: dict[str, str] = {
    "OPERATOR_NAME": "Nimipalvelu Oy",
    "OPERATOR_BRAND": "Nimipalvelu",
    "OPERATOR_DOMAIN": "nimipalvelu.example",
    "OPERATOR_EMAIL": "staff@nimipalvelu.example",
    "OPERATOR_BUSINESS_ID": "2464491-9",
    "OPERATOR_VAT_ID": "FI24644919",
    "OPERATOR_IBAN": "FI2112345600000785",
    "OPERATOR_BIC": "NDEAFIHH",
    "OPERATOR_ADDRESS": "Mannerheimintie 1, 00100 Helsinki",
    "OPERATOR_ABUSE_EMAIL": "abuse@nimipalvelu.example",
    "OPERATOR_ABUSE_PHONE": "+358.201234567",
    "NEUTRAL_SENDER_DOMAIN": "mail-relay.example",
    "DNS_NAMESERVERS": "ns1.dns-hosting.example,ns2.dns-hosting.example",
    "DNS_NAMESERVER_ADDRESSES": "192.0.2.53,198.51.100.53",
    "FORWARDING_IPV4": "192.0.2.80",
}
# Names reserved for documentation and testing (RFC 2606, RFC 6761): never a real host.
RESERVED_TLDS = {"example", "test", "invalid", "localhost", "local"}
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
# EPP's phone format (RFC 5733 e164StringType): +CC.number
EPP_PHONE = re.compile(r"^\+[0-9]{1,3}\.[0-9]{4,14}$")


def production_problems(config: Mapping[str, Any]) -> list[str]:
    """Every reason ``config`` is not fit for production, one line each."""
    problems: list[str] = []
    for check in (_secrets_and_services, _operator_details, _operator_contacts,
                  _dns_and_urls, _operator_brand_leaks):
        problems.extend(check(config))
    return problems


def _secrets_and_services(config: Mapping[str, Any]) -> Iterable[str]:
    secret = config.get("SECRET_KEY") or ""
    if not secret or secret == DEMO_SECRET_KEY or len(secret) < 32:
        yield "SECRET_KEY must be set to a random value of at least 32 characters"
    if not config.get("DATA_ENCRYPTION_KEYS"):
        yield ("DATA_ENCRYPTION_KEYS is required in production (secrets at rest; make one "
               "with `flask secrets new-key`)")
    if not str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql"):
        yield "DATABASE_URL must point at PostgreSQL in production"
    if not config.get("REDIS_URL"):
        yield "REDIS_URL is required in production (RQ workers)"
    if config.get("MAIL_ADAPTER") != "smtp":
        yield "SMTP_HOST is required in production (without it mail stays in the sandbox outbox)"
    if config.get("REGISTRY_ADAPTER") != "epp":
        yield "REGISTRY_ADAPTER must be 'epp' in production (not the sandbox registry)"
    if config.get("DNS_ADAPTER") != "knot":
        yield "DNS_ADAPTER must be 'knot' in production (not the in-process DNS sandbox)"


def _demo_or_missing(config: Mapping[str, Any], key: str) -> str | None:
    value = config.get(key)
    if isinstance(value, list | tuple):
        value = ",".join(value)
    value = str(value or "").strip()
    if not value:
        return f"{key} is required in production"
    if value == DEMO_DEFAULTS.get(key):
        return f"{key} is still the demo value {value!r}: set the operator's own"
    return None


def _validated(config: Mapping[str, Any], key: str, check: Callable[[str], Any],
               what: str) -> Iterable[str]:
    if problem := _demo_or_missing(config, key):
        yield problem
        return
    from stdnum.exceptions import ValidationError

    try:
        check(str(config[key]))
    except ValidationError:
        yield f"{key} {config[key]!r} is not a valid {what}"


def _operator_details(config: Mapping[str, Any]) -> Iterable[str]:
    """Invoice issuer and bank-transfer details, validated with python-stdnum."""
    from stdnum import bic, iban
    from stdnum.fi import alv, ytunnus

    for key in ("OPERATOR_NAME", "OPERATOR_BRAND", "OPERATOR_ADDRESS"):
        if problem := _demo_or_missing(config, key):
            yield problem
    yield from _validated(config, "OPERATOR_BUSINESS_ID", ytunnus.validate,
                          "Finnish business ID (Y-tunnus, e.g. 1234567-1)")
    vat = list(_validated(config, "OPERATOR_VAT_ID", alv.validate,
                          "Finnish VAT ID (FI + the business ID's 8 digits)"))
    yield from vat
    yield from _validated(config, "OPERATOR_IBAN", iban.validate, "IBAN")
    yield from _validated(config, "OPERATOR_BIC", bic.validate, "BIC")
    business_id = str(config.get("OPERATOR_BUSINESS_ID") or "")
    if not vat and ytunnus.is_valid(business_id) \
            and alv.compact(config["OPERATOR_VAT_ID"]) != ytunnus.compact(business_id):
        yield "OPERATOR_VAT_ID does not belong to OPERATOR_BUSINESS_ID"


def _reserved(host: str) -> bool:
    host = host.lower().rstrip(".")
    return ("." not in host or host.rpartition(".")[2] in RESERVED_TLDS
            or any(host == name or host.endswith("." + name) for name in RESERVED_DOMAINS))


def _operator_contacts(config: Mapping[str, Any]) -> Iterable[str]:
    """Who resellers and the public (WHOIS, RDAP, abuse reports) reach."""
    for key in ("OPERATOR_DOMAIN", "OPERATOR_EMAIL", "OPERATOR_ABUSE_EMAIL",
                "OPERATOR_ABUSE_PHONE", "NEUTRAL_SENDER_DOMAIN"):
        if problem := _demo_or_missing(config, key):
            yield problem
            continue
        value = str(config[key]).strip()
        if key.endswith("_EMAIL"):
            local, at, domain = value.rpartition("@")
            if not (local and at) or _reserved(domain):
                yield f"{key} {value!r} is not a deliverable address"
        elif key.endswith("_PHONE"):
            if not EPP_PHONE.match(value):
                yield f"{key} {value!r} must be in EPP format, e.g. +358.401234567"
        elif _reserved(value):
            yield f"{key} {value!r} is a reserved name, not a real domain"


def _dns_and_urls(config: Mapping[str, Any]) -> Iterable[str]:
    base = urlsplit(str(config.get("BASE_URL") or ""))
    if base.scheme != "https" or not base.hostname or _reserved(base.hostname) \
            or _documentation_or_private(base.hostname):
        yield "BASE_URL must be the public https:// address of the client area and API"
    if problem := _demo_or_missing(config, "DNS_NAMESERVERS"):
        yield problem
    else:
        for name in config["DNS_NAMESERVERS"]:
            if _reserved(name):
                yield f"DNS_NAMESERVERS: {name!r} is a reserved name, not a real nameserver"
    for key in ("DNS_NAMESERVER_ADDRESSES", "FORWARDING_IPV4"):
        if problem := _demo_or_missing(config, key):
            yield problem
            continue
        value = config[key]
        for address in value if isinstance(value, list | tuple) else [value]:
            if _documentation_or_private(address):
                yield f"{key}: {address!r} is not a public IP address"


def _documentation_or_private(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False  # a host name, checked elsewhere
    return not ip.is_global


def _operator_brand_leaks(config: Mapping[str, Any]) -> list[str]:
    """Registrants see the neutral sender domain and link host: never the operator's."""
    marks = [m.lower() for m in (config.get("OPERATOR_BRAND"), config.get("OPERATOR_DOMAIN"))
             if m]
    return [f"{key} must not carry the operator's brand or domain"
            for key in ("NEUTRAL_SENDER_DOMAIN", "NEUTRAL_LINK_HOST")
            if any(mark in (config.get(key) or "").lower() for mark in marks)]
