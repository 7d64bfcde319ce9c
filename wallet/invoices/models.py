"""Invoices, credit notes, their lines, stored renditions and the number series.

An issued document is never edited: corrections are credit notes. Amounts are
``Numeric(18, 2)`` Decimals in the invoice currency; party details are frozen as issued.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reseller.core.clock import clock
from reseller.core.extensions import db
from reseller.core.types import UTCDateTime
from wallet.invoices.grouping import LineGroup, group_lines

MONEY = sa.Numeric(18, 2)
RATE = sa.Numeric(6, 3)
ZERO = Decimal("0.00")


def _now() -> datetime:
    return clock.now()


class NumberSeries(db.Model):
    """The last number used per series and year; locked while a document takes the next."""

    __tablename__ = "invoice_number_series"

    series: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class Invoice(db.Model):
    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(12))  # invoice | credit_note
    series: Mapped[str] = mapped_column(sa.String(8))
    year: Mapped[int] = mapped_column()
    sequence: Mapped[int] = mapped_column()
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    # "2026-10" for a monthly invoice; NULL for credit notes (NULLs never collide).
    period_key: Mapped[str | None] = mapped_column(sa.String(7))
    period_start: Mapped[date] = mapped_column(sa.Date)
    period_end: Mapped[date] = mapped_column(sa.Date)
    issue_date: Mapped[date] = mapped_column(sa.Date)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    due_date: Mapped[date] = mapped_column(sa.Date)
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    language: Mapped[str] = mapped_column(sa.String(2))
    payment_mode: Mapped[str] = mapped_column(sa.String(10))
    vat_status: Mapped[str] = mapped_column(sa.String(20))
    net_total: Mapped[Decimal] = mapped_column(MONEY)
    vat_total: Mapped[Decimal] = mapped_column(MONEY)
    total: Mapped[Decimal] = mapped_column(MONEY)
    # [{"category", "rate", "net", "vat"}] as decimal strings: VAT rounded once per rate.
    vat_breakdown: Mapped[list] = mapped_column(sa.JSON)
    status: Mapped[str] = mapped_column(sa.String(10))  # open | paid | credited
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_amount: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    payment_method: Mapped[str | None] = mapped_column(sa.String(20))
    credited_total: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    reference: Mapped[str] = mapped_column(sa.String(20), unique=True)
    rf_reference: Mapped[str] = mapped_column(sa.String(25))
    seller: Mapped[dict] = mapped_column(sa.JSON)
    buyer: Mapped[dict] = mapped_column(sa.JSON)
    corrects_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id"), index=True)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    reminders_sent: Mapped[int] = mapped_column(default=0)
    # Late-payment interest owed on this invoice, and the invoice that charged it.
    interest_amount: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    interest_charged_on_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id"))

    # Loaded when read, not with every invoice: a month can hold 10,000 lines, and lists
    # of invoices show none.
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.position", lazy="select",
        cascade="all, delete-orphan")
    corrects: Mapped[Invoice | None] = relationship(
        remote_side=[id], foreign_keys=[corrects_id])

    __table_args__ = (
        sa.UniqueConstraint("reseller_id", "period_key", name="uq_invoices_reseller_period"),
        sa.UniqueConstraint("series", "year", "sequence", name="uq_invoices_series_sequence"),
        sa.CheckConstraint("kind IN ('invoice', 'credit_note')", name="kind"),
        sa.CheckConstraint("status IN ('open', 'paid', 'credited')", name="status"),
        # Within half a cent: SQLite keeps NUMERIC as binary floating point.
        sa.CheckConstraint("ABS(total - net_total - vat_total) < 0.005", name="totals_add_up"),
    )

    def status_on(self, today: date) -> str:
        """paid | open | overdue | credited, as the API and pages show it."""
        if self.status == "open" and today > self.due_date:
            return "overdue"
        return self.status

    @property
    def stated_lines(self) -> list[LineGroup]:
        """The lines as the invoice states them: grouped, with quantity and unit price."""
        return group_lines(self.lines)

    @property
    def amount_due(self) -> Decimal:
        if self.kind != "invoice" or self.status != "open":
            return ZERO
        return max(ZERO, self.total - self.credited_total - self.paid_amount)


class InvoiceLine(db.Model):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoices.id"), index=True)
    position: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(sa.String(12))  # purchase | refund | interest | credit
    # What the line bills ("purchase:17", "refund:17", "interest:2026-000003"): unique, so
    # nothing is ever billed twice. Credit-note lines leave it empty.
    source_key: Mapped[str | None] = mapped_column(sa.String(60), unique=True)
    description: Mapped[str] = mapped_column(sa.String(300))
    domain: Mapped[str | None] = mapped_column(sa.String(253))
    operation: Mapped[str | None] = mapped_column(sa.String(30))
    period_years: Mapped[int | None] = mapped_column()
    occurred_on: Mapped[date] = mapped_column(sa.Date)
    net: Mapped[Decimal] = mapped_column(MONEY)
    vat_category: Mapped[str] = mapped_column(sa.String(2))
    vat_rate: Mapped[Decimal] = mapped_column(RATE)
    vat: Mapped[Decimal] = mapped_column(MONEY)  # indicative; the breakdown rounds per rate

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class InvoiceDocument(db.Model):
    """A rendition stored once (the PDF), so every download is byte-identical."""

    __tablename__ = "invoice_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoices.id"))
    kind: Mapped[str] = mapped_column(sa.String(10))  # pdf
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)

    __table_args__ = (sa.UniqueConstraint("invoice_id", "kind", name="uq_invoice_documents_kind"),)
