"""VAT rates: the Finnish domestic rate by date, zero for reverse charge and outside scope.

The effective-dated rate table comes from config ``VAT_RATES`` (``"2024-09-01=25.5,
2013-01-01=24"``) so a rate change is configuration, not code. The wallet never decides a
reseller's VAT status: callers pass ``vat_status`` (see ``reseller.core.identity``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

DEFAULT_VAT_RATES = "2024-09-01=25.5,2013-01-01=24"
ZERO_RATED = {"reverse_charge", "outside_scope"}


class UnknownVatStatus(ValueError):
    """``vat_status`` is none of domestic, reverse_charge, outside_scope."""


def parse_vat_rates(value: str | None) -> tuple[tuple[date, Decimal], ...]:
    """``"2024-09-01=25.5,2013-01-01=24"`` → ((date, Decimal("25.5")), …), newest first."""
    rates = []
    for item in filter(None, (value or DEFAULT_VAT_RATES).split(",")):
        start, _, percent = item.partition("=")
        rates.append((date.fromisoformat(start.strip()), Decimal(percent.strip())))
    if not rates:
        raise ValueError("VAT_RATES needs at least one 'YYYY-MM-DD=percent' entry")
    return tuple(sorted(rates, reverse=True))


_DEFAULT_TABLE = parse_vat_rates(DEFAULT_VAT_RATES)


def _configured_table() -> tuple[tuple[date, Decimal], ...]:
    try:
        from flask import current_app, has_app_context
    except ImportError:  # pragma: no cover - flask is always installed with the app
        return _DEFAULT_TABLE
    if has_app_context():
        return current_app.config.get("VAT_RATES") or _DEFAULT_TABLE
    return _DEFAULT_TABLE


def domestic_rate(on: date, table: tuple[tuple[date, Decimal], ...] | None = None) -> Decimal:
    """The Finnish general VAT rate in percent on ``on`` (e.g. Decimal("25.5"))."""
    for start, percent in table or _configured_table():
        if on >= start:
            return percent
    raise ValueError(f"no VAT rate configured for {on.isoformat()}")


def vat_rate(*, vat_status: str, on: date,
             table: tuple[tuple[date, Decimal], ...] | None = None) -> Decimal:
    """The VAT rate as a fraction (Decimal("0.255")) for a reseller with ``vat_status``."""
    if vat_status in ZERO_RATED:
        return Decimal("0")
    if vat_status != "domestic":
        raise UnknownVatStatus(f"unknown VAT status {vat_status!r}")
    return domestic_rate(on, table) / Decimal(100)


def rate_table(config: Mapping) -> tuple[tuple[date, Decimal], ...]:
    return config.get("VAT_RATES") or _DEFAULT_TABLE
