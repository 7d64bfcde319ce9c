"""``flask catalog install-defaults``: what a fresh installation sells, without prices."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from reseller.catalog import services
from reseller.catalog.models import OPERATIONS, PRICE_LISTS, TLDS
from reseller.core.db import unit_of_work

catalog_cli = AppGroup("catalog", help="The catalogue: TLDs, operations, tiers, price lists.")


@catalog_cli.command("install-defaults")
def install_defaults() -> None:
    """Install the default volume tiers (the TLDs, their operations and periods are the
    registries' rules, built in). Idempotent; never sets a price: the price lists stay
    empty until staff fill them in the console (/console/prices)."""
    with unit_of_work():
        created = services.install_tiers()
        tiers = services.list_tiers()
        missing = services.missing_prices()
    for rules in sorted(TLDS.values(), key=lambda r: r.tld):
        operations = ", ".join(o for o in OPERATIONS if rules.offers(o))
        click.echo(f".{rules.tld:5} {rules.registry:26} {rules.min_period}–{rules.max_period} "
                   f"years  {operations}")
    click.echo("tiers: " + ", ".join(
        f"{t.code}{' (new)' if t in created else ''}" for t in tiers))
    click.echo(f"price lists: {', '.join(PRICE_LISTS)}; {len(missing)} register/renew/"
               "transfer prices still to set in the console (/console/prices)")
