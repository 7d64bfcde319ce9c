"""DNS hosting: zones and records published to the nameservers, vanity nameservers,
zone ownership checks, the ACME ``httpreq`` endpoint, and URL forwarding (its API and the
redirect server for forwarded hosts)."""

from __future__ import annotations

from flask import Flask

from reseller.core.demo import add_demo_step
from reseller.core.extensions import csrf
from reseller.core.permissions import Permission
from reseller.core.web import add_api
from reseller.core.web.dashboard import add_panel
from reseller.dns import (  # noqa: F401
    api,
    cli,
    dashboard,
    demo,
    listeners,
    models,
    settings,
    tasks,
    views,
)
from reseller.domains import services as domains


def init_app(app: Flask) -> None:
    """Settings and the publisher, ``flask dns`` (the update gate), the DNS and forwarding API and pages, the ACME endpoint
    (lego sends its token, no session: no CSRF), periodic repairs, the domain listeners
    (listeners, tasks) and the nameservers a new domain gets when its order names none, the
    forwarding server's request hook, and the demo zone (after the domains: it is a held
    domain's)."""
    settings.init_app(app)
    app.cli.add_command(cli.dns_cli)
    domains.set_default_nameservers(app, listeners.default_nameservers)
    add_api(app, api.bp, api.forwarding_bp)
    app.register_blueprint(api.httpreq)
    csrf.exempt(api.httpreq)
    app.register_blueprint(views.bp)
    app.register_blueprint(views.server)  # its request hook redirects forwarded hosts
    add_panel(app, order=50, template="dashboard/zones.html", context=dashboard.zones_attention,
              permission=Permission.VIEW_DOMAINS)
    add_demo_step(app, order=50, seed=demo.seed_zone, info=demo.info)
