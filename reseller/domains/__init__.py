"""Domains: names, contacts, orders over the wallet, management and the lifecycle."""

from __future__ import annotations

from flask import Flask

from reseller.core.demo import add_demo_step
from reseller.core.holds import keep_holds
from reseller.core.metrics import add_gauges
from reseller.core.permissions import Permission
from reseller.core.web import add_api
from reseller.core.web.dashboard import add_panel
from reseller.domains import (  # noqa: F401  (tasks: jobs, listeners)
    api,
    dashboard,
    demo,
    models,
    orders,
    tasks,
    views,
)


def init_app(app: Flask) -> None:
    add_api(app, api.bp)
    app.register_blueprint(views.bp)
    keep_holds(app, orders.holds_still_open)  # no order's money is let go while it is open
    add_gauges(app, orders.order_gauges)
    add_panel(app, order=20, template="dashboard/expiring.html", context=dashboard.expiring,
              permission=Permission.VIEW_DOMAINS)
    add_panel(app, order=30, template="dashboard/orders.html", context=dashboard.recent_orders,
              permission=Permission.VIEW_DOMAINS)
    add_demo_step(app, order=30, seed=demo.seed_catalogue)
    add_demo_step(app, order=40, seed=demo.seed_domains, info=demo.info)
