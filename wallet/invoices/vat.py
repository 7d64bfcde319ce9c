"""VAT on invoices: the buyer's VAT status, its category codes, effective-dated rate tables.

Tunnus sells electronically supplied services business-to-business from Finland. The
accounts feature decides the buyer's status (``reseller.core.identity.vat_status``,
read through the kernel's reseller directory) and it is passed in as a plain value:

* ``domestic``: Finnish buyers, and EU buyers without a VAT ID, pay Finnish VAT at the
  rate in force on the supply date (category S);
* ``reverse_charge``: an EU business with a valid VAT ID (0 %, category AE; both VAT IDs
  and the reverse-charge note on the invoice);
* ``outside_scope``: buyers outside the EU (the UK, EEA outside the EU VAT area), category
  O with the outside-scope note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

DOMESTIC = "domestic"
REVERSE_CHARGE = "reverse_charge"
OUTSIDE_SCOPE = "outside_scope"

STATUSES = (DOMESTIC, REVERSE_CHARGE, OUTSIDE_SCOPE)
# The UNCL5305 category of a line charged at 0 % under each status.
ZERO_RATE_CATEGORY = {DOMESTIC: "Z", REVERSE_CHARGE: "AE", OUTSIDE_SCOPE: "O"}


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


def category(*, rate: Decimal, vat_status: str) -> str:
    """UNCL5305 category of a line charged ``rate`` percent for a buyer of ``vat_status``."""
    return "S" if rate > 0 else ZERO_RATE_CATEGORY[vat_status]
