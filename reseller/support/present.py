"""Shaping support objects for the API and the pages: the subscription with its offers, a
preview or change as amounts, a ticket with its public conversation, uploads, downloads."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Response

from reseller.accounts.models import User
from reseller.core.extensions import db
from reseller.support import plans, services, tickets, work
from reseller.support.models import Attachment, PlanChange, Ticket
from reseller.support.proration import Proration

ZERO = Decimal("0.00")


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def actor_label(user_id: int | None, kind: str) -> str:
    user = db.session.get(User, user_id) if user_id else None
    return user.email if user is not None else f"api:{kind}"


def api_author(user_id: int | None, kind: str) -> tickets.Author:
    user = db.session.get(User, user_id) if user_id else None
    if user is None:
        return tickets.Author(user_id=None, name="API")
    return tickets.Author(user_id=user.id, name=user.name or user.email)


def user_author(user: Any) -> tickets.Author:
    return tickets.Author(user_id=user.id, name=user.name or user.email,
                          staff=bool(user.is_operator))


def subscription(reseller_id: int) -> dict[str, Any]:
    sub = services.get_subscription(reseller_id=reseller_id)
    plan = sub.plan
    offers = []
    for offered, prices in services.offered_plans(reseller_id=reseller_id):
        offers.append({**_plan_fields(offered), "monthly_price": _money(prices["monthly"]),
                       "yearly_price": _money(prices["yearly"])})
    summary = services.plan_summary(reseller_id=reseller_id, subscription=sub)
    return {
        "plan": plan, "cycle": sub.cycle, "price": _money(sub.cycle_price),
        "currency": "EUR", "period_start": sub.period_start, "next_renewal": sub.period_end,
        "next_charge": _money(summary["next_charge"]),
        "phone_number": plan.phone_number if "phone" in (plan.channels or []) else None,
        "oncall_number": plan.oncall_number if "oncall" in (plan.channels or []) else None,
        "hours": summary["hours"], "offers": offers,
    }


def _plan_fields(plan: Any) -> dict[str, Any]:
    return {key: getattr(plan, key) for key in (
        "code", "name", "level", "description", "by_quote", "included_hours", "hourly_rate",
        "hourly_rate_outside", "first_response_hours", "next_response_hours",
        "around_the_clock", "channels", "unlimited_tickets")}


def _amounts(outcome: Proration) -> dict[str, Any]:
    return {"credit": _money(outcome.credit), "charge": _money(outcome.charge),
            "amount_due": _money(max(outcome.net_due, ZERO)),
            "refund": _money(max(-outcome.net_due, ZERO)), "days_left": outcome.days_left,
            "cycle_days": outcome.cycle_days, "next_renewal": outcome.period_end}


def preview(found: plans.Preview) -> dict[str, Any]:
    return {"plan": found.plan.code, "cycle": found.cycle,
            "previous_plan": found.previous_plan.code, "previous_cycle": found.previous_cycle,
            "effective_on": found.effective_on, "price": _money(found.price),
            **_amounts(found.proration), "vat": _money(found.vat), "total": _money(found.total),
            "vat_rate": f"{(found.vat_rate * 100).normalize():f}", "currency": "EUR"}


def change(found: PlanChange) -> dict[str, Any]:
    outcome = Proration(credit=found.credit, charge=found.charge, used=ZERO,
                        period_start=None, period_end=found.period_end,
                        days_left=found.days_left, cycle_days=found.cycle_days)
    return {"change_id": found.id, "plan": found.to_plan, "cycle": found.to_cycle,
            "previous_plan": found.from_plan, "previous_cycle": found.from_cycle,
            "effective_on": found.effective_on, "price": _money(found.price),
            **_amounts(outcome), "vat": _money(found.vat), "total": _money(found.total),
            "vat_rate": f"{(found.vat_rate * 100).normalize():f}", "currency": "EUR"}


def ticket_detail(ticket: Ticket) -> dict[str, Any]:
    return {**{column: getattr(ticket, column) for column in (
        "id", "subject", "category", "priority", "status", "domain", "channel", "plan_code",
        "first_response_due", "next_response_due", "first_responded_at", "created_at",
        "updated_at", "solved_at", "closed_at")},
        "messages": tickets.public_messages(ticket), "quotes": work.quotes(ticket)}


def uploads(items: list[dict[str, Any]]) -> list[tickets.Upload]:
    return [tickets.Upload(filename=item["filename"], content_type=item["content_type"],
                           data=item["data"]) for item in items]


def form_uploads(files: Any) -> list[tickets.Upload]:
    return [tickets.Upload(filename=upload.filename or "attachment",
                           content_type=upload.mimetype or "", data=upload.read())
            for upload in files if upload and upload.filename]


def download(found: Attachment) -> Response:
    """The file as it was sent, never rendered inline (no sniffing, no scripts)."""
    response = Response(found.data, mimetype=found.content_type)
    safe = found.filename.replace('"', "").encode("ascii", "replace").decode()
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
