"""Proration to the day, rounded once (half up, to the cent)."""

from datetime import date
from decimal import Decimal

import pytest

from reseller.support.proration import Current, add_months, prorate, prorate_change

PRO_MARCH = Current(free=False, cycle="monthly", cycle_price=Decimal("149.00"),
                    period_start=date(2027, 3, 1), period_end=date(2027, 4, 1),
                    segment_start=date(2027, 3, 1), segment_net=Decimal("149.00"))
CORE = Current(free=True, cycle="monthly", cycle_price=Decimal(0), period_start=None,
               period_end=None, segment_start=None, segment_net=Decimal(0))


def test_prorate_rounds_half_up_once():
    assert prorate(Decimal("149.00"), 17, 31) == Decimal("81.71")  # 81.709…
    assert prorate(Decimal("0.10"), 1, 4) == Decimal("0.03")  # 0.025 → up
    assert prorate(Decimal("149.00"), 31, 31) == Decimal("149.00")
    with pytest.raises(ValueError):
        prorate(Decimal(1), 32, 31)


def test_upgrade_mid_month_pays_only_the_difference_for_the_days_left():
    outcome = prorate_change(PRO_MARCH, today=date(2027, 3, 15), new_free=False,
                             new_cycle="monthly", new_price=Decimal("690.00"))
    assert (outcome.days_left, outcome.cycle_days) == (17, 31)
    assert outcome.credit == Decimal("81.71")  # 149 × 17/31
    assert outcome.charge == Decimal("378.39")  # 690 × 17/31
    assert outcome.net_due == Decimal("296.68")
    assert outcome.used == Decimal("67.29")  # what March 1–14 of Pro cost
    assert outcome.period_end == date(2027, 4, 1)  # the renewal date does not move


def test_downgrade_mid_month_gives_back_the_difference():
    ultimate = Current(free=False, cycle="monthly", cycle_price=Decimal("690.00"),
                       period_start=date(2027, 3, 1), period_end=date(2027, 4, 1),
                       segment_start=date(2027, 3, 1), segment_net=Decimal("690.00"))
    outcome = prorate_change(ultimate, today=date(2027, 3, 15), new_free=False,
                             new_cycle="monthly", new_price=Decimal("149.00"))
    assert (outcome.credit, outcome.charge) == (Decimal("378.39"), Decimal("81.71"))
    assert outcome.net_due == Decimal("-296.68")


def test_yearly_upgrade_prorates_over_the_year():
    pro_year = Current(free=False, cycle="yearly", cycle_price=Decimal("1490.00"),
                       period_start=date(2027, 1, 10), period_end=date(2028, 1, 10),
                       segment_start=date(2027, 1, 10), segment_net=Decimal("1490.00"))
    outcome = prorate_change(pro_year, today=date(2027, 7, 1), new_free=False,
                             new_cycle="yearly", new_price=Decimal("6900.00"))
    assert (outcome.days_left, outcome.cycle_days) == (193, 365)
    assert (outcome.credit, outcome.charge) == (Decimal("787.86"), Decimal("3648.49"))


def test_a_change_of_cycle_starts_a_new_cycle_at_the_full_price():
    outcome = prorate_change(PRO_MARCH, today=date(2027, 3, 15), new_free=False,
                             new_cycle="yearly", new_price=Decimal("1490.00"))
    assert outcome.credit == Decimal("81.71")
    assert outcome.charge == Decimal("1490.00")
    assert (outcome.period_start, outcome.period_end) == (date(2027, 3, 15), date(2028, 3, 15))


def test_from_core_a_paid_plan_starts_its_cycle_today():
    outcome = prorate_change(CORE, today=date(2027, 1, 31), new_free=False,
                             new_cycle="monthly", new_price=Decimal("149.00"))
    assert (outcome.credit, outcome.charge) == (Decimal("0.00"), Decimal("149.00"))
    assert outcome.period_end == date(2027, 2, 28)


def test_to_core_credits_the_unused_part_and_charges_nothing():
    outcome = prorate_change(PRO_MARCH, today=date(2027, 3, 15), new_free=True,
                             new_cycle="monthly", new_price=Decimal(0))
    assert (outcome.credit, outcome.charge, outcome.period_end) == (
        Decimal("81.71"), Decimal("0.00"), None)


def test_months_keep_their_anchor_day():
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2027, 2, 28), 1, anchor=31) == date(2027, 3, 31)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
