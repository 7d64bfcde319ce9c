"""API root: the OpenAPI document and its readable page; probes (``/healthz`` liveness,
``/readyz`` readiness) and Prometheus ``/metrics``."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from reseller.core import readiness
from reseller.core.errors import problem_kinds
from reseller.core.extensions import db
from reseller.core.metrics import registry_of
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
    """Liveness: this process answers. Nothing it depends on is asked (a database or
    Redis outage must not get healthy web processes restarted); see ``/readyz``."""
    return jsonify({"status": "ok"})


@root.get("/readyz")
def readyz():
    """Readiness: the database, Redis, workers alive and consuming, the scheduler
    beating. 200 when every check passes, else 503; each check says what it saw."""
    checks = readiness.check_all(current_app)
    ready = all(check["ok"] for check in checks.values())
    return jsonify({"status": "ready" if ready else "not_ready", "checks": checks}), \
        200 if ready else 503


@root.get("/metrics")
def metrics():
    """Prometheus exposition. Needs ``Authorization: Bearer $METRICS_TOKEN``; without a
    token configured it is served only in sandbox mode (production: 404)."""
    token = current_app.config.get("METRICS_TOKEN") or ""
    if not token and not current_app.config.get("SANDBOX"):
        abort(404)
    given = request.headers.get("Authorization", "")
    if token and not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return Response("metrics need the bearer token\n", 401,
                        {"WWW-Authenticate": 'Bearer realm="metrics"'})
    try:
        body = generate_latest(registry_of(current_app))
    finally:
        db.session.rollback()
    return Response(body, 200, {"Content-Type": CONTENT_TYPE_LATEST})


__all__ = ["bp", "root", "doc"]
