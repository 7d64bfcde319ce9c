"""White label: brands, sender domains, DKIM, the durable email outbox, branded pages,
and its web half (``whitelabel.web``).

Imports only ``reseller.core``; never a ``reseller`` feature package.
"""

from __future__ import annotations

from flask import Flask

from reseller.core.extensions import csrf
from reseller.core.metrics import add_gauges, backlog
from whitelabel import models, pages, tasks, views, web  # noqa: F401  (models: tables; tasks: jobs)
from whitelabel.mailer import mailer_from_config


def _gauges() -> list:
    return backlog("tunnus_mail_queued", "Emails in the outbox not yet sent",
                   models.OutboxMessage.created_at, models.OutboxMessage.state == "queued")


def init_app(app: Flask) -> None:
    """The mailer (SMTP or the sandbox outbox), the registrant link pages, the sandbox's
    ``/_dev`` pages and the periodic outbox and compliance jobs; then its web half."""
    app.extensions["tunnus.mailer"] = mailer_from_config(app.config)
    add_gauges(app, _gauges)
    app.register_blueprint(pages.bp)
    # Link-page forms carry their own capability: the signed single-use token.
    csrf.exempt(pages.bp)
    app.register_blueprint(views.dev)
    web.init_app(app)
