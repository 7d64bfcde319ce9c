"""Support jobs and listeners: plan renewals, the SLA watch (warn staff, mark breaches),
closing solved tickets after the reopen window, and the notices events turn into mail.
Each job takes ids, re-checks state and is safe to run twice; periodic work is also
``flask jobs run NAME``."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from reseller.accounts.models import User
from reseller.core.clock import clock
from reseller.core.directory import reseller_names, reseller_profile
from reseller.core.events import Event, on_event
from reseller.core.extensions import db
from reseller.core.formatting import format_datetime_zoned
from reseller.core.jobs import enqueue, periodic
from reseller.support import mail, plans, proration, settings, tickets, work
from reseller.support.models import Ticket
from whitelabel.messages import MessageContextError, send_reseller_message

log = logging.getLogger(__name__)
RENEW_JOB = "reseller.support.tasks.renew_subscription"


# -- periodic work ---------------------------------------------------------------------------

@periodic("support.renewals", "10 * * * *",
          "Renew support plans whose cycle ended (a failed payment falls back to Core)")
def renew_plans() -> int:
    ids = plans.due_for_renewal(today=proration.local_day(clock.now()))
    for subscription_id in ids:
        enqueue(RENEW_JOB, subscription_id)
    return len(ids)


def renew_subscription(subscription_id: int) -> None:
    plans.renew(subscription_id)


@periodic("support.sla", "*/5 * * * *",
          "Warn staff before an SLA target is due; mark targets past due as breached")
def watch_sla() -> int:
    now = clock.now()
    found = settings.current()
    warned = 0
    for target in tickets.due_for_warning(now=now,
                                          warn_before=timedelta(minutes=found.warn_minutes)):
        work.notify_breach(target)
        warned += 1
    tickets.mark_breaches(now=now)
    return warned


@periodic("support.close_solved", "30 * * * *",
          "Close tickets solved longer ago than the reopen window")
def close_solved() -> int:
    return tickets.close_solved(now=clock.now(), settings=settings.current())


# -- notices ---------------------------------------------------------------------------------

def _requester(event: Event) -> User | None:
    user_id = event.data.get("requester_id")
    user = db.session.get(User, user_id) if user_id else None
    return user if user is not None and user.active else None


def _ticket_path(event: Event) -> str:
    return f"/support/tickets/{event.data.get('ticket_id')}"


def _send(event: Event, kind: str, *, recipient: str | None, language: str | None,
          reply_to: str | None = None, path: str | None = None, suffix: str = "",
          **extra: object) -> None:
    if not recipient:
        return
    try:
        send_reseller_message(reseller_id=event.reseller_id, kind=kind, recipient=recipient,
                              language=language, context={**event.data, **extra},
                              dedupe_key=f"event:{event.id}:{kind}{suffix}",
                              reply_to=reply_to, action_path=path)
    except MessageContextError:
        log.exception("event %s (%s) lacks data for %s; not sent", event.id, event.type, kind)


def _reply_to(event: Event) -> str | None:
    ticket = db.session.get(Ticket, event.data.get("ticket_id"))
    return settings.current().reply_address(ticket.reply_token) if ticket else None


def _to_requester(event: Event, kind: str, **extra: object) -> None:
    user = _requester(event)
    profile = reseller_profile(event.reseller_id)
    recipient = user.email if user else (profile.contact_email if profile else None)
    language = (user.language if user and user.language else None) or (
        profile.language if profile else "en")
    labels = mail.in_language(language, status_label=mail.status_label(
        str(event.data.get("status"))))
    _send(event, kind, recipient=recipient, language=language, reply_to=_reply_to(event),
          path=_ticket_path(event), reopen_days=settings.current().reopen_days,
          **labels, **extra)


@on_event("ticket.replied", deferred=True)
def on_replied(event: Event) -> None:
    _to_requester(event, "support_ticket_reply")


@on_event("ticket.status_changed", deferred=True)
def on_status_changed(event: Event) -> None:
    if event.data.get("status") in ("solved", "closed", "waiting_on_reseller"):
        _to_requester(event, "support_ticket_status")


@on_event("ticket.quote_proposed", deferred=True)
def on_quote(event: Event) -> None:
    _to_requester(event, "support_ticket_quote")


def _to_billing(event: Event, kind: str, **extra: object) -> None:
    profile = reseller_profile(event.reseller_id)
    if profile is None:
        return
    labels = mail.in_language(profile.language, cycle_label=mail.cycle_label(
        str(event.data.get("cycle"))))
    for number, recipient in enumerate(profile.billing_recipients()):
        _send(event, kind, recipient=recipient, language=profile.language,
              suffix=f":{number}", date=event.data.get("effective_on"), **labels, **extra)


@on_event("support_plan.changed", deferred=True)
def on_plan_changed(event: Event) -> None:
    _to_billing(event, "support_plan_changed")


@on_event("support_plan.renewal_failed", deferred=True)
def on_renewal_failed(event: Event) -> None:
    _to_billing(event, "support_plan_renewal_failed")


# -- notices to staff (the operator's brand, the staff member's language) -------------------

def _to_staff(event: Event, kind: str, *, assignee_id: int | None, reseller_id: int,
              ticket_id: object, due: str | None, **extra: object) -> None:
    """To the assignee if there is one, else the support desk's address; due times in
    Helsinki time with their offset, in the recipient's language."""
    assignee = db.session.get(User, assignee_id or 0)
    assignee = assignee if assignee is not None and assignee.active else None
    found = settings.current()
    recipient = assignee.email if assignee else found.staff_email
    language = (assignee.language if assignee else None) or found.staff_language
    moment = datetime.fromisoformat(due) if due else None
    try:
        send_reseller_message(
            reseller_id=None, kind=kind, recipient=recipient, language=language,
            dedupe_key=f"event:{event.id}:{kind}",
            action_path=f"/console/support/tickets/{ticket_id}",
            context={**event.data, **extra, "ticket_id": ticket_id,
                     "company": reseller_names([reseller_id]).get(reseller_id, ""),
                     "due": format_datetime_zoned(moment, locale=language) or "–"})
    except MessageContextError:
        log.exception("event %s lacks data for %s; not sent", event.id, kind)


@on_event("ticket.created", deferred=True)
def on_created(event: Event) -> None:
    """A new ticket (client area, API or mail) is mailed to the desk, with its text."""
    ticket = db.session.get(Ticket, event.data.get("ticket_id"))
    if ticket is None:
        return
    first = next(iter(tickets.public_messages(ticket)), None)
    found = settings.current()
    language = found.staff_language
    if ticket.assignee_id:
        assignee = db.session.get(User, ticket.assignee_id)
        language = (assignee.language if assignee else None) or language
    labels = mail.in_language(language, priority_label=mail.priority_label(ticket.priority),
                              category_label=mail.category_label(ticket.category))
    _to_staff(event, "support_staff_new_ticket", assignee_id=ticket.assignee_id,
              reseller_id=ticket.reseller_id, ticket_id=ticket.id,
              due=event.data.get("first_response_due"), plan=ticket.plan_code,
              author=first.author_name if first else "", body=first.body if first else "",
              **labels)


@on_event("ticket.reseller_replied", deferred=True)
def on_reseller_replied(event: Event) -> None:
    """A reseller's reply goes to the staff member it is assigned to, else to the desk."""
    _to_staff(event, "support_staff_reply", assignee_id=event.data.get("assignee_id"),
              reseller_id=int(event.data.get("reseller_id") or 0),
              ticket_id=event.data.get("ticket_id"),
              due=event.data.get("next_response_due"))


@on_event("ticket.sla_warning", deferred=True)
def on_sla_warning(event: Event) -> None:
    """To the assignee, else the support desk's address, in the assignee's language."""
    assignee = db.session.get(User, event.data.get("assignee_id") or 0)
    language = (assignee.language if assignee else None) or settings.current().staff_language
    labels = mail.in_language(language, target=mail.target_label(str(event.data.get("kind"))))
    _to_staff(event, "support_sla_warning", assignee_id=event.data.get("assignee_id"),
              reseller_id=int(event.data.get("reseller_id") or 0),
              ticket_id=event.data.get("ticket_id"), due=str(event.data["due_at"]), **labels)
