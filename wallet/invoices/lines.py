"""One thing to bill, as gathered from the ledger, before it becomes an invoice line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class LineIn:
    """One thing to bill, as gathered from the ledger (negative ``net`` for refunds)."""

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
