"""The wallet's web half: the ``/api/v1/wallet`` and ``/api/v1/invoices`` APIs, payment-
provider webhooks and the sandbox checkout, the card pages, the client-area wallet and
invoice pages, the operator's ledger and invoice consoles, CLI, the demo wallets and the
``account.closed`` refund.

The work itself is done by ``wallet`` services; this package only parses and renders.
Like the rest of the wallet it imports only ``reseller.core``: who a reseller is (names
in the console, the billing page's details) comes from the kernel's reseller directory.
"""

from __future__ import annotations

from flask import Flask

from reseller.core.demo import add_demo_step
from reseller.core.extensions import csrf
from reseller.core.permissions import Permission
from reseller.core.web import add_api
from reseller.core.web.dashboard import add_panel
from wallet.web import (  # noqa: F401  (listeners: the account.closed refund)
    api,
    cards,
    cli,
    console,
    console_invoices,
    dashboard,
    demo,
    invoices_api,
    invoices_views,
    listeners,
    payments,
    views,
)


def init_app(app: Flask) -> None:
    """Blueprints, CLI, the card jobs (cards), the listener (a closed account's refund) and
    the demo wallets (first: later demo steps spend)."""
    add_api(app, api.bp, invoices_api.bp)
    for blueprint in (payments.webhooks, payments.checkout, views.bp, console.bp,
                      console_invoices.bp, cards.bp, cards.sandbox_pages, invoices_views.bp):
        app.register_blueprint(blueprint)
    # Providers call these with their own signatures; there is no session to forge.
    csrf.exempt(payments.webhooks)
    for command in (cli.payments_cli, cli.wallet_cli, cli.invoices_cli):
        app.cli.add_command(command)
    add_panel(app, order=10, template="dashboard/funds.html", context=dashboard.funds,
              permission=Permission.VIEW_BILLING)
    add_panel(app, order=40, template="dashboard/invoices.html",
              context=dashboard.invoices_due, permission=Permission.VIEW_BILLING)
    add_demo_step(app, order=10, seed=demo.open_demo_wallet)
