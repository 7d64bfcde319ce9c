"""Reseller applications: apply (public), then operator staff approve or reject."""

from __future__ import annotations

from flask import Flask

from reseller.core.web import add_api
from reseller.onboarding import api, models, views  # noqa: F401  (models: tables)


def init_app(app: Flask) -> None:
    add_api(app, api.bp)
    app.register_blueprint(views.bp)
