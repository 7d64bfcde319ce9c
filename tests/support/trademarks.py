"""Test helpers for trademark protection: the operator's prices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.trademarks import billing
from reseller.trademarks.models import TrademarkPrice

MONTH, YEAR = "9.00", "90.00"


def install_trademark_prices(month: str = MONTH, year: str = YEAR,
                             effective_from: date = date(2020, 1, 1)) -> None:
    """Prices for both lists from ``effective_from`` (inserted directly: a price the
    console sets cannot start in the past)."""
    with unit_of_work():
        for period, amount in (("month", month), ("year", year)):
            for price_list in ("prepaid", "postpaid"):
                db.session.add(TrademarkPrice(billing_period=period, price_list=price_list,
                                              amount=Decimal(amount),
                                              effective_from=effective_from))


def set_price(period: str, amount: str, effective_from: date) -> None:
    with unit_of_work():
        for price_list in ("prepaid", "postpaid"):
            billing.set_price(billing_period=period, price_list=price_list,
                              amount=Decimal(amount), effective_from=effective_from)
