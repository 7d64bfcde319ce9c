"""Webhooks: reseller endpoints, signed deliveries (Standard Webhooks), retries and replay."""

from __future__ import annotations

from flask import Flask

from reseller.core.metrics import add_gauges, backlog
from reseller.core.web import add_api
from reseller.webhooks import api, models, tasks, views  # noqa: F401  (tasks: jobs, listener)


def _gauges() -> list:
    return backlog("tunnus_webhooks_pending", "Webhook deliveries not yet delivered or given up",
                   models.WebhookDelivery.created_at, models.WebhookDelivery.status == "pending")


def init_app(app: Flask) -> None:
    add_gauges(app, _gauges)
    add_api(app, api.bp)
    app.register_blueprint(views.bp)
