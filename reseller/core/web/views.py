"""API root: the OpenAPI document and its readable page; ``/healthz`` for load balancers."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, jsonify, render_template

from reseller.core.errors import problem_kinds
from reseller.core.extensions import db
from reseller.core.web.openapi import build_spec, doc

bp = Blueprint("api_root", __name__)
root = Blueprint("root", __name__)


@bp.get("/openapi.json")
def openapi():
    spec = current_app.extensions.get("tunnus.openapi")
    if spec is None:
        spec = current_app.extensions["tunnus.openapi"] = build_spec(current_app)
    return jsonify(spec)


@bp.get("/docs")
def docs():
    spec = build_spec(current_app)
    return render_template("api/docs.html", spec=spec)


@root.get("/problems/<slug>")
def problem(slug: str):
    """What a problem ``type`` names: its code, status and meaning (RFC 9457 §3.1.1)."""
    kind = problem_kinds().get(slug.replace("-", "_"))
    if kind is None:
        abort(404)
    return render_template("api/problem.html", kind=kind)


@root.get("/healthz")
def healthz():
    """Database and job queue reachability, for probes."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except sa.exc.SQLAlchemyError as error:
        checks["database"] = f"error: {type(error).__name__}"
    runner = current_app.extensions["tunnus.jobs"]
    connection = getattr(runner, "connection", None)
    if connection is not None:
        try:
            connection.ping()
            checks["queue"] = "ok"
        except Exception as error:  # redis errors of any kind mean "down"
            checks["queue"] = f"error: {type(error).__name__}"
    else:
        checks["queue"] = f"ok ({current_app.config['JOBS_MODE']})"
    healthy = all(value.startswith("ok") for value in checks.values())
    return jsonify({"status": "ok" if healthy else "degraded", **checks}), 200 if healthy else 503


__all__ = ["bp", "root", "doc"]
