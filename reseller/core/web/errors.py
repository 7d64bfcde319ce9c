"""Error answers: problem+json (RFC 9457) for machine paths, the error page for people."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from reseller.core.errors import DomainError, TemporarilyUnavailable, problem_response

log = logging.getLogger(__name__)

# Paths whose errors are problem+json rather than HTML pages.
MACHINE_PREFIXES = ("/api/", "/payments/webhooks/", "/oauth/", "/whmcs/", "/rdap/", "/acme/",
                    "/_dev/", "/healthz", "/readyz", "/metrics")


def wants_problem() -> bool:
    return request.path.startswith(MACHINE_PREFIXES)


def init_app(app: Flask) -> None:
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

    @app.errorhandler(sa.exc.OperationalError)
    @app.errorhandler(sa.exc.InterfaceError)
    @app.errorhandler(sa.exc.PendingRollbackError)
    def database_unavailable(error: Exception):
        """The database went away under the request (restart, failover, a cut
        connection): its transaction rolled back, so nothing was done; 503 with
        Retry-After tells the client to send the same request again, not a 500."""
        if app.config.get("RAISE_UNEXPECTED"):
            raise error
        log.warning("database unavailable on %s %s: %s", request.method, request.path,
                    str(error).splitlines()[0][:300])
        return domain_error(TemporarilyUnavailable())

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
