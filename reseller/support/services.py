"""The support package's public services, for its own entry points and other features:
plans and subscriptions (``plans``), tickets (``tickets``), hours and reports (``work``)."""

from __future__ import annotations

from reseller.support.errors import PlanChangeForbidden  # noqa: F401
from reseller.support.models import STATUSES, Subscription  # noqa: F401
from reseller.support.plans import (  # noqa: F401
    Preview,
    change_plan,
    changes,
    core_plan,
    get_plan,
    get_plan_by_id,
    get_subscription,
    list_plans,
    offered_plans,
    preview_change,
    price_for,
    price_history,
    save_plan,
    set_price,
)
from reseller.support.tickets import (  # noqa: F401
    Author,
    Upload,
    assign,
    get_attachment,
    get_ticket,
    get_ticket_for_staff,
    messages_page,
    open_ticket,
    public_messages,
    queue,
    reply,
    set_priority,
    set_status,
    staff_members,
    tickets_page,
)
from reseller.support.work import (  # noqa: F401
    decide_quote,
    log_time,
    propose_quote,
    quotes,
    sla_report,
    time_entries,
    usage,
)


def plan_summary(*, reseller_id: int, with_hours: bool = True,
                 subscription: Subscription | None = None) -> dict:
    """What the billing page shows: the plan, its cycle, next charge and (unless
    ``with_hours`` is false: the page's plan card shows none) the month's hours.
    ``subscription``: the reseller's, when the caller has read it already."""
    sub = subscription or get_subscription(reseller_id=reseller_id)
    plan = sub.plan
    next_amount = None
    if not plan.free and sub.period_end is not None:
        next_amount = price_for(plan, cycle=sub.cycle, reseller_id=reseller_id,
                                on=sub.period_end)
    hours = usage(reseller_id=reseller_id, plan=plan) if with_hours else None
    return {"plan": plan, "cycle": sub.cycle, "next_charge_on": sub.period_end,
            "next_charge": next_amount, "hours": hours,
            "renewal_failed_at": sub.renewal_failed_at}
