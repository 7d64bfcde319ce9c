"""The application factory: the kernel, then each feature's ``init_app``, then the checks.

The kernel is config, extensions, the database, locale, CSRF, the clock, jobs, logging and
the web shell (``reseller.core.web``: the ``/api/v1`` parent, auth, problem+json). Every
feature wires itself in its package's ``init_app(app)``: its blueprints (API ones nested
under ``/api/v1``), CLI commands, jobs and listeners, demo data and settings. Adding a
feature is one line in ``FEATURES``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import wallet
import whitelabel
from reseller import (
    accounts,
    catalog,
    cli,
    console,
    dns,
    domains,
    events,
    onboarding,
    rdap,
    registry,
    support,
    trademarks,
    webhooks,
    whmcs,
    whois,
)
from reseller.core import formatting, jobs, labels, logs, metrics, resources, web
from reseller.core.clock import clock
from reseller.core.config import PRODUCTION_CHECKS, check_production, load_config
from reseller.core.db import configure_sqlite, ping_idle_connections
from reseller.core.extensions import babel, csrf, db, migrate
from reseller.core.json_provider import StrictJSONProvider
from reseller.core.web.session import select_locale

# In this order: the wallet and white label first (services the others use at start-up:
# settings, the mailer; each wires its web half too), the accounts before anything that
# checks who is calling, dns (its forwarding server's redirect hook) before the pages'
# blueprints.
FEATURES = (
    wallet, whitelabel, accounts, onboarding, catalog, registry, domains, dns,
    rdap, whois, webhooks, events, whmcs, support, console, trademarks,
)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    config = load_config()
    if test_config:
        config.update(test_config)
    root = resources.data_root()  # the installed package's data, or the checkout
    app = Flask(__name__, template_folder=str(root / "templates"),
                static_folder=str(root / "static"), instance_path=config["INSTANCE_DIR"])
    app.json = StrictJSONProvider(app)  # depth-limited; NaN/Infinity are not JSON
    # The embedded default keeps its SQLite database, keys and demo logins here; on a
    # fresh checkout it does not exist yet, and SQLite will not create a directory.
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(config)
    logs.configure_logging(app.config)
    if app.config["PROXY_FIX_HOPS"]:
        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    _init_database(app)
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    clock.configure(sandbox=app.config["SANDBOX"])
    jobs.init_app(app)
    metrics.init_app(app)
    _register_template_helpers(app)
    web.init_app(app)
    for feature in FEATURES:
        feature.init_app(app)
    web.register_api(app)
    cli.init_app(app)
    logs.init_app(app)  # last: its request hook goes first, before any that may refuse
    # Once every feature has added its settings and refusals: one refusal, every line.
    check_production(app.config, app.extensions.get(PRODUCTION_CHECKS, ()))
    return app


def _init_database(app: Flask) -> None:
    """The models come with their packages (imported above), so Alembic and
    ``create_all`` see the whole schema."""
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"),
                     render_as_batch=True, compare_type=True)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
        else:
            ping_idle_connections(db.engine,
                                  after_seconds=app.config.get("DB_PING_IDLE_SECONDS", 5.0))


def _register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["money"] = formatting.format_money
    app.jinja_env.filters["percent"] = formatting.format_percent
    app.jinja_env.filters["number"] = formatting.format_number
    app.jinja_env.filters["datetime"] = formatting.format_datetime_local
    app.jinja_env.filters["datetime_zoned"] = formatting.format_datetime_zoned
    app.jinja_env.filters["date"] = formatting.format_date_local
    app.jinja_env.filters["label"] = labels.label
    app.jinja_env.filters["describe"] = labels.describe
    app.jinja_env.add_extension("jinja2.ext.i18n")
