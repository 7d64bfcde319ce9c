"""``flask support``: the mail-in pipe, default plans, the SLA report, renewals by hand."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from reseller.core.db import unit_of_work
from reseller.core.directory import reseller_names
from reseller.support import defaults, mailin, plans, settings, work
from reseller.support.errors import MailRefused

support_cli = AppGroup("support", help="Support plans and the support desk.")

EX_DATAERR, EX_NOUSER = 65, 67  # sysexits(3): what an MTA pipe understands


@support_cli.command("mail-in")
def mail_in() -> None:
    """Read one RFC 5322 message from standard input (as an MTA pipe delivers it) and
    file it as a new ticket or as a reply threaded by the ticket+TOKEN@ address. Mail from
    anyone but a reseller's user is refused (exit 67) and creates nothing."""
    raw = sys.stdin.buffer.read(mailin.MAX_BYTES + 1)
    try:
        with unit_of_work():
            outcome = mailin.receive(raw, settings=settings.current())
    except mailin.UnknownSender as refused:
        click.echo(f"refused: {refused.detail}", err=True)
        sys.exit(EX_NOUSER)
    except MailRefused as refused:
        click.echo(f"refused: {refused.detail}", err=True)
        sys.exit(EX_DATAERR)
    click.echo(f"{outcome.action} ticket {outcome.ticket_id or '-'}")


@support_cli.command("install-defaults")
def install_defaults() -> None:
    """Install Core, Pro and Ultimate (idempotent: existing plans are left as they are).
    Prices are entered in the console (/console/support/plans)."""
    with unit_of_work():
        existing = {plan.code for plan in plans.list_plans(active_only=False)}
        for code, fields in defaults.PLANS.items():
            if code not in existing:
                plans.save_plan(code=code, **fields)
    click.echo("plans: " + ", ".join(
        f"{code}{'' if code in existing else ' (new)'}" for code in defaults.PLANS))


@support_cli.command("sla-report")
@click.option("--month", default=None, help="YYYY-MM (Helsinki); the current month by default")
def sla_report(month: str | None) -> None:
    """SLA targets due in the month per reseller: met, breached, still pending."""
    month = work.parse_month(month) if month else work.current_month()
    rows = work.sla_report(month=month)
    names = reseller_names([row.reseller_id for row in rows])
    click.echo(f"{'reseller':40} {'met':>5} {'breached':>8} {'pending':>7}  ({month})")
    for row in rows:
        click.echo(f"{names.get(row.reseller_id, row.reseller_id)!s:40} {row.met:5} "
                   f"{row.breached:8} {row.pending:7}")
