"""The wallet: a double-entry ledger of reseller funds, holds, top-ups and withdrawals,
monthly invoices, and its web half (``wallet.web``).

Imports only ``reseller.core``; never a ``reseller`` feature package.
"""

from __future__ import annotations

import os

from flask import Flask

from reseller.core.config import add_production_check, use_settings
from reseller.core.metrics import add_gauges
from wallet import models, reports, settings, tasks, web  # noqa: F401  (models: tables; tasks: jobs)
from wallet.invoices import invoicing  # noqa: F401  (the invoice jobs, the PDF loader)
from wallet.invoices import models as invoice_models  # noqa: F401


def init_app(app: Flask) -> None:
    """The wallet's settings and production refusals, then its web half: blueprints, CLI,
    listeners and demo step (its models and periodic jobs come with the package)."""
    use_settings(app, settings.load(os.environ))
    add_production_check(app, settings.production_problems)
    add_gauges(app, reports.hold_gauges)
    web.init_app(app)
