"""The wallet's web layer: the ``/api/v1/wallet`` API, payment-provider webhooks and the
sandbox checkout, the client-area wallet page, the operator's ledger console and CLI.

The work itself is done by ``wallet`` services; this package only parses and renders.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask, api) -> None:
    """Register blueprints (``api`` is the ``/api/v1`` parent), CLI, jobs and demo hooks."""
    from reseller.billing import api as wallet_api
    from reseller.billing import (
        cards,
        cli,
        console,
        console_invoices,
        demo,
        hooks,
        payments,
        views,
    )
    from reseller.core.extensions import csrf
    from wallet import tasks  # noqa: F401  (periodic jobs register)

    demo.install()
    hooks.install()
    api.register_blueprint(wallet_api.bp)
    app.register_blueprint(payments.webhooks)
    app.register_blueprint(payments.checkout)
    app.register_blueprint(views.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(console_invoices.bp)
    app.register_blueprint(cards.bp)
    app.register_blueprint(cards.sandbox_pages)
    # Providers call these with their own signatures; there is no session to forge.
    csrf.exempt(payments.webhooks)
    cli.init_app(app)
