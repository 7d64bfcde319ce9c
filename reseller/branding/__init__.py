"""White-label settings for resellers: the ``/api/v1/whitelabel`` API, the client-area
brand page, the operator's outbox page, and the listeners that turn events into mail.

The work itself is done by ``whitelabel`` services; this package is the web layer.
"""

from __future__ import annotations

from flask import Flask

from reseller.branding import api, console, demo, listeners, views  # noqa: F401  (listeners)
from reseller.core.demo import add_demo_step
from reseller.core.web import add_api


def init_app(app: Flask) -> None:
    add_api(app, api.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(console.bp)
    add_demo_step(app, order=20, seed=demo.give_brand, info=demo.whitelabel_info)
