"""The month-end invoice run and invoice settlement, seen from the reseller side.

This is where reseller data meets ``wallet.invoices``: it loads the ``Reseller``, passes
its billing details as plain values, and reads the invoicing settings from the config.
The run is ``@periodic`` (RQ's cron scheduler) and ``flask invoices run``; it enqueues one
job per (reseller, month), each safe to run twice and to resume after a crash.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import click
import sqlalchemy as sa
from flask import current_app

from reseller.accounts.models import Reseller
from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.core.identity import vat_status
from reseller.core.jobs import enqueue, periodic
from wallet.invoices import monthly, pdf, reports, services
from wallet.invoices.models import Invoice
from wallet.invoices.periods import Month, local_date
from wallet.invoices.settings import InvoicingSettings, Party, settings_from_config

MONTH_JOB = "reseller.billing.invoicing.invoice_reseller_month"


def invoicing_settings() -> InvoicingSettings:
    """Built once per app from its config."""
    settings = current_app.extensions.get("tunnus.invoicing")
    if settings is None:
        settings = current_app.extensions["tunnus.invoicing"] = settings_from_config(
            current_app.config)
    return settings


def buyer_of(reseller: Reseller) -> Party:
    return Party(name=reseller.company_name, country=reseller.country,
                 business_id=reseller.business_id, vat_id=reseller.vat_id,
                 street=reseller.street, postal_code=reseller.postal_code, city=reseller.city,
                 email=reseller.billing_email or reseller.contact_email,
                 einvoice_address=reseller.einvoice_address)


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
        enqueue("reseller.billing.invoicing.render_invoice_pdf", invoice_id)
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
    reseller = db.session.get(Reseller, reseller_id)
    if reseller is None:
        return
    now = clock.now()
    with unit_of_work():
        invoice = monthly.issue_month(
            reseller_id=reseller_id, month=month, buyer=buyer_of(reseller),
            vat_status=vat_status(reseller.country, reseller.vat_id), language=reseller.language, payment_mode=reseller.payment_mode,
            settings=invoicing_settings(), now=now)
    if invoice is not None:
        with unit_of_work():
            pdf.ensure_pdf(invoice)
    if month.next() < Month.containing(now):
        enqueue(MONTH_JOB, reseller_id, month.next().key)


def render_invoice_pdf(invoice_id: int) -> None:
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is not None:
        pdf.ensure_pdf(invoice)


@periodic("invoices-reminders", "0 7 * * *", "Overdue reminders at +7 and +21 days")
def send_overdue_reminders() -> None:
    services.send_overdue_reminders(today=local_date(clock.now()),
                                    settings=invoicing_settings())


# --- for other packages: the domains code and the wallet's bank import ------------------

def is_blocked_for_overdue(reseller_id: int) -> bool:
    """Whether new orders are refused: an invoice overdue past the operator's limit."""
    return services.is_blocked_for_overdue(
        reseller_id=reseller_id, today=local_date(clock.now()), settings=invoicing_settings())


def mark_invoice_paid(*, invoice_number: str, amount: Decimal, paid_at: datetime,
                      method: str = "bank_transfer") -> Invoice:
    return services.mark_invoice_paid(invoice_number=invoice_number, amount=amount,
                                      paid_at=paid_at, method=method,
                                      settings=invoicing_settings())


find_invoice_by_reference = services.find_invoice_by_reference


# --- flask invoices ... ----------------------------------------------------------------

@click.group("invoices", help="Monthly invoices.")
def invoices_cli() -> None:
    pass


@invoices_cli.command("run")
def run_command() -> None:
    """Invoice every ended month not yet invoiced (by the sandbox clock in sandbox mode)."""
    with unit_of_work():
        queued = run_month_end()
    runner = current_app.extensions["tunnus.jobs"]
    if hasattr(runner, "drain"):
        runner.drain(timeout=3600)
    count = db.session.scalar(sa.select(sa.func.count(Invoice.id)))
    click.echo(f"queued {queued} job(s); {count} invoice(s) and credit notes in total")


@invoices_cli.command("export")
@click.option("--month", "month_key", default=None,
              help="YYYY-MM of the documents' issue dates (default: last month)")
@click.option("--output", type=click.File("w"), default="-", help="file (default stdout)")
def export_command(month_key: str | None, output) -> None:
    """The sales journal CSV: every invoice and credit note issued in the month."""
    try:
        month = Month.parse(month_key) if month_key else Month.containing(clock.now()).previous()
    except ValueError:
        raise click.BadParameter("use YYYY-MM, e.g. 2026-10", param_hint="--month") from None
    output.write(reports.journal_csv(month))


@invoices_cli.command("remind")
def remind_command() -> None:
    """Record overdue reminders due today."""
    with unit_of_work():
        reminded = services.send_overdue_reminders(today=local_date(clock.now()),
                                                   settings=invoicing_settings())
    click.echo(f"{len(reminded)} reminder(s)")
