"""Demo support data for the embedded default: Core, Pro and Ultimate with prices (Ultimate
quoted for Demo Agency Oy), Demo Agency on Pro, and a few tickets. Idempotent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from reseller.accounts import services as accounts
from reseller.core.extensions import db
from reseller.support import defaults, plans, tickets, work
from reseller.support.errors import PlanUnchanged
from reseller.support.settings import SupportSettings
from wallet.errors import CreditLimitExceeded, InsufficientFunds

LIST_PRICES = {"pro": {"monthly": Decimal("149.00"), "yearly": Decimal("1490.00")}}
QUOTES = {"Demo Agency Oy": {"monthly": Decimal("690.00"), "yearly": Decimal("6900.00")}}
SINCE = date(2026, 1, 1)
TICKETS = {
    "Demo Agency Oy": [
        ("DNSSEC for demoagency.fi", "domain", "normal",
         "Can you help us enable DNSSEC for demoagency.fi? The registry asks for DS records.",
         "solved"),
        ("Invoice reference for March", "billing", "low",
         "Our accounting needs the RF reference of the March invoice repeated.", "waiting"),
        ("API returns 429 during our nightly sync", "api", "high",
         "Our WHMCS sync gets 429 Too Many Requests around 02:00. What is our limit?", "new"),
    ],
    "Exempel AB": [
        ("Transfer of exempel.se", "domain", "normal",
         "We started a transfer of exempel.se yesterday. How long does it take?", "new"),
    ],
}


def seed_plans(reseller: Any, spec: dict, config: Any) -> None:
    existing = {plan.code: plan for plan in plans.list_plans(active_only=False)}
    for code, fields in defaults.PLANS.items():
        if code not in existing:
            existing[code] = plans.save_plan(code=code, **fields)
    for code, prices in LIST_PRICES.items():
        plan = existing[code]
        for cycle, amount in prices.items():
            if plans.price_for(plan, cycle=cycle, reseller_id=0, on=SINCE) is None:
                plans.set_price(plan_id=plan.id, cycle=cycle, amount=amount,
                                effective_from=SINCE)
    quote = QUOTES.get(reseller.company_name)
    ultimate = existing["ultimate"]
    if quote and plans.price_for(ultimate, cycle="monthly", reseller_id=reseller.id,
                                 on=SINCE) is None:
        for cycle, amount in quote.items():
            plans.set_price(plan_id=ultimate.id, cycle=cycle, amount=amount,
                            effective_from=SINCE, reseller_id=reseller.id)


def seed_tickets(reseller: Any, spec: dict, config: Any) -> None:
    wanted = TICKETS.get(reseller.company_name)
    if not wanted or tickets.tickets_page(reseller_id=reseller.id, cursor=None,
                                          limit=1).items:
        return
    settings = SupportSettings.from_config(config)
    owner = next((u for u in accounts.list_users(reseller_id=reseller.id)
                  if u.role == "owner"), None)
    author = tickets.Author(user_id=owner.id if owner else None,
                            name=owner.name if owner else reseller.company_name)
    staff = accounts.find_user_by_email(config["OPERATOR_EMAIL"])
    helper = tickets.Author(user_id=staff.id if staff else None, name="Support", staff=True)
    if reseller.company_name == "Demo Agency Oy" and reseller.payment_mode == "prepaid":
        _subscribe_pro(reseller)
    for subject, category, priority, body, outcome in wanted:
        ticket = tickets.open_ticket(reseller_id=reseller.id, author=author, subject=subject,
                                     category=category, priority=priority, body=body,
                                     settings=settings)
        if outcome == "solved":
            tickets.reply(ticket=ticket, author=helper, settings=settings, status="solved",
                          body="DNSSEC is now on: we added the DS records at the registry.")
            work.log_time(ticket_id=ticket.id, staff_id=helper.user_id, minutes=30,
                          note="DS records published and checked")
        elif outcome == "waiting":
            tickets.reply(ticket=ticket, author=helper, settings=settings,
                          status="waiting_on_reseller",
                          body="Which invoice number is it? We will send the reference.")


def _subscribe_pro(reseller: Any) -> None:
    try:
        with db.session.begin_nested():
            plans.change_plan(reseller_id=reseller.id, plan="pro", cycle="monthly",
                              idempotency_key="demo-pro", actor_role="owner", actor="demo")
    except (InsufficientFunds, CreditLimitExceeded, PlanUnchanged):
        return  # an unfunded demo wallet stays on Core; a second load changes nothing


def info(config: Any) -> dict[str, Any]:
    return {"support_plans": list(defaults.PLANS)}
