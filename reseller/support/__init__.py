"""Support plans with SLAs, the support desk and plan changes with prorated credit:
plans the operator defines (Core, Pro, Ultimate), each reseller's subscription (changed at
once, prorated to the day, charged through the wallet), tickets by client area, API and
mail, the SLA clock in Finnish business hours, logged hours and quotes, and the notices."""

from __future__ import annotations

import os

from flask import Flask

from reseller.core.config import use_settings
from reseller.core.demo import add_demo_step
from reseller.core.web import add_api
from reseller.support import (  # noqa: F401  (models: tables; tasks: jobs and listeners)
    api,
    cli,
    console,
    demo,
    mail,
    models,
    services,
    settings,
    tasks,
    views,
)
from whitelabel.messages import register_reseller_kinds


def init_app(app: Flask) -> None:
    """Settings, the support API, the client-area and console pages, `flask support`,
    the notices (in the white label's reseller catalogue), the billing page's plan card,
    and demo data (plans before the wallets spend, tickets after the domains)."""
    use_settings(app, settings.load(os.environ))
    add_api(app, api.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(console.bp)
    app.cli.add_command(cli.support_cli)
    register_reseller_kinds(mail.KINDS)
    app.jinja_env.globals["support_plan_summary"] = views.plan_summary_for_page
    add_demo_step(app, order=15, seed=demo.seed_plans)
    add_demo_step(app, order=65, seed=demo.seed_tickets, info=demo.info)
