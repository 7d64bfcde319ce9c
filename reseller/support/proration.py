"""Billing periods and proration, to the day (Europe/Helsinki calendar days).

A change takes effect on the day it is made: that day belongs to the new plan. The unused
part of the current segment is credited as ``price × days left / days in the cycle``, and a
new plan for the rest of the same cycle costs ``its price × days left / days in the cycle``.
Every prorated amount is rounded once, here (``prorate``: half up, to the cent); nothing
else rounds. A change of cycle (monthly ↔ yearly), or a first paid plan, starts a new cycle
on the day of the change at the full price.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

HELSINKI = ZoneInfo("Europe/Helsinki")
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def local_day(moment: datetime) -> date:
    return moment.astimezone(HELSINKI).date()


def add_months(day: date, months: int, anchor: int | None = None) -> date:
    """``day`` plus ``months``, on the ``anchor`` day of the month (default ``day``'s),
    clamped to the month's last day: 31 Jan + 1 month is 28/29 Feb; + 2 months 31 Mar."""
    anchor = anchor or day.day
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(anchor, calendar.monthrange(year, month)[1]))


def cycle_end(start: date, cycle: str, anchor: int | None = None) -> date:
    return add_months(start, 12 if cycle == "yearly" else 1, anchor)


def prorate(amount: Decimal, days: int, of_days: int) -> Decimal:
    """``amount × days / of_days``, rounded half up to the cent: the one rounding rule."""
    if of_days <= 0 or not 0 <= days <= of_days:
        raise ValueError("days must lie within the period")
    if days == of_days:
        return amount.quantize(CENT)
    return (amount * days / of_days).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Current:
    """What the reseller has now: the plan's cycle price, its period and current segment."""

    free: bool
    cycle: str
    cycle_price: Decimal
    period_start: date | None
    period_end: date | None
    segment_start: date | None
    segment_net: Decimal


@dataclass(frozen=True)
class Proration:
    """The outcome of a change on ``today``: ``credit`` for the unused segment, ``charge``
    for the new plan from today to ``period_end``; the reseller pays ``charge - credit``
    (negative: it is given back). ``used`` is what stays charged for the old segment."""

    credit: Decimal
    charge: Decimal
    used: Decimal
    period_start: date | None
    period_end: date | None
    days_left: int
    cycle_days: int

    @property
    def net_due(self) -> Decimal:
        return self.charge - self.credit


def prorate_change(current: Current, *, today: date, new_free: bool, new_cycle: str,
                   new_price: Decimal) -> Proration:
    """Credit and charge for moving from ``current`` to a plan costing ``new_price`` per
    ``new_cycle`` (``new_free``: Core, which has no period)."""
    credit = ZERO
    days_left = cycle_days = 0
    if not current.free and current.period_end and today < current.period_end:
        days_left = (current.period_end - today).days
        cycle_days = (current.period_end - current.period_start).days
        credit = min(prorate(current.cycle_price, days_left, cycle_days), current.segment_net)
    used = current.segment_net - credit
    if new_free:
        return Proration(credit, ZERO, used, None, None, days_left, cycle_days)
    same_cycle = (not current.free and current.cycle == new_cycle and current.period_end
                  and today < current.period_end)
    if same_cycle:
        charge = prorate(new_price, days_left, cycle_days)
        return Proration(credit, charge, used, current.period_start, current.period_end,
                         days_left, cycle_days)
    end = cycle_end(today, new_cycle)
    days = (end - today).days
    return Proration(credit, new_price.quantize(CENT), used, today, end, days, days)
