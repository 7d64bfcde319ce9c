"""Support plans and their prices, each reseller's subscription and plan changes; tickets,
their messages and attachments, SLA targets, logged time and work quotes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reseller.core.clock import clock
from reseller.core.extensions import db
from reseller.core.types import UTCDateTime

LEVELS = ("core", "pro", "ultimate")
CYCLES = ("monthly", "yearly")
CHANNELS = ("email", "web", "phone", "oncall")
CATEGORIES = ("billing", "technical", "domain", "api", "abuse")
PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("new", "open", "waiting_on_reseller", "solved", "closed")

Money = sa.Numeric(12, 2)


def _now() -> datetime:
    return clock.now()


class SupportPlan(db.Model):
    """A support level the operator offers. ``code`` is what the API names (``pro``)."""

    __tablename__ = "support_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(30), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    level: Mapped[str] = mapped_column(sa.String(10))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    # Ultimate-style plans are priced per reseller (a quote) and offered only with one.
    by_quote: Mapped[bool] = mapped_column(default=False)
    included_hours: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2), default=Decimal(0))
    hourly_rate: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))  # within the plan
    hourly_rate_outside: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    first_response_hours: Mapped[int] = mapped_column(default=24)
    next_response_hours: Mapped[int] = mapped_column(default=24)
    around_the_clock: Mapped[bool] = mapped_column(default=False)  # SLA counted 24/7
    channels: Mapped[list] = mapped_column(sa.JSON, default=list)
    phone_number: Mapped[str | None] = mapped_column(sa.String(40))
    oncall_number: Mapped[str | None] = mapped_column(sa.String(40))
    unlimited_tickets: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    rank: Mapped[int] = mapped_column(default=0)  # ordering: higher is more support

    prices: Mapped[list[PlanPrice]] = relationship(order_by="PlanPrice.effective_from",
                                                   back_populates="plan")

    __table_args__ = (
        sa.CheckConstraint("level IN ('core', 'pro', 'ultimate')", name="level"),
    )

    @property
    def free(self) -> bool:
        return self.level == "core"


class PlanPrice(db.Model):
    """A plan's net price per cycle from a date on; with ``reseller_id``, that reseller's
    quoted price (it wins over the list price). History is kept: a change is a new row."""

    __tablename__ = "support_plan_prices"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("support_plans.id"), index=True)
    reseller_id: Mapped[int | None] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    cycle: Mapped[str] = mapped_column(sa.String(8))
    amount: Mapped[Decimal] = mapped_column(Money)
    effective_from: Mapped[date] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)

    plan: Mapped[SupportPlan] = relationship(back_populates="prices")

    __table_args__ = (
        sa.CheckConstraint("cycle IN ('monthly', 'yearly')", name="cycle"),
        sa.CheckConstraint("amount >= 0", name="amount"),
    )


class Subscription(db.Model):
    """A reseller's current plan. Core has no period; a paid plan runs ``[period_start,
    period_end)`` (local dates) and renews at ``period_end``. The current *segment* is the
    part charged by one purchase (``segment_reference``): from the last change to the end."""

    __tablename__ = "support_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), unique=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("support_plans.id"))
    cycle: Mapped[str] = mapped_column(sa.String(8), default="monthly")
    period_start: Mapped[date | None] = mapped_column(sa.Date)
    period_end: Mapped[date | None] = mapped_column(sa.Date, index=True)
    anchor_day: Mapped[int | None] = mapped_column(sa.SmallInteger)  # renewals keep the day
    cycle_price: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    segment_start: Mapped[date | None] = mapped_column(sa.Date)
    segment_net: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    segment_reference: Mapped[str | None] = mapped_column(sa.String(150))
    renewal_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)

    plan: Mapped[SupportPlan] = relationship()


class PlanChange(db.Model):
    """One change of plan (or renewal), with what was credited and charged. A repeated
    ``idempotency_key`` finds this row instead of changing twice."""

    __tablename__ = "support_plan_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(255))
    kind: Mapped[str] = mapped_column(sa.String(12))  # change | renewal | fallback
    from_plan: Mapped[str] = mapped_column(sa.String(30))
    to_plan: Mapped[str] = mapped_column(sa.String(30))
    from_cycle: Mapped[str] = mapped_column(sa.String(8))
    to_cycle: Mapped[str] = mapped_column(sa.String(8))
    effective_on: Mapped[date] = mapped_column(sa.Date)
    credit: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    charge: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    vat_rate: Mapped[Decimal] = mapped_column(sa.Numeric(6, 4), default=Decimal(0))
    vat: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))  # of what moved
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))  # with VAT; < 0: back
    price: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))  # the new cycle price
    days_left: Mapped[int] = mapped_column(default=0)
    cycle_days: Mapped[int] = mapped_column(default=0)
    period_end: Mapped[date | None] = mapped_column(sa.Date)
    actor: Mapped[str | None] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)

    __table_args__ = (sa.UniqueConstraint("reseller_id", "idempotency_key"),)

    @property
    def net_due(self) -> Decimal:
        """Positive: charged; negative: given back."""
        return self.charge - self.credit


class Ticket(db.Model):
    __tablename__ = "support_tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    requester_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    subject: Mapped[str] = mapped_column(sa.String(200))
    category: Mapped[str] = mapped_column(sa.String(12))
    priority: Mapped[str] = mapped_column(sa.String(8), default="normal")
    status: Mapped[str] = mapped_column(sa.String(20), default="new", index=True)
    domain: Mapped[str | None] = mapped_column(sa.String(253))
    channel: Mapped[str] = mapped_column(sa.String(8), default="web")
    # The plan's SLA when the ticket was opened (a later plan change applies from the
    # next target on).
    plan_code: Mapped[str] = mapped_column(sa.String(30))
    around_the_clock: Mapped[bool] = mapped_column(default=False)
    first_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    next_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    first_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # While waiting on the reseller the clock stands still: what was left is kept here.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_remaining_seconds: Mapped[int | None] = mapped_column(sa.Integer)
    reply_token: Mapped[str] = mapped_column(sa.String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    solved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    messages: Mapped[list[TicketMessage]] = relationship(
        order_by="TicketMessage.id", back_populates="ticket")

    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('new', 'open', 'waiting_on_reseller', 'solved', 'closed')",
            name="status"),
    )

    @property
    def sla_due(self) -> datetime | None:
        """The due time the queue sorts by: the reply owed soonest."""
        dues = [d for d in (self.first_response_due if self.first_responded_at is None
                            else None, self.next_response_due) if d is not None]
        return min(dues) if dues else None


class TicketMessage(db.Model):
    """One message of a ticket's conversation; ``internal`` notes are staff-only."""

    __tablename__ = "support_ticket_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("support_tickets.id"), index=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    author_name: Mapped[str] = mapped_column(sa.String(200), default="")
    from_staff: Mapped[bool] = mapped_column(default=False)
    internal: Mapped[bool] = mapped_column(default=False)
    channel: Mapped[str] = mapped_column(sa.String(8), default="web")
    body: Mapped[str] = mapped_column(sa.Text)
    # Mail-in: the message's Message-ID, so a message the MTA delivers twice counts once.
    mail_message_id: Mapped[str | None] = mapped_column(sa.String(300), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    attachments: Mapped[list[Attachment]] = relationship(order_by="Attachment.id")


class Attachment(db.Model):
    __tablename__ = "support_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("support_ticket_messages.id"),
                                            index=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(sa.String(64))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)


class SlaTarget(db.Model):
    """One promised reply: due at ``due_at``, met when staff answered in time. The monthly
    report counts these by the month they fell due."""

    __tablename__ = "support_sla_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("support_tickets.id"), index=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(6))  # first | next
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(sa.String(10), default="pending", index=True)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint("state IN ('pending', 'paused', 'met', 'breached', 'void')",
                           name="state"),
    )


class WorkQuote(db.Model):
    """Work beyond the included hours (or the plan's scope), offered on a ticket; billed
    at the plan's hourly rate when the reseller accepts it."""

    __tablename__ = "support_work_quotes"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("support_tickets.id"), index=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    hours: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2))
    hourly_rate: Mapped[Decimal] = mapped_column(Money)
    description: Mapped[str] = mapped_column(sa.String(500))
    state: Mapped[str] = mapped_column(sa.String(10), default="proposed")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(sa.String(254))
    purchase_reference: Mapped[str | None] = mapped_column(sa.String(150))

    __table_args__ = (
        sa.CheckConstraint("state IN ('proposed', 'accepted', 'declined')", name="state"),
    )

    @property
    def net(self) -> Decimal:
        return (self.hours * self.hourly_rate).quantize(Decimal("0.01"))


class TimeEntry(db.Model):
    """Time staff logged on a ticket: counted against the month's included hours, or
    against an accepted quote (``quote_id``)."""

    __tablename__ = "support_time_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("support_tickets.id"), index=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    minutes: Mapped[int] = mapped_column()
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    work_month: Mapped[str] = mapped_column(sa.String(7), index=True)  # YYYY-MM, Helsinki
    quote_id: Mapped[int | None] = mapped_column(sa.ForeignKey("support_work_quotes.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)

    __table_args__ = (sa.CheckConstraint("minutes > 0", name="minutes"),)
