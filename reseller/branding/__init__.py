"""White-label settings for resellers: the ``/api/v1/whitelabel`` API, the client-area
brand page, the operator's outbox page, and the listeners that turn events into mail.

The work itself is done by ``whitelabel`` services; this package is the web layer.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask, api) -> None:
    """Register the blueprints (``api`` is the ``/api/v1`` parent), listeners and jobs."""
    from reseller.branding import api as branding_api
    from reseller.branding import console, demo, listeners, views  # noqa: F401  (listeners)
    from reseller.core.extensions import csrf
    from whitelabel import pages, tasks  # noqa: F401  (periodic jobs register)

    demo.register()
    api.register_blueprint(branding_api.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(pages.bp)
    # Link-page forms carry their own capability: the signed single-use token.
    csrf.exempt(pages.bp)
