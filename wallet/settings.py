"""The wallet's settings: payment providers and the methods offered, surcharges, VAT rates.

``wallet.init_app`` reads them from the environment (a value the app was already given,
e.g. a test's config, wins) and adds the wallet's production refusals to the kernel's one
``ConfigError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from reseller.core.config import ConfigError, one_of, split_list
from wallet.payments import METHODS, missing_settings
from wallet.vat import parse_vat_rates

DEFAULT_SURCHARGES = {"card": "1.50", "paypal": "2.00", "online_banking": "0.50",
                      "bank_transfer": "0"}


def _decimal_map(value: str | None, default: dict[str, str]) -> dict[str, Decimal]:
    """Parse ``card=1.5,paypal=2`` into Decimals (never floats)."""
    pairs = dict(default)
    for item in filter(None, (value or "").split(",")):
        key, _, amount = item.partition("=")
        pairs[key.strip()] = amount.strip()
    return {key: Decimal(amount) for key, amount in pairs.items()}


def _read_file(key: str, path: str | None) -> str | None:
    try:
        return Path(path).read_text() if path else None
    except OSError as error:
        raise ConfigError(f"{key}: cannot read {path}: {error.strerror}") from None


def _payment_methods(value: str | None) -> tuple[str, ...]:
    """``PAYMENT_METHODS``: the top-up methods offered, all of them by default."""
    chosen = split_list(value, list(METHODS))
    unknown = [method for method in chosen if method not in METHODS]
    if unknown:
        raise ConfigError(f"PAYMENT_METHODS: unknown method {unknown[0]!r} "
                          f"(choose from {', '.join(METHODS)})")
    return tuple(method for method in METHODS if method in chosen)


def load(environ: Mapping[str, str]) -> dict[str, Any]:
    """The wallet's settings from ``environ``, checked (``ConfigError`` names the setting)."""
    env = environ
    return {
        "PAYMENTS_ADAPTER": one_of("PAYMENTS_ADAPTER", env.get("PAYMENTS_ADAPTER"),
                                   ("sandbox", "live")),
        # The top-up methods offered; one not listed is neither shown nor accepted.
        "PAYMENT_METHODS": _payment_methods(env.get("PAYMENT_METHODS")),
        "PAYMENT_SURCHARGES": _decimal_map(env.get("PAYMENT_SURCHARGES"), DEFAULT_SURCHARGES),
        "VAT_RATES": parse_vat_rates(env.get("VAT_RATES")),
        # Payment provider callbacks (wallet.payments): secrets, and how old a signed
        # callback may be before it is refused as a replay.
        "WEBHOOK_TOLERANCE": int(env.get("PAYMENTS_WEBHOOK_TOLERANCE", "300")),
        "SANDBOX_PAYMENTS_SECRET": env.get("SANDBOX_PAYMENTS_SECRET") or None,
        "CARD_WEBHOOK_SECRET": env.get("CARD_WEBHOOK_SECRET") or None,
        # The card provider's API, for charging and deleting cards on file.
        "CARD_API_URL": env.get("CARD_API_URL") or "https://api.stripe.com",
        "CARD_API_KEY": env.get("CARD_API_KEY") or None,
        "PAYPAL_WEBHOOK_ID": env.get("PAYPAL_WEBHOOK_ID") or None,
        # PayPal's REST API (Orders v2): the app's client id and secret.
        "PAYPAL_API_URL": env.get("PAYPAL_API_URL") or "https://api-m.paypal.com",
        "PAYPAL_CLIENT_ID": env.get("PAYPAL_CLIENT_ID") or None,
        "PAYPAL_CLIENT_SECRET": env.get("PAYPAL_CLIENT_SECRET") or None,
        "PAYTRAIL_API_URL": env.get("PAYTRAIL_API_URL") or "https://services.paytrail.com",
        "PAYPAL_CERT_PEM": _read_file("PAYPAL_CERT_FILE", env.get("PAYPAL_CERT_FILE")),
        "PAYTRAIL_ACCOUNT": env.get("PAYTRAIL_ACCOUNT") or None,
        "PAYTRAIL_SECRET": env.get("PAYTRAIL_SECRET") or None,
    }


def production_problems(config: Mapping[str, Any]) -> Iterable[str]:
    """The sandbox provider, or a method offered without its provider's keys (it would
    send resellers nowhere), one line each."""
    if config.get("PAYMENTS_ADAPTER") != "live":
        yield "PAYMENTS_ADAPTER must be 'live' in production (not the sandbox provider)"
    for method in config.get("PAYMENT_METHODS") or ():
        missing = missing_settings(method, config)
        if missing:
            yield (f"PAYMENT_METHODS offers {method} but {', '.join(missing)} "
                   f"{'is' if len(missing) == 1 else 'are'} not set (set "
                   f"{'it' if len(missing) == 1 else 'them'}, or leave {method} out)")
