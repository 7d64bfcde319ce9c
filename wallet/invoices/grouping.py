"""An invoice's lines as the invoice states them: grouped by operation, TLD and period.

A month of 10,000 purchases is one stored line each (each bills one purchase, once), but
the invoice itself — the PDF's first pages and the Peppol e-invoice — states one line per
kind of supply: "Registration, .fi, 1 year — 9,870 × 9.90". That is what the Finnish VAT
Act (AVL 209 e §) asks of an invoice: the quantity and nature of the services and the unit
price. Lines are grouped only when their unit price, VAT category and rate agree, so each
group's amount is exactly quantity × unit price and the groups sum to the stored lines to
the cent. The full specification (every line) is the CSV and the PDF's appendix.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Protocol

# Order of kinds on the invoice: what was bought first, then what was given back.
KIND_ORDER = {"purchase": 0, "refund": 1, "credit": 2, "interest": 3}


class LineLike(Protocol):
    position: int
    kind: str
    description: str
    domain: str | None
    operation: str | None
    period_years: int | None
    occurred_on: date
    net: Decimal
    vat: Decimal
    vat_category: str
    vat_rate: Decimal


def zone_of(domain: str | None) -> str | None:
    """The zone a registered name sits in (``example.co.uk`` → ``co.uk``)."""
    if not domain or "." not in domain:
        return None
    return domain.split(".", 1)[1]


@dataclass
class LineGroup:
    """Lines of one kind of supply at one unit price: ``quantity × unit_price == net``.

    ``quantity`` is negative for refunds and credits (their ``unit_price`` stays
    positive, as EN 16931 BR-27 requires of an item price).
    """

    kind: str
    operation: str | None
    zone: str | None
    period_years: int | None
    vat_category: str
    vat_rate: Decimal
    unit_price: Decimal
    description: str | None = None  # lines with no domain (interest) keep their own
    quantity: int = 0
    net: Decimal = Decimal("0.00")
    vat: Decimal = Decimal("0.00")
    first_on: date | None = None
    last_on: date | None = None
    positions: list[int] = field(default_factory=list)

    def add(self, line: LineLike) -> None:
        self.quantity += -1 if line.net < 0 else 1
        self.net += line.net
        self.vat += line.vat
        self.first_on = min(filter(None, (self.first_on, line.occurred_on)))
        self.last_on = max(filter(None, (self.last_on, line.occurred_on)))
        self.positions.append(line.position)


def _key(line: LineLike) -> tuple:
    common = (line.kind, line.vat_category, line.vat_rate.normalize(), abs(line.net),
              line.net < 0)
    if not line.domain:  # interest and the like: one group per distinct description
        return (*common, None, None, None, line.description)
    return (*common, line.operation, zone_of(line.domain), line.period_years, None)


def group_lines(lines: Iterable[LineLike]) -> list[LineGroup]:
    """The invoice's stated lines, in a stable order (kind, operation, zone, period, price)."""
    groups: dict[tuple, LineGroup] = {}
    for line in lines:
        key = _key(line)
        group = groups.get(key)
        if group is None:
            kind, category, rate, price, _negative, operation, zone, period, text = key
            group = groups[key] = LineGroup(
                kind=kind, operation=operation, zone=zone, period_years=period,
                vat_category=category, vat_rate=rate, unit_price=price, description=text)
        group.add(line)
    return sorted(groups.values(), key=lambda g: (
        KIND_ORDER.get(g.kind, 9), g.operation or "", g.zone or "", g.period_years or 0,
        g.description or "", g.unit_price, g.vat_rate, g.vat_category))
