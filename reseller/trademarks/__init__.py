"""Trademark protection, a paid service resellers resell: protected marks charged per
month or year, watching new registrations (Tunnus's own and the TLDs' zone files) for
look-alike names, alerts, and claims notices at registration."""

from __future__ import annotations

import os

from flask import Flask

from reseller.core.config import add_production_check, use_settings
from reseller.core.demo import add_demo_step
from reseller.core.web import add_api
from reseller.domains import services as domains
from reseller.trademarks import (  # noqa: F401  (models: tables; tasks: jobs, listeners)
    api,
    demo,
    models,
    services,
    settings,
    tasks,
    views,
)


def init_app(app: Flask) -> None:
    """Settings and production refusals, the claims notice every registration passes
    (the domains' order check), the API, the client-area pages, the console's price
    page and the demo marks (its jobs and listeners come with ``tasks``)."""
    use_settings(app, settings.load(os.environ, sandbox=bool(app.config["SANDBOX"]),
                                    instance_dir=app.config["INSTANCE_DIR"]))
    add_production_check(app, settings.production_problems)
    domains.add_order_check(app, services.check_claims)
    add_api(app, api.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(views.console)
    add_demo_step(app, order=70, seed=demo.seed_marks, info=demo.info)  # after the domains
