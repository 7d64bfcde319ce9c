"""The application factory: config, extensions, adapters, blueprints, errors, CLI."""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask, g, has_request_context, render_template, request, session
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from reseller.core import jobs, logs, resources
from reseller.core.clock import clock
from reseller.core.config import PRODUCTION_CHECKS, check_production, load_config
from reseller.core.errors import DomainError, problem_response
from reseller.core.extensions import babel, csrf, db, migrate
from reseller.core.json_provider import StrictJSONProvider

log = logging.getLogger(__name__)

# Paths whose errors are problem+json rather than HTML pages.
MACHINE_PREFIXES = ("/api/", "/payments/webhooks/", "/oauth/", "/whmcs/", "/rdap/", "/acme/", "/_dev/", "/healthz")


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
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    _init_database(app)
    babel.init_app(app, locale_selector=_select_locale)
    csrf.init_app(app)
    clock.configure(sandbox=app.config["SANDBOX"])
    jobs.init_app(app)
    _init_adapters(app)
    _register_tasks()
    _register_blueprints(app)
    _register_errors(app)
    _register_template_helpers(app)
    from reseller import cli

    cli.init_app(app)
    import wallet

    wallet.init_app(app)
    logs.init_app(app)  # last: its request hook goes first, before any that may refuse
    check_production(app.config, app.extensions.get(PRODUCTION_CHECKS, ()))
    return app


def _init_database(app: Flask) -> None:
    from reseller import models  # noqa: F401  (every model, for Alembic and create_all)
    from reseller.core.db import configure_sqlite, ping_idle_connections

    db.init_app(app)
    migrate.init_app(app, db, directory=str(__import__("pathlib").Path(__file__).parent / "migrations"),
                     render_as_batch=True, compare_type=True)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
        else:
            ping_idle_connections(db.engine,
                                  after_seconds=app.config.get("DB_PING_IDLE_SECONDS", 5.0))


def _init_adapters(app: Flask) -> None:
    """External systems behind adapters, chosen by config (sandbox ones are real code)."""
    from whitelabel.mailer import mailer_from_config

    app.extensions["tunnus.mailer"] = mailer_from_config(app.config)
    from reseller.accounts.throttling import guard_from_config
    from reseller.core.throttle import store_from_config

    app.extensions["tunnus.guard"] = guard_from_config(app.config, store_from_config(app.config))
    from reseller import registry

    registry.init_app(app)
    from reseller.dns import settings as dns_settings

    dns_settings.init_app(app)


def _register_tasks() -> None:
    """Import task modules so their ``@periodic`` jobs are registered."""
    import reseller.accounts.tasks  # noqa: F401
    import reseller.events.tasks  # noqa: F401
    import whitelabel.tasks  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from flask import Blueprint

    from reseller import billing, branding
    from reseller.accounts import api as accounts_api
    from reseller.accounts import oauth
    from reseller.api import idempotency, ratelimit
    from reseller.api import views as api_views
    from reseller.api.helpers import (
        DatabaseIdConverter,
        check_json_body,
        reject_nul_characters,
        reject_nul_in_fields,
    )
    from reseller.billing import invoice_notices, invoices_api, invoices_views, invoicing  # noqa: F401
    from reseller.catalog import api as catalog_api
    from reseller.catalog import views as catalog_views
    from reseller.client import views as client_views
    from reseller.console import views as console_views
    from reseller.dns import api as dns_api
    from reseller.dns import demo as dns_demo
    from reseller.dns import views as dns_views
    from reseller.domains import api as domains_api
    from reseller.domains import demo as domains_demo
    from reseller.domains import tasks as domains_tasks  # noqa: F401  (periodic jobs)
    from reseller.domains import views as domains_views
    from reseller.events import api as events_api
    from reseller.forwarding import api as forwarding_api
    from reseller.onboarding import api as onboarding_api
    from reseller.onboarding import views as onboarding_views
    from reseller.rdap import views as rdap_views
    from reseller.webhooks import api as webhooks_api
    from reseller.webhooks import views as webhooks_views
    from reseller.whmcs import views as whmcs_views
    from whitelabel import views as whitelabel_views

    app.url_map.converters["int"] = DatabaseIdConverter  # before any route is added
    app.before_request(reject_nul_in_fields)

    api = Blueprint("api", __name__, url_prefix="/api/v1")
    for bp in (api_views.bp, accounts_api.bp, onboarding_api.bp, catalog_api.bp,
               domains_api.bp, dns_api.bp, forwarding_api.bp, events_api.bp, webhooks_api.bp,
               invoices_api.bp):
        api.register_blueprint(bp)
    api.before_request(reject_nul_characters)
    api.before_request(check_json_body)  # before idempotency fingerprints the body
    branding.init_app(app, api)
    billing.init_app(app, api)
    idempotency.init_blueprint(api)
    ratelimit.init_app(app)
    app.register_blueprint(api)
    csrf.exempt(api)
    # Flask-WTF looks up ``request.blueprint`` ("api.domains_api"), so each nested API
    # blueprint needs its own exemption (bearer tokens, no cookies: CSRF does not apply).
    for name, blueprint in list(app.blueprints.items()):
        if name.startswith("api."):
            csrf.exempt(blueprint)
    app.register_blueprint(forwarding_api.server)  # first: forwarded hosts get redirects
    app.register_blueprint(api_views.root)
    app.register_blueprint(client_views.bp)
    app.register_blueprint(webhooks_views.bp)
    app.register_blueprint(whmcs_views.bp)
    csrf.exempt(whmcs_views.bp)
    app.register_blueprint(onboarding_views.bp)
    app.register_blueprint(console_views.bp)
    app.register_blueprint(domains_views.bp)
    app.register_blueprint(catalog_views.bp)
    domains_demo.register_hooks()
    dns_demo.register_hooks()  # after the domains: the demo zone is a held domain's
    app.register_blueprint(whitelabel_views.dev)
    app.register_blueprint(dns_api.httpreq)
    app.register_blueprint(dns_views.bp)
    app.register_blueprint(rdap_views.bp)
    csrf.exempt(dns_api.httpreq)
    app.register_blueprint(invoices_views.bp)
    invoicing.init_app(app)
    oauth.init_app(app)


def wants_problem() -> bool:
    return request.path.startswith(MACHINE_PREFIXES)


def _register_errors(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        if wants_problem():
            return problem_response(error.to_problem(), headers=error.headers())
        return render_template("error.html", error=error), error.status, error.headers()

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_template("error.html", error=error, csrf=True), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if wants_problem():
            code = (error.name or "error").lower().replace(" ", "_")
            return problem_response({
                "type": "about:blank", "title": error.name, "status": error.code,
                "detail": error.description, "code": code,
            }, headers={"Allow": error.get_response().headers["Allow"]} if error.code == 405 else None)
        return render_template("error.html", error=error), error.code

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        if app.config.get("RAISE_UNEXPECTED"):
            raise error  # tests: show the real traceback instead of a 500 page
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_problem():
            return problem_response({
                "type": "about:blank", "title": "Internal error", "status": 500,
                "detail": "Something went wrong on our side; it has been logged.",
                "code": "internal_error",
            })
        return render_template("error.html", error=None), 500


def _select_locale() -> str:
    supported = ("fi", "sv", "en")
    if not has_request_context():
        return "en"
    chosen = request.args.get("lang")
    if chosen in supported:
        session["lang"] = chosen
        return chosen
    user = g.get("user")
    if user is not None and user.language in supported:
        return user.language
    if session.get("lang") in supported:
        return session["lang"]
    return request.accept_languages.best_match(supported) or "en"


def _register_template_helpers(app: Flask) -> None:
    from reseller.core import formatting

    app.jinja_env.filters["money"] = formatting.format_money
    app.jinja_env.filters["percent"] = formatting.format_percent
    app.jinja_env.filters["datetime"] = formatting.format_datetime_local
    app.jinja_env.filters["date"] = formatting.format_date_local
    app.jinja_env.add_extension("jinja2.ext.i18n")
