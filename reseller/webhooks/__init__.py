"""Webhooks: reseller endpoints, signed deliveries (Standard Webhooks), retries and replay."""

from __future__ import annotations

from flask import Flask

from reseller.core.web import add_api
from reseller.webhooks import api, models, tasks, views  # noqa: F401  (tasks: jobs, listener)


def init_app(app: Flask) -> None:
    add_api(app, api.bp)
    app.register_blueprint(views.bp)
