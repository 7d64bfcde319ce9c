"""Hours and reports: time logged on tickets against the plan's included hours, quotes for
work beyond them (billed at the plan's hourly rate when the reseller accepts), and the
monthly SLA report per reseller (targets met and breached, by the month they fell due).

The included hours are per calendar month (Europe/Helsinki). Time that would go past them
must be logged against a quote the reseller accepted on that ticket, within its hours; the
accepted quote is charged through the wallet at once (a purchase: a line on that month's
consolidated invoice with VAT).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reseller.core.clock import clock
from reseller.core.db import for_update
from reseller.core.errors import ValidationFailed
from reseller.core.events import record_event
from reseller.core.extensions import db
from reseller.support import plans, proration
from reseller.support.errors import IncludedHoursUsed, QuoteNotFound, QuoteNotOpen
from reseller.support.models import SlaTarget, SupportPlan, Ticket, TimeEntry, WorkQuote
from reseller.support.tickets import event_data, get_ticket

HOUR = Decimal(60)


def month_of(moment: datetime) -> str:
    return proration.local_day(moment).strftime("%Y-%m")


def _month_bounds(month: str) -> tuple[datetime, datetime]:
    year, number = (int(part) for part in month.split("-"))
    start = datetime(year, number, 1, tzinfo=proration.HELSINKI)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=proration.HELSINKI)
    return start, end


@dataclass(frozen=True)
class HoursUsage:
    month: str
    included: Decimal
    used: Decimal  # hours counted against the included ones
    quoted: Decimal  # hours logged against accepted quotes

    @property
    def left(self) -> Decimal:
        return max(self.included - self.used, Decimal(0))


def usage(*, reseller_id: int, month: str | None = None, plan: SupportPlan | None = None) -> HoursUsage:
    """The month's hours; ``plan``, when the caller has the reseller's plan loaded."""
    month = month or month_of(clock.now())
    plan = plan or plans.get_subscription(reseller_id=reseller_id).plan
    rows = db.session.execute(
        sa.select(TimeEntry.quote_id.is_(None), sa.func.coalesce(sa.func.sum(TimeEntry.minutes), 0))
        .where(TimeEntry.reseller_id == reseller_id, TimeEntry.work_month == month)
        .group_by(TimeEntry.quote_id.is_(None))).all()
    minutes = {bool(included): Decimal(total) for included, total in rows}
    return HoursUsage(month=month, included=plan.included_hours,
                      used=(minutes.get(True, Decimal(0)) / HOUR).quantize(Decimal("0.01")),
                      quoted=(minutes.get(False, Decimal(0)) / HOUR).quantize(Decimal("0.01")))


def _quote_hours_used(quote_id: int) -> Decimal:
    minutes = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(TimeEntry.minutes), 0))
                                .where(TimeEntry.quote_id == quote_id))
    return Decimal(minutes) / HOUR


def log_time(*, ticket_id: int, staff_id: int | None, minutes: int, note: str = "",
             quote_id: int | None = None) -> TimeEntry:
    """Log staff time. Without ``quote_id`` it must fit in the month's included hours;
    with one, in that accepted quote's hours."""
    if not isinstance(minutes, int) or not 0 < minutes <= 24 * 60:
        raise ValidationFailed({"minutes": [_l("Between 1 and 1440 minutes.")]})
    ticket = db.session.get(Ticket, ticket_id)
    ticket = get_ticket(reseller_id=ticket.reseller_id if ticket else 0, ticket_id=ticket_id)
    month = month_of(clock.now())
    hours = Decimal(minutes) / HOUR
    if quote_id is None:
        # Lock the subscription row so two loggings cannot both take the last hour.
        plans._subscription_for_update(ticket.reseller_id)
        current = usage(reseller_id=ticket.reseller_id, month=month)
        if current.used + hours > current.included:
            raise IncludedHoursUsed(_l("%(left)s of the %(included)s included hours are left "
                                       "this month; propose a quote for the rest.",
                                       left=current.left, included=current.included))
    else:
        quote = _quote(ticket, quote_id, for_update_=True)
        if quote.state != "accepted":
            raise QuoteNotOpen(_l("Time goes on a quote only once the reseller accepts it."))
        if _quote_hours_used(quote.id) + hours > quote.hours:
            raise IncludedHoursUsed(_l("That goes past the %(hours)s hours of the quote.",
                                       hours=quote.hours))
    entry = TimeEntry(ticket_id=ticket.id, reseller_id=ticket.reseller_id, staff_id=staff_id,
                      minutes=minutes, note=note.strip()[:500], work_month=month,
                      quote_id=quote_id, created_at=clock.now())
    db.session.add(entry)
    db.session.flush()
    return entry


def time_entries(ticket: Ticket) -> list[TimeEntry]:
    return list(db.session.scalars(sa.select(TimeEntry).where(TimeEntry.ticket_id == ticket.id)
                                   .order_by(TimeEntry.id)))


def _quote(ticket: Ticket, quote_id: int, *, for_update_: bool = False) -> WorkQuote:
    stmt = sa.select(WorkQuote).where(WorkQuote.id == quote_id,
                                      WorkQuote.ticket_id == ticket.id,
                                      WorkQuote.reseller_id == ticket.reseller_id)
    quote = db.session.scalars(for_update(stmt) if for_update_ else stmt).one_or_none()
    if quote is None:
        raise QuoteNotFound()
    return quote


def propose_quote(*, ticket_id: int, hours: Decimal, description: str,
                  outside_scope: bool = False) -> WorkQuote:
    """Staff offer work beyond the included hours at the plan's hourly rate (work outside
    the plan's scope: at its rate outside the plan)."""
    ticket = db.session.get(Ticket, ticket_id)
    ticket = get_ticket(reseller_id=ticket.reseller_id if ticket else 0, ticket_id=ticket_id)
    if not Decimal("0.25") <= hours <= Decimal(1000):
        raise ValidationFailed({"hours": [_l("Between 0.25 and 1000 hours.")]})
    if not description.strip():
        raise ValidationFailed({"description": [_l("Describe the work.")]})
    plan = plans.get_subscription(reseller_id=ticket.reseller_id).plan
    rate = plan.hourly_rate_outside if outside_scope else plan.hourly_rate
    quote = WorkQuote(ticket_id=ticket.id, reseller_id=ticket.reseller_id,
                      hours=hours.quantize(Decimal("0.01")), hourly_rate=rate,
                      description=description.strip()[:500], state="proposed",
                      created_at=clock.now())
    db.session.add(quote)
    db.session.flush()
    record_event(reseller_id=ticket.reseller_id, type="ticket.quote_proposed",
                 data={**event_data(ticket), "quote_id": quote.id, "hours": f"{quote.hours}",
                       "amount": f"{quote.net:.2f}", "currency": "EUR"},
                 dedupe_key=f"ticket.quote:{quote.id}")
    return quote


def quotes(ticket: Ticket) -> list[WorkQuote]:
    return list(db.session.scalars(sa.select(WorkQuote).where(WorkQuote.ticket_id == ticket.id)
                                   .order_by(WorkQuote.id)))


def decide_quote(*, reseller_id: int, ticket_id: int, quote_id: int, accept: bool,
                 actor: str) -> WorkQuote:
    """The reseller accepts (charged now, through the wallet) or declines a quote."""
    ticket = get_ticket(reseller_id=reseller_id, ticket_id=ticket_id)
    quote = _quote(ticket, quote_id, for_update_=True)
    if quote.state != "proposed":
        if quote.state == ("accepted" if accept else "declined"):
            return quote  # the same decision again: nothing more happens
        raise QuoteNotOpen()
    quote.state, quote.decided_at, quote.decided_by = (
        "accepted" if accept else "declined", clock.now(), actor[:254])
    if accept and quote.net > 0:
        quote.purchase_reference = f"support-quote:{quote.id}"
        plans.charge(reseller_id=reseller_id, net=quote.net,
                     vat_rate=plans.vat_rate_for(reseller_id, proration.local_day(clock.now())),
                     reference=quote.purchase_reference,
                     description=f"Support work on ticket #{ticket.id}: {quote.hours} h × "
                                 f"{quote.hourly_rate:.2f}",
                     item={"kind": "support_work", "ticket_id": ticket.id,
                           "quote_id": quote.id, "hours": f"{quote.hours}"})
    db.session.flush()
    return quote


# -- the monthly SLA report ------------------------------------------------------------------

@dataclass(frozen=True)
class SlaRow:
    reseller_id: int
    met: int
    breached: int
    pending: int

    @property
    def total(self) -> int:
        return self.met + self.breached


def sla_report(*, month: str, reseller_id: int | None = None) -> list[SlaRow]:
    """Per reseller: targets due in ``month`` (YYYY-MM, Helsinki) met, breached, pending."""
    start, end = _month_bounds(month)
    stmt = (sa.select(SlaTarget.reseller_id, SlaTarget.state, sa.func.count())
            .where(SlaTarget.due_at >= start, SlaTarget.due_at < end,
                   SlaTarget.state.in_(("met", "breached", "pending")))
            .group_by(SlaTarget.reseller_id, SlaTarget.state))
    if reseller_id is not None:
        stmt = stmt.where(SlaTarget.reseller_id == reseller_id)
    counts: dict[int, dict[str, int]] = {}
    for rid, state, count in db.session.execute(stmt):
        counts.setdefault(rid, {})[state] = count
    return [SlaRow(rid, c.get("met", 0), c.get("breached", 0), c.get("pending", 0))
            for rid, c in sorted(counts.items())]


def current_month() -> str:
    return month_of(clock.now())


def parse_month(text: str | None) -> str:
    try:
        day = date.fromisoformat(f"{text}-01") if text else None
    except ValueError:
        day = None
    if day is None:
        raise ValidationFailed({"month": [_l("Use YYYY-MM.")]})
    return day.strftime("%Y-%m")


def notify_breach(target: SlaTarget) -> None:
    ticket = db.session.get(Ticket, target.ticket_id)
    record_event(reseller_id=None, type="ticket.sla_warning",
                 data={**event_data(ticket), "reseller_id": ticket.reseller_id,
                       "kind": target.kind, "due_at": target.due_at.isoformat(),
                       "assignee_id": ticket.assignee_id},
                 dedupe_key=f"ticket.sla_warning:{target.id}")
    target.warned_at = clock.now()
