"""``flask payments import FILE`` (bank statements) and ``flask wallet expire-holds``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from reseller.billing.invoicing import invoicing_settings
from reseller.core.db import unit_of_work
from wallet import ledger, services, statements

payments_cli = AppGroup("payments", help="Payments: bank statement import.")
wallet_cli = AppGroup("wallet", help="Wallet ledger maintenance.")


@payments_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_statement(path: str) -> None:
    """Import a camt.054/camt.053 statement; each entry is credited (or pays an invoice) once."""
    with open(path, "rb") as handle, unit_of_work():
        result = statements.import_statement(handle.read(), settings=invoicing_settings())
    click.echo(f"matched={result.matched} invoices={result.invoices} "
               f"unmatched={result.unmatched} duplicates={result.duplicates}")


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
