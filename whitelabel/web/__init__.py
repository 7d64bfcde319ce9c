"""White label's web half: the ``/api/v1/whitelabel`` API, the client-area brand page,
the operator's outbox page, the listeners that turn events into mail (registrant and
reseller messages, the operator's invoice notices) and the demo brands.

The work itself is done by ``whitelabel`` services; this package is the web layer. Like
the rest of white label it imports only ``reseller.core``: a reseller's address and
language come from the kernel's reseller directory.
"""

from __future__ import annotations

from flask import Flask

from reseller.core.demo import add_demo_step
from reseller.core.permissions import Permission
from reseller.core.web import add_api
from reseller.core.web.dashboard import add_panel
from whitelabel.web import (  # noqa: F401  (listeners, invoice_notices: event listeners)
    api,
    console,
    dashboard,
    demo,
    invoice_notices,
    listeners,
    views,
)


def init_app(app: Flask) -> None:
    add_api(app, api.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(console.bp)
    add_panel(app, order=60, template="dashboard/sender.html",
              context=dashboard.sender_attention, permission=Permission.VIEW_ACCOUNT)
    add_demo_step(app, order=20, seed=demo.give_brand, info=demo.whitelabel_info)
