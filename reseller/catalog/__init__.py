"""The TLD catalogue: registry rules per TLD, price lists, volume tiers, retail prices."""

from __future__ import annotations

from flask import Flask

from reseller.catalog import api, cli, models, services, views  # noqa: F401  (models: tables)
from reseller.core.web import add_api
from reseller.core.web.ratelimit import set_tier_lookup


def init_app(app: Flask) -> None:
    """The catalogue API and console pages, `flask catalog`, and the API rate-limit tier
    of a reseller (its volume tier names it)."""
    add_api(app, api.bp)
    app.register_blueprint(views.bp)
    app.cli.add_command(cli.catalog_cli)
    set_tier_lookup(app, services.rate_limit_tier)
