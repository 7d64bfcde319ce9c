"""The wallet: a double-entry ledger of reseller funds, holds, top-ups and withdrawals.

Imports only ``reseller.core``; the HTTP layer lives in ``reseller.billing`` (for now).
"""

from __future__ import annotations

import os

from flask import Flask

from reseller.core.config import add_production_check, use_settings
from wallet import models, settings, tasks  # noqa: F401  (models: tables; tasks: jobs)
from wallet.invoices import models as invoice_models  # noqa: F401


def init_app(app: Flask) -> None:
    """The wallet's settings and production refusals (its models and periodic jobs come
    with the package)."""
    use_settings(app, settings.load(os.environ))
    add_production_check(app, settings.production_problems)
