"""The wallet's web layer: the ``/api/v1/wallet`` and ``/api/v1/invoices`` APIs, payment-
provider webhooks and the sandbox checkout, the client-area wallet and invoice pages, the
operator's ledger and invoice consoles, and CLI.

The work itself is done by ``wallet`` services; this package only parses and renders.
"""

from __future__ import annotations

from flask import Flask

from reseller.billing import (  # noqa: F401  (listeners, invoice_notices: event listeners)
    api,
    cards,
    cli,
    console,
    console_invoices,
    demo,
    invoice_notices,
    invoices_api,
    invoices_views,
    invoicing,
    listeners,
    payments,
    views,
)
from reseller.core.demo import add_demo_step
from reseller.core.extensions import csrf
from reseller.core.web import add_api


def init_app(app: Flask) -> None:
    """Blueprints, CLI, the periodic invoice and card jobs (invoicing, cards), the listeners
    (a closed account's refund, invoice notices) and the demo wallets (first: later demo
    steps spend)."""
    add_api(app, api.bp, invoices_api.bp)
    for blueprint in (payments.webhooks, payments.checkout, views.bp, console.bp,
                      console_invoices.bp, cards.bp, cards.sandbox_pages, invoices_views.bp):
        app.register_blueprint(blueprint)
    # Providers call these with their own signatures; there is no session to forge.
    csrf.exempt(payments.webhooks)
    for command in (cli.payments_cli, cli.wallet_cli, invoicing.invoices_cli):
        app.cli.add_command(command)
    add_demo_step(app, order=10, seed=demo.open_demo_wallet)
