"""Test helpers for support: the default plans with prices from 2026, a quote."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from reseller.core.db import unit_of_work
from reseller.support import defaults, plans, work

SINCE = date(2026, 1, 1)


def install_plans(*, pro: str = "149.00", pro_yearly: str = "1490.00") -> dict:
    with unit_of_work():
        found = {plan.code: plan for plan in plans.list_plans(active_only=False)}
        for code, fields in defaults.PLANS.items():
            if code not in found:
                found[code] = plans.save_plan(code=code, **fields)
        plans.set_price(plan_id=found["pro"].id, cycle="monthly", amount=Decimal(pro),
                        effective_from=SINCE)
        plans.set_price(plan_id=found["pro"].id, cycle="yearly", amount=Decimal(pro_yearly),
                        effective_from=SINCE)
    return found


def quote_ultimate(reseller_id: int, monthly: str = "690.00", yearly: str = "6900.00") -> None:
    with unit_of_work():
        ultimate = plans.get_plan(code="ultimate")
        for cycle, amount in (("monthly", monthly), ("yearly", yearly)):
            plans.set_price(plan_id=ultimate.id, cycle=cycle, amount=Decimal(amount),
                            effective_from=SINCE, reseller_id=reseller_id)


def support_quote(ticket_id: int, hours: str = "1.00") -> int:
    """A quote staff propose on the ticket (for the reseller to accept)."""
    with unit_of_work():
        return work.propose_quote(ticket_id=ticket_id, hours=Decimal(hours),
                                  description="Work beyond the included hours").id
