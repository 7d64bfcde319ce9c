"""One thing to bill, as gathered from the ledger, before it becomes an invoice line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class LineIn:
    """One thing to bill, as gathered from the ledger (negative ``net`` for refunds).

    ``booked_vat`` and ``source`` say how the ledger already charged the line: the VAT it
    booked (rounded per purchase) and whether the money came from prepaid funds or went
    on the receivable. Lines the ledger never saw (late-payment interest) leave them
    empty; issuing the invoice books those, and the per-rate rounding difference.
    """

    kind: str
    source_key: str | None
    description: str
    occurred_on: date
    net: Decimal
    vat_rate: Decimal  # percent
    vat_category: str
    domain: str | None = None
    operation: str | None = None
    period_years: int | None = None
    booked_vat: Decimal | None = None
    source: str | None = None  # "funds" | "receivable" when the ledger charged the line
