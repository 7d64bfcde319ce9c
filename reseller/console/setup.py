"""The first-run checklist: what a fresh installation still lacks before the first reseller
can buy. Each item is done or missing, with where to fix it; nothing here changes state."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from flask_babel import lazy_gettext as _l

from reseller.accounts import services as accounts
from reseller.catalog import services as catalog
from reseller.catalog.models import TLDS
from reseller.core.config import load_config
from reseller.dns import services as dns

# Operator details on invoices, in RDAP/WHOIS and in bank-transfer instructions.
OPERATOR_SETTINGS = ("OPERATOR_NAME", "OPERATOR_BUSINESS_ID", "OPERATOR_VAT_ID",
                     "OPERATOR_IBAN", "OPERATOR_BIC", "OPERATOR_ADDRESS", "OPERATOR_IANA_ID",
                     "OPERATOR_ABUSE_EMAIL", "OPERATOR_ABUSE_PHONE", "OPERATOR_DOMAIN")
PAYMENT_CREDENTIALS = {"card": ("CARD_API_KEY", "CARD_WEBHOOK_SECRET"),
                       "paypal": ("PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET", "PAYPAL_WEBHOOK_ID",
                                  "PAYPAL_CERT_PEM"),
                       "online_banking": ("PAYTRAIL_ACCOUNT", "PAYTRAIL_SECRET")}


@dataclass(frozen=True)
class Item:
    key: str
    title: Any
    done: bool
    detail: Any = ""
    link: str | None = None  # an endpoint name for url_for, or None
    link_args: tuple[tuple[str, str], ...] = ()
    command: str | None = None  # or the command that fixes it


@cache
def _demo_values() -> dict[str, Any]:
    return load_config({})


def _unset_or_demo(config: Mapping[str, Any], keys: Collection[str]) -> list[str]:
    """The settings still empty or at the built-in demo value."""
    demo = _demo_values()
    return [key for key in keys if not config.get(key) or config.get(key) == demo.get(key)]


def checklist(*, config: Mapping[str, Any], registry_tlds: Collection[str]) -> list[Item]:
    """Every item, in the order an operator works through them. ``registry_tlds``: the
    TLDs a real (non-sandbox) registry connection is configured for."""
    return [_staff(), _catalogue(), _prices(), _operator(config),
            _registry(config, registry_tlds), _dns(config), _mail(config), _payments(config),
            _base_url(config)]


def _staff() -> Item:
    count = accounts.count_staff()
    return Item("staff", _l("Operator staff login"), count > 0,
                _l("%(count)s active staff logins.", count=count),
                command="flask staff create EMAIL")


def _catalogue() -> Item:
    tiers = catalog.list_tiers()
    return Item("catalogue", _l("Catalogue: volume tiers"), bool(tiers),
                ", ".join(t.name for t in tiers) or _l("No tiers yet."),
                link="catalog.tiers", command="flask catalog install-defaults")


def _prices() -> Item:
    title = _l("Prices for every TLD in both price lists")
    if not catalog.list_tiers():
        return Item("prices", title, False, _l("No tiers yet."), link="catalog.tiers")
    missing = catalog.missing_prices()
    tlds = sorted({tld for tld, *_ in missing})
    detail = (_l("Register, renew and transfer have a prepaid and a postpaid price for "
                 "every TLD and tier.") if not missing else
              _l("%(count)s prices missing, for: %(tlds)s.", count=len(missing),
                 tlds=", ".join(f".{tld}" for tld in tlds)))
    return Item("prices", title, not missing, detail, link="catalog.prices",
                link_args=(("tld", tlds[0]),) if tlds else ())


def _operator(config: Mapping[str, Any]) -> Item:
    missing = _unset_or_demo(config, OPERATOR_SETTINGS)
    return Item("operator", _l("Operator details (invoices, RDAP, bank transfers)"),
                not missing, _missing_settings(missing))


def _registry(config: Mapping[str, Any], registry_tlds: Collection[str]) -> Item:
    if config.get("REGISTRY_ADAPTER", "sandbox") == "sandbox":
        return Item("registry", _l("Registry connections"), False,
                    _l("REGISTRY_ADAPTER is the sandbox: nothing is registered for real."))
    uncovered = sorted(set(TLDS) - set(registry_tlds))
    detail = (_l("Every TLD has a registry connection.") if not uncovered else
              _l("No registry configured for: %(tlds)s.",
                 tlds=", ".join(f".{tld}" for tld in uncovered)))
    return Item("registry", _l("Registry connections"), not uncovered, detail)


def _dns(config: Mapping[str, Any]) -> Item:
    missing = _unset_or_demo(config, ("DNS_NAMESERVERS", "DNS_NAMESERVER_ADDRESSES"))
    if config.get("DNS_ADAPTER", "sandbox") == "sandbox":
        missing.insert(0, "DNS_ADAPTER")
    title = _l("DNS hosting (adapter and nameservers)")
    if not missing and (version := dns.acme_keys_unbounded()):
        return Item("dns", title, False, _l(
            "Knot %(version)s cannot hold ACME keys to _acme-challenge names: set "
            "DNS_GATE_SERVER and run the DNS update gate (flask dns gate).",
            version=version))
    return Item("dns", title, not missing, _missing_settings(missing))


def _mail(config: Mapping[str, Any]) -> Item:
    missing = _unset_or_demo(config, ("NEUTRAL_SENDER_DOMAIN", "NEUTRAL_DKIM_KEY_FILE"))
    if config.get("MAIL_ADAPTER") != "smtp":
        missing.insert(0, "SMTP_HOST")
    return Item("mail", _l("Outgoing mail (SMTP, neutral sender domain, DKIM)"), not missing,
                _missing_settings(missing))


def _payments(config: Mapping[str, Any]) -> Item:
    if config.get("PAYMENTS_ADAPTER", "sandbox") == "sandbox":
        return Item("payments", _l("Payment methods"), False,
                    _l("PAYMENTS_ADAPTER is the sandbox: no real money arrives."))
    methods = [method for method, keys in PAYMENT_CREDENTIALS.items()
               if all(config.get(key) for key in keys)]
    if not _unset_or_demo(config, ("OPERATOR_IBAN", "OPERATOR_BIC")):
        methods.append("bank_transfer")
    detail = (_l("Configured: %(methods)s.", methods=", ".join(methods)) if methods else
              _l("No payment method has its credentials."))
    return Item("payments", _l("Payment methods"), bool(methods), detail)


def _base_url(config: Mapping[str, Any]) -> Item:
    url = str(config.get("BASE_URL") or "")
    done = url.startswith("https://") and not _unset_or_demo(config, ("BASE_URL",))
    return Item("base_url", _l("Public address (BASE_URL, HTTPS)"), done, url)


def _missing_settings(missing: list[str]) -> Any:
    if not missing:
        return _l("All set.")
    return _l("Still empty or at the demo value: %(settings)s.", settings=", ".join(missing))
