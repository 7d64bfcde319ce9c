"""The API and client-area shell: the ``/api/v1`` parent blueprint, bearer auth and scope
guards, problem+json errors, request checks, idempotency keys, rate limits, OpenAPI, and
who is signed in to the client area.

``init_app`` runs before the features: each feature's ``init_app`` nests its API
blueprints in the parent with ``add_api``; ``register_api`` then registers the parent
(Flask takes no children once a blueprint is registered). The shell imports nothing
outside ``reseller.core``: accounts hands over the token resolver and the session's user
loader, the catalogue the rate-limit tier lookup.
"""

from __future__ import annotations

from flask import Blueprint, Flask, g, request

from reseller.core.db import start_shared_reads, stop_shared_reads
from reseller.core.extensions import csrf
from reseller.core.web import errors, idempotency, ratelimit, session, views
from reseller.core.web.helpers import (
    DatabaseIdConverter,
    check_json_body,
    reject_nul_characters,
    reject_nul_in_fields,
)

_API = "tunnus.api"


def _share_reads() -> None:
    """A GET shows what it reads: what several parts of one page ask (the payment mode,
    the vanity nameservers, the sender domain, the brand …) is read once (``memo``)."""
    if request.method in ("GET", "HEAD") and start_shared_reads():
        g.shares_reads = True


def _stop_sharing_reads(_error: BaseException | None = None) -> None:
    if g.pop("shares_reads", False):
        stop_shared_reads()


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = DatabaseIdConverter  # before any route is added
    app.before_request_funcs.setdefault(None, []).insert(0, _share_reads)
    app.teardown_request(_stop_sharing_reads)
    app.before_request(reject_nul_in_fields)
    api = Blueprint("api", __name__, url_prefix="/api/v1")
    api.register_blueprint(views.bp)
    api.before_request(reject_nul_characters)
    api.before_request(check_json_body)  # before idempotency fingerprints the body
    api.before_request(idempotency.before_post)
    idempotency.listen_for_commits()
    api.after_request(idempotency.after_post)
    app.extensions[_API] = api
    ratelimit.init_app(app)
    session.init_app(app)
    errors.init_app(app)
    app.register_blueprint(views.root)


def add_api(app: Flask, *blueprints: Blueprint) -> None:
    """Nest a feature's API blueprints under ``/api/v1`` (endpoints ``api.<name>.*``)."""
    for blueprint in blueprints:
        app.extensions[_API].register_blueprint(blueprint)


def register_api(app: Flask) -> None:
    """After every feature's ``init_app``: register the ``/api/v1`` parent."""
    api = app.extensions[_API]
    app.register_blueprint(api)
    csrf.exempt(api)
    # Flask-WTF looks up ``request.blueprint`` ("api.domains_api"), so each nested API
    # blueprint needs its own exemption (bearer tokens, no cookies: CSRF does not apply).
    for name, blueprint in list(app.blueprints.items()):
        if name.startswith("api."):
            csrf.exempt(blueprint)
