"""Which VAT applies to a reseller's invoice, and the effective-dated rate tables.

Tunnus sells electronically supplied services business-to-business from Finland:

* a Finnish buyer pays Finnish VAT at the domestic rate in force on the supply date;
* an EU business with a valid VAT ID is reverse-charged (0 %, category AE, both VAT IDs
  and the reverse-charge note on the invoice);
* an EU buyer without a valid VAT ID is charged Finnish VAT like a Finnish one;
* a buyer outside the EU (the UK, EEA countries outside the EU VAT area) is outside the
  scope of Finnish VAT (category O, with a note).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from stdnum.eu import vat as eu_vat

EU_COUNTRIES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split())

DOMESTIC = "domestic"
REVERSE_CHARGE = "reverse_charge"
EU_WITHOUT_VAT_ID = "eu_without_vat_id"
OUTSIDE_SCOPE = "outside_scope"

# UNCL5305 VAT category codes used in the e-invoice and the VAT breakdown.
CATEGORY = {DOMESTIC: "S", EU_WITHOUT_VAT_ID: "S", REVERSE_CHARGE: "AE", OUTSIDE_SCOPE: "O"}


@dataclass(frozen=True)
class RateTable:
    """Rates (percent) effective from a date; the latest one on or before a day applies."""

    entries: tuple[tuple[date, Decimal], ...]

    @classmethod
    def parse(cls, text: str) -> RateTable:
        """``"2013-01-01=24,2024-09-01=25.5"`` → a table (never floats)."""
        entries = []
        for item in filter(None, (part.strip() for part in text.split(","))):
            day, _, rate = item.partition("=")
            entries.append((date.fromisoformat(day.strip()), Decimal(rate.strip())))
        if not entries:
            raise ValueError("a rate table needs at least one 'YYYY-MM-DD=rate' entry")
        return cls(tuple(sorted(entries)))

    def on(self, day: date) -> Decimal:
        rate = None
        for start, value in self.entries:
            if start <= day:
                rate = value
        if rate is None:
            raise ValueError(f"no rate in force on {day.isoformat()}")
        return rate


def is_valid_vat_id(vat_id: str | None, country: str) -> bool:
    """A syntactically valid EU VAT ID of the buyer's own country (no VIES lookup)."""
    if not vat_id:
        return False
    compact = eu_vat.compact(vat_id)
    prefix = "EL" if country == "GR" else country
    return compact.startswith(prefix) and eu_vat.is_valid(compact)


def treatment(*, country: str, vat_id: str | None) -> str:
    """The VAT treatment of a business buyer in ``country`` with ``vat_id``."""
    country = (country or "").upper()
    if country == "FI":
        return DOMESTIC
    if country not in EU_COUNTRIES:
        return OUTSIDE_SCOPE
    return REVERSE_CHARGE if is_valid_vat_id(vat_id, country) else EU_WITHOUT_VAT_ID


def rate_for(kind: str, day: date, domestic_rates: RateTable) -> Decimal:
    """The VAT rate (percent) a treatment charges on ``day``."""
    if kind in (DOMESTIC, EU_WITHOUT_VAT_ID):
        return domestic_rates.on(day)
    return Decimal("0")
