"""Invoicing settings and the parties on an invoice, as plain values.

``settings_from_config`` reads the Flask config mapping once (in the entry points' layer,
``wallet.invoices.invoicing``); the services never read ``current_app``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from wallet.invoices.vat import RateTable

# The Bank of Finland's reference rate (korkolaki 12 §: the ECB's main refinancing rate on
# the last day of the previous half-year) for each half-year, as published; the operator
# adds each new one (``LATE_INTEREST_REFERENCE_RATES``). Table as of 2026-12-06: the
# half-year from 2026-07-01 is not in it yet, so interest for it logs a warning.
DEFAULT_REFERENCE_RATES = ("2024-01-01=4.5,2024-07-01=4.25,2025-01-01=3.15,2025-07-01=2.15,"
                           "2026-01-01=2.15")


@dataclass(frozen=True)
class Party:
    """Seller or buyer as printed on the invoice (frozen at issue)."""

    name: str
    country: str
    business_id: str | None = None
    vat_id: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    email: str | None = None
    einvoice_address: str | None = None
    iban: str | None = None
    bic: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class InvoicingSettings:
    seller: Party
    reference_rates: RateTable
    late_interest_margin: str = "8"
    payment_terms_days: int = 14
    reminder_days: tuple[int, ...] = (7, 21)
    block_overdue: bool = True
    block_overdue_days: int = 30


def _seller(config: Mapping[str, Any]) -> Party:
    street, _, rest = str(config.get("OPERATOR_ADDRESS", "")).partition(",")
    postal_code, _, city = rest.strip().partition(" ")
    return Party(
        name=config["OPERATOR_NAME"], country="FI",
        business_id=config.get("OPERATOR_BUSINESS_ID"), vat_id=config.get("OPERATOR_VAT_ID"),
        street=street.strip() or None, postal_code=postal_code or None, city=city or None,
        email=config.get("OPERATOR_BILLING_EMAIL") or config.get("OPERATOR_EMAIL"),
        iban=config.get("OPERATOR_IBAN"), bic=config.get("OPERATOR_BIC"))


def settings_from_config(config: Mapping[str, Any]) -> InvoicingSettings:
    reminders = str(config.get("INVOICE_REMINDER_DAYS", "7,21"))
    return InvoicingSettings(
        seller=_seller(config),
        reference_rates=RateTable.parse(
            config.get("LATE_INTEREST_REFERENCE_RATES") or DEFAULT_REFERENCE_RATES),
        late_interest_margin=str(config.get("LATE_INTEREST_MARGIN", "8")),
        payment_terms_days=int(config.get("INVOICE_PAYMENT_TERMS_DAYS", 14)),
        reminder_days=tuple(int(day) for day in reminders.split(",") if day.strip()),
        block_overdue=bool(config.get("INVOICE_BLOCK_OVERDUE", True)),
        block_overdue_days=int(config.get("INVOICE_BLOCK_OVERDUE_DAYS", 30)),
    )
