"""``flask payments import FILE`` (bank statements), ``flask wallet expire-holds|verify``
and ``flask invoices run|export|remind``."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from wallet import ledger, services, statements
from wallet.invoices import reports
from wallet.invoices import services as invoices
from wallet.invoices.invoicing import invoicing_settings, run_month_end
from wallet.invoices.models import Invoice
from wallet.invoices.periods import Month, local_date

payments_cli = AppGroup("payments", help="Payments: bank statement import.")
wallet_cli = AppGroup("wallet", help="Wallet ledger maintenance.")


@payments_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_statement(path: str) -> None:
    """Import a camt.054/camt.053 statement; each entry is credited (or pays an invoice) once."""
    with open(path, "rb") as handle, unit_of_work():
        result = statements.import_statement(handle.read(), settings=invoicing_settings())
    click.echo(f"matched={result.matched} invoices={result.invoices} "
               f"unmatched={result.unmatched} duplicates={result.duplicates} "
               f"reversed={result.reversed} unbalanced={result.unbalanced}")


@wallet_cli.command("expire-holds")
def expire_holds() -> None:
    """Release holds past their expiry (also runs every 10 minutes)."""
    with unit_of_work():
        click.echo(f"expired={services.expire_holds()}")


@wallet_cli.command("verify")
def verify() -> None:
    """Check every ledger invariant; exit 1 on any violation."""
    with unit_of_work():
        problems = ledger.verify()
    for problem in problems:
        click.echo(problem)
    click.echo(f"violations={len(problems)}")
    raise SystemExit(1 if problems else 0)


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
        reminded = invoices.send_overdue_reminders(today=local_date(clock.now()),
                                                   settings=invoicing_settings())
    click.echo(f"{len(reminded)} reminder(s)")
