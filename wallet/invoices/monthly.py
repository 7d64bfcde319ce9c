"""The month-end step: what a monthly invoice bills, read from the wallet's purchases.

Each purchase is billed once (line ``purchase:<id>``) in the month it was captured, and
its refund once (line ``refund:<id>``) in the month it was refunded. The unique
``source_key`` of invoice lines makes billing anything twice impossible; anything that
arrives late for an already-invoiced month goes on the next invoice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from reseller.core.clock import utc
from reseller.core.extensions import db
from wallet.invoices import services, vat
from wallet.invoices.lines import LineIn
from wallet.invoices.models import Invoice, InvoiceDocument, InvoiceLine
from wallet.invoices.periods import Month, local_date
from wallet.invoices.settings import InvoicingSettings, Party
from wallet.models import Purchase


def _key(prefix: str) -> sa.ColumnElement:
    return sa.literal(prefix) + sa.cast(Purchase.id, sa.String)


def _unbilled(prefix: str) -> sa.ColumnElement:
    return ~sa.exists().where(InvoiceLine.source_key == _key(prefix))


def pending_months(*, before: datetime) -> Iterator[tuple[int, Month]]:
    """(reseller id, month of its oldest unbilled purchase or refund) before ``before``."""
    bought = (sa.select(Purchase.reseller_id, sa.func.min(Purchase.captured_at))
              .where(Purchase.captured_at < before, _unbilled("purchase:"))
              .group_by(Purchase.reseller_id))
    refunded = (sa.select(Purchase.reseller_id, sa.func.min(Purchase.refunded_at))
                .where(Purchase.refunded_at.is_not(None), Purchase.refunded_at < before,
                       _unbilled("refund:"))
                .group_by(Purchase.reseller_id))
    oldest: dict[int, datetime] = {}
    for reseller_id, moment in [*db.session.execute(bought), *db.session.execute(refunded)]:
        moment = utc(moment)
        if reseller_id not in oldest or moment < oldest[reseller_id]:
            oldest[reseller_id] = moment
    for reseller_id in sorted(oldest):
        yield reseller_id, Month.containing(oldest[reseller_id])


def invoices_without_pdf() -> list[int]:
    return list(db.session.scalars(
        sa.select(Invoice.id).where(~sa.exists().where(InvoiceDocument.invoice_id == Invoice.id))
        .order_by(Invoice.id)))


def _line(purchase: Purchase, *, refund: bool, vat_status: str) -> LineIn:
    item = purchase.item or {}
    rate = (Decimal(purchase.vat_rate) * 100).normalize()
    moment = purchase.refunded_at if refund else purchase.captured_at
    period = item.get("period") or item.get("years")
    return LineIn(
        kind="refund" if refund else "purchase",
        source_key=f"{'refund' if refund else 'purchase'}:{purchase.id}",
        description=purchase.description or purchase.reference, occurred_on=local_date(moment),
        net=-purchase.net_amount if refund else purchase.net_amount, vat_rate=rate,
        vat_category=vat.category(rate=rate, vat_status=vat_status), domain=item.get("domain"),
        # Domain orders name their operation ``kind`` (register, renew …) in the item.
        operation=item.get("operation") or (item.get("kind") if item.get("domain") else None),
        period_years=int(period) if str(period or "").isdigit() else None,
        booked_vat=-purchase.vat_amount if refund else purchase.vat_amount,
        source=purchase.source)


def month_lines(*, reseller_id: int, month: Month, vat_status: str) -> list[LineIn]:
    """Unbilled purchases captured, and refunds made, before the end of ``month``."""
    end = month.ends_at
    bought = db.session.scalars(
        sa.select(Purchase).where(Purchase.reseller_id == reseller_id,
                                  Purchase.captured_at < end, _unbilled("purchase:"))
        .order_by(Purchase.captured_at, Purchase.id))
    lines = [_line(purchase, refund=False, vat_status=vat_status) for purchase in bought]
    refunded = db.session.scalars(
        sa.select(Purchase).where(Purchase.reseller_id == reseller_id,
                                  Purchase.refunded_at.is_not(None), Purchase.refunded_at < end,
                                  _unbilled("refund:"))
        .order_by(Purchase.refunded_at, Purchase.id))
    lines += [_line(purchase, refund=True, vat_status=vat_status) for purchase in refunded]
    return lines


def issue_month(*, reseller_id: int, month: Month, buyer: Party, vat_status: str,
                language: str, payment_mode: str, settings: InvoicingSettings,
                now: datetime) -> Invoice | None:
    """The month-end step for one reseller: gather the month from the ledger and issue."""
    existing = services.find_monthly_invoice(reseller_id=reseller_id, month=month)
    if existing is not None:
        return existing
    lines = month_lines(reseller_id=reseller_id, month=month, vat_status=vat_status)
    return services.issue_monthly_invoice(
        reseller_id=reseller_id, month=month, buyer=buyer, vat_status=vat_status,
        language=language, payment_mode=payment_mode, lines=lines, settings=settings, now=now)
