"""Protected marks, the labels they claim, what each period cost, the operator's
effective-dated prices, the names found imitating a mark, and the watch sources' cursors."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reseller.core.clock import clock
from reseller.core.extensions import db
from reseller.core.types import UTCDateTime

BILLING_PERIODS = ("month", "year")
PRICE_LISTS = ("prepaid", "postpaid")
STATUSES = ("active", "past_due", "ended")
MATCH_STATES = ("new", "dismissed", "watched", "act_on")
ACTIONS = ("udrp", "urs", "purchase", "takedown", "other")
LANGUAGES = ("fi", "sv", "en")


def _now() -> datetime:
    return clock.now()


class TrademarkPrice(db.Model):
    """The net EUR price of protecting one mark for a month or a year. A change is a new
    row with a later ``effective_from``; rows are never updated (history is kept)."""

    __tablename__ = "trademark_prices"

    id: Mapped[int] = mapped_column(primary_key=True)
    billing_period: Mapped[str] = mapped_column(sa.String(10))
    price_list: Mapped[str] = mapped_column(sa.String(10))
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))
    effective_from: Mapped[date] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    __table_args__ = (
        sa.UniqueConstraint("billing_period", "price_list", "effective_from",
                            name="uq_trademark_prices_key"),
        sa.CheckConstraint("amount >= 0", name="trademark_amount_not_negative"),
        sa.CheckConstraint("billing_period IN ('month', 'year')", name="trademark_period"),
        sa.CheckConstraint("price_list IN ('prepaid', 'postpaid')", name="trademark_list"),
    )


class Trademark(db.Model):
    """A mark a reseller protects for one of its customers (the holder)."""

    __tablename__ = "trademarks"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    mark: Mapped[str] = mapped_column(sa.String(100))
    holder: Mapped[str] = mapped_column(sa.String(255))
    registration_number: Mapped[str | None] = mapped_column(sa.String(60))
    jurisdiction: Mapped[str | None] = mapped_column(sa.String(60))
    # The customer contact alerted (a domains contact of the same reseller), if any.
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"))
    languages: Mapped[list] = mapped_column(sa.JSON, default=list)
    # Extra labels the claims notice covers besides the mark's own (TMCH "variants").
    variants: Mapped[list] = mapped_column(sa.JSON, default=list)
    billing_period: Mapped[str] = mapped_column(sa.String(10))
    status: Mapped[str] = mapped_column(sa.String(10), default="active", index=True)
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    current_period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    current_period_end: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    past_due_since: Mapped[datetime | None] = mapped_column(UTCDateTime)

    labels: Mapped[list[TrademarkLabel]] = relationship(
        back_populates="trademark", cascade="all, delete-orphan", order_by="TrademarkLabel.id")
    charges: Mapped[list[TrademarkCharge]] = relationship(
        back_populates="trademark", order_by="TrademarkCharge.period_start")

    __table_args__ = (
        sa.CheckConstraint("status IN ('active', 'past_due', 'ended')", name="trademark_status"),
    )

    @property
    def watching(self) -> bool:
        """Matched against new names and claimed at registration (paid, not ended)."""
        return self.status in ("active", "past_due")

    @property
    def label_texts(self) -> list[str]:
        return [row.label for row in self.labels]


class TrademarkLabel(db.Model):
    """One label (Unicode, lower case) a mark claims: what claims at registration look up,
    across every reseller, by an index."""

    __tablename__ = "trademark_labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    trademark_id: Mapped[int] = mapped_column(sa.ForeignKey("trademarks.id"), index=True)
    label: Mapped[str] = mapped_column(sa.String(63), index=True)

    trademark: Mapped[Trademark] = relationship(back_populates="labels")

    __table_args__ = (sa.UniqueConstraint("trademark_id", "label", name="uq_trademark_label"),)


class TrademarkCharge(db.Model):
    """One paid period: the wallet purchase ``reference`` (and invoice line) behind it."""

    __tablename__ = "trademark_charges"

    id: Mapped[int] = mapped_column(primary_key=True)
    trademark_id: Mapped[int] = mapped_column(sa.ForeignKey("trademarks.id"), index=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    reference: Mapped[str] = mapped_column(sa.String(80), unique=True)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    net: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))
    vat: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))
    total: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))
    charged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)

    trademark: Mapped[Trademark] = relationship(back_populates="charges")

    __table_args__ = (
        sa.UniqueConstraint("trademark_id", "period_start", name="uq_trademark_charge_period"),
    )


class TrademarkMatch(db.Model):
    """A name found imitating a mark, once per (mark, name), and what the reseller decided."""

    __tablename__ = "trademark_matches"

    id: Mapped[int] = mapped_column(primary_key=True)
    trademark_id: Mapped[int] = mapped_column(sa.ForeignKey("trademarks.id"), index=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(253))  # A-label form
    unicode_name: Mapped[str] = mapped_column(sa.String(253))
    reason: Mapped[str] = mapped_column(sa.String(20))
    score: Mapped[int] = mapped_column(sa.Integer)
    detail: Mapped[str] = mapped_column(sa.String(100), default="")
    source: Mapped[str] = mapped_column(sa.String(40))  # "tunnus" or "zone:<tld>"
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    # Registered here after its registrant acknowledged a claims notice for this mark.
    claims_acknowledged: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(sa.String(12), default="new")
    action: Mapped[str | None] = mapped_column(sa.String(12))
    note: Mapped[str | None] = mapped_column(sa.String(1000))
    state_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint("trademark_id", "name", name="uq_trademark_match_name"),
        sa.CheckConstraint("state IN ('new', 'dismissed', 'watched', 'act_on')",
                           name="trademark_match_state"),
    )


class WatchCursor(db.Model):
    """How far a watch source has been read: a domain id, or a zone's last day."""

    __tablename__ = "trademark_watch_cursors"

    source: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    position: Mapped[str] = mapped_column(sa.String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now, onupdate=_now)
