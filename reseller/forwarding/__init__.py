"""URL forwarding: the forwarding API and the redirect server for forwarded hosts."""

from __future__ import annotations

from flask import Flask

from reseller.core.web import add_api
from reseller.forwarding import api, models  # noqa: F401  (models: tables)


def init_app(app: Flask) -> None:
    add_api(app, api.bp)
    app.register_blueprint(api.server)  # its request hook redirects forwarded hosts
