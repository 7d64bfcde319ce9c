"""The support desk's notices (fi/sv/en), sent through the white label's reseller messages:
replies and status changes to the ticket's requester in the requester's language (replies
come back to the ticket's own address), plan changes and failed renewals to the billing
contacts; to staff (under the operator's brand): a new ticket, a reseller's reply, SLA
warnings, with due times in Helsinki time."""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from whitelabel.messages import Kind

KINDS: dict[str, Kind] = {
    "support_ticket_reply": Kind(
        _l("[#%(ticket_id)s] New reply: %(subject)s"),
        (_l("%(author)s replied to your support ticket:"), _l("%(body)s"),
         _l("Reply to this email or open the ticket in the client area to answer.")),
        required=("ticket_id", "subject", "author", "body"), action=_l("Open the ticket"),
        path="/support/tickets"),
    "support_ticket_status": Kind(
        _l("[#%(ticket_id)s] Ticket %(status_label)s: %(subject)s"),
        (_l("The status of your support ticket is now: %(status_label)s."),
         _l("If it is solved and something is still wrong, reply within %(reopen_days)s days "
            "to reopen it.")),
        required=("ticket_id", "subject", "status_label"), action=_l("Open the ticket"),
        path="/support/tickets"),
    "support_ticket_quote": Kind(
        _l("[#%(ticket_id)s] A quote for your approval: %(amount)s"),
        (_l("We propose %(hours)s hours of work beyond your included hours on ticket "
            "#%(ticket_id)s, for %(amount)s (VAT excluded)."),
         _l("Nothing is charged unless you accept it on the ticket.")),
        required=("ticket_id", "hours", "amount"), action=_l("Open the ticket"),
        path="/support/tickets"),
    "support_plan_changed": Kind(
        _l("Your support plan is now %(plan_name)s"),
        (_l("Your support plan changed to %(plan_name)s (%(cycle_label)s) on %(date)s."),
         _l("Charges and credits for the change are on this month's invoice.")),
        required=("plan_name", "cycle_label", "date"), action=_l("Open the support plan"),
        path="/support/plan"),
    "support_plan_renewal_failed": Kind(
        _l("Your %(previous_plan_name)s support plan could not be renewed"),
        (_l("The renewal of your %(previous_plan_name)s support plan on %(date)s could not be "
            "paid from your wallet, so your account moved to the free Core plan."),
         _l("Top up your wallet and choose the plan again to restore the service level.")),
        required=("previous_plan_name", "date"), action=_l("Open the support plan"),
        path="/support/plan"),
    "support_staff_new_ticket": Kind(
        _l("[#%(ticket_id)s] New ticket from %(company)s: %(subject)s"),
        (_l("%(author)s (%(company)s, plan %(plan)s) opened a ticket: %(category_label)s, "
            "priority %(priority_label)s."),
         _l("%(body)s"),
         _l("The first response is due %(due)s.")),
        required=("ticket_id", "subject", "company", "author", "body", "due", "plan",
                  "category_label", "priority_label"),
        action=_l("Open the ticket"), path="/console/support"),
    "support_staff_reply": Kind(
        _l("[#%(ticket_id)s] %(company)s replied: %(subject)s"),
        (_l("%(author)s (%(company)s) replied on ticket #%(ticket_id)s:"),
         _l("%(body)s"),
         _l("The next response is due %(due)s.")),
        required=("ticket_id", "subject", "company", "author", "body", "due"),
        action=_l("Open the ticket"), path="/console/support"),
    "support_sla_warning": Kind(
        _l("SLA warning: ticket #%(ticket_id)s is due %(due)s"),
        (_l("The %(target)s on ticket #%(ticket_id)s (%(subject)s, %(company)s) is due "
            "%(due)s."),),
        required=("ticket_id", "due", "subject"), action=_l("Open the ticket"),
        path="/console/support"),
}


def status_label(status: str) -> Any:
    return {"new": _l("new"), "open": _l("open"), "waiting_on_reseller": _l("waiting on you"),
            "solved": _l("solved"), "closed": _l("closed")}.get(status, status)


def priority_label(priority: str) -> Any:
    return {"low": _l("low"), "normal": _l("normal"), "high": _l("high"),
            "urgent": _l("urgent")}.get(priority, priority)


def category_label(category: str) -> Any:
    return {"billing": _l("billing"), "technical": _l("technical"), "domain": _l("domain"),
            "api": _l("API"), "abuse": _l("abuse")}.get(category, category)


def cycle_label(cycle: str) -> Any:
    return {"monthly": _l("monthly"), "yearly": _l("yearly")}.get(cycle, cycle)


def target_label(kind: str) -> Any:
    return _l("first response") if kind == "first" else _l("next response")


def in_language(language: str, **labels: Any) -> dict[str, str]:
    """Lazy labels rendered in ``language`` (message context is stored as text)."""
    with force_locale(language):
        return {key: str(value) for key, value in labels.items()}
