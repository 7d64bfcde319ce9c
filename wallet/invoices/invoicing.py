"""The month-end invoice run and invoice settlement, for the app's entry points.

This is where reseller data meets ``wallet.invoices``: it asks the kernel's reseller
directory (``reseller.core.directory``) for the buyer's details, passes them on as plain
values, and reads the invoicing settings from the app config (the services below it take
them as arguments). The run is ``@periodic`` (RQ's cron scheduler) and ``flask invoices
run``; it enqueues one job per (reseller, month), each safe to run twice and to resume
after a crash. Other features call ``is_blocked_for_overdue`` before taking an order.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.directory import ResellerProfile, reseller_profile
from reseller.core.documents import document_loader
from reseller.core.extensions import db
from reseller.core.jobs import enqueue, periodic
from wallet.invoices import monthly, pdf, services
from wallet.invoices.models import Invoice
from wallet.invoices.periods import Month, local_date
from wallet.invoices.settings import InvoicingSettings, Party, settings_from_config
from wallet.services import payment_mode_of

MONTH_JOB = "wallet.invoices.invoicing.invoice_reseller_month"
RENDER_JOB = "wallet.invoices.invoicing.render_invoice_pdf"


def invoicing_settings() -> InvoicingSettings:
    """Built once per app from its config."""
    settings = current_app.extensions.get("tunnus.invoicing")
    if settings is None:
        settings = current_app.extensions["tunnus.invoicing"] = settings_from_config(
            current_app.config)
    return settings


def buyer_of(reseller: ResellerProfile) -> Party:
    return Party(name=reseller.company_name, country=reseller.country,
                 business_id=reseller.business_id, vat_id=reseller.vat_id,
                 street=reseller.street, postal_code=reseller.postal_code, city=reseller.city,
                 email=reseller.invoice_email, einvoice_address=reseller.einvoice_address)


def run_month_end(*, now: datetime | None = None) -> int:
    """Queue the oldest un-invoiced ended month of every reseller; return how many.

    Each month job queues the reseller's next ended month when it is done, so one
    reseller's months are invoiced in order and never by two jobs at once.
    """
    now = now or clock.now()
    current = Month.containing(now)
    queued = 0
    for reseller_id, month in monthly.pending_months(before=current.starts_at):
        while month < current and services.find_monthly_invoice(
                reseller_id=reseller_id, month=month) is not None:
            month = month.next()  # late items of an invoiced month go on the next invoice
        if month < current:
            enqueue(MONTH_JOB, reseller_id, month.key)
            queued += 1
    for invoice_id in monthly.invoices_without_pdf():
        enqueue(RENDER_JOB, invoice_id)
        queued += 1
    return queued


@periodic("invoices-month-end", "5 0 1 * *",
          "Invoice every ended month (00:05 UTC on the 1st is already the 1st in Helsinki)")
def month_end_job() -> None:
    run_month_end()


def invoice_reseller_month(reseller_id: int, month_key: str) -> None:
    """Issue (reseller, month)'s invoice, store its PDF, then queue the next ended month.

    Two commits: the invoice with its number (the series lock is held only there), then
    the PDF. A crash between them leaves an invoice that the next run renders.
    """
    month = Month.parse(month_key)
    reseller = reseller_profile(reseller_id)
    if reseller is None:
        return
    now = clock.now()
    with unit_of_work():
        invoice = monthly.issue_month(
            reseller_id=reseller_id, month=month, buyer=buyer_of(reseller),
            vat_status=reseller.vat_status, language=reseller.language,
            payment_mode=payment_mode_of(reseller_id), settings=invoicing_settings(), now=now)
    if invoice is not None:
        pdf.render_and_store(invoice.id)  # no transaction open while it renders
    if month.next() < Month.containing(now):
        enqueue(MONTH_JOB, reseller_id, month.next().key)


def render_invoice_pdf(invoice_id: int) -> None:
    pdf.render_and_store(invoice_id)  # no transaction open while it renders


@document_loader("invoice_pdf")
def invoice_pdf_attachment(number: str) -> tuple[str, str, bytes] | None:
    """An invoice email's attachment: the stored PDF (rendered now if the month-end job
    has not stored it yet)."""
    invoice = db.session.scalar(sa.select(Invoice).where(Invoice.number == number))
    if invoice is None:
        return None
    return f"{invoice.number}.pdf", "application/pdf", pdf.ensure_pdf(invoice).content


@periodic("invoices-reminders", "0 7 * * *", "Overdue reminders at +7 and +21 days")
def send_overdue_reminders() -> None:
    services.send_overdue_reminders(today=local_date(clock.now()),
                                    settings=invoicing_settings())


# --- for other features: the domains' order check; and settling by hand ----------------

def is_blocked_for_overdue(reseller_id: int) -> bool:
    """Whether new orders are refused: an invoice overdue past the operator's limit."""
    return services.is_blocked_for_overdue(
        reseller_id=reseller_id, today=local_date(clock.now()), settings=invoicing_settings())


def billing_standing(reseller_id: int) -> tuple[str, bool]:
    """(payment mode, whether new orders are refused for an overdue invoice)."""
    return services.billing_standing(reseller_id=reseller_id, today=local_date(clock.now()),
                                     settings=invoicing_settings())


def mark_invoice_paid(*, invoice_number: str, amount: Decimal, paid_at: datetime,
                      method: str = "bank_transfer") -> Invoice:
    return services.mark_invoice_paid(invoice_number=invoice_number, amount=amount,
                                      paid_at=paid_at, method=method,
                                      settings=invoicing_settings())


find_invoice_by_reference = services.find_invoice_by_reference
