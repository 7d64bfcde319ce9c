"""``flask staff create``: the first operator login of a fresh installation (and more)."""

from __future__ import annotations

import secrets

import click
from flask.cli import AppGroup

from reseller.accounts import services
from reseller.core.db import unit_of_work
from reseller.core.errors import DomainError, ValidationFailed

staff_cli = AppGroup("staff", help="Operator staff logins (the console).")


@staff_cli.command("create")
@click.argument("email")
@click.option("--name", default="", help="Shown in the console's audit trail (default: EMAIL).")
@click.option("--role", type=click.Choice(services.STAFF_ROLES), default="superuser",
              show_default=True)
@click.option("--generate", is_flag=True,
              help="Generate a password and print it once, instead of asking for one.")
def staff_create(email: str, name: str, role: str, generate: bool) -> None:
    """Create an operator staff login for EMAIL.

    Asks for the password twice (hidden), or with --generate prints a new random one
    exactly once. Refuses an e-mail that already has a login.
    """
    if generate:
        password = secrets.token_urlsafe(18)
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with unit_of_work():
            user = services.create_staff(email=email, name=name, password=password, role=role)
    except ValidationFailed as failed:
        raise click.ClickException("; ".join(
            f"{field}: {' '.join(map(str, messages))}"
            for field, messages in failed.errors.items())) from None
    except DomainError as refused:
        raise click.ClickException(f"{email}: {refused.title}") from None
    click.echo(f"created {user.role} {user.email}")
    if generate:
        click.echo(f"password: {password}")
