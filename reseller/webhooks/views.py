"""Client-area pages for webhooks: endpoints, the delivery log, replay and test sends."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from reseller.core.db import unit_of_work
from reseller.core.errors import DomainError, Forbidden
from reseller.core.permissions import Permission
from reseller.core.web.forms import field_errors, form_problem, refusal_text
from reseller.core.web.responses import secret_response
from reseller.core.web.session import permission_required, user_can
from reseller.events.services import EVENT_TYPES
from reseller.webhooks import (
    services,
    tasks,  # noqa: F401  (registers the event listener)
)
from reseller.webhooks.targets import WebhookUrlRefused

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def _guard_manage() -> None:
    if not user_can(Permission.MANAGE_CREDENTIALS):
        raise Forbidden(_("Only owners and admins manage webhooks."))


@bp.route("", methods=["GET", "POST"])
@permission_required(Permission.VIEW_ACCOUNT)
def index():
    error, errors = None, {}
    if request.method == "POST":
        try:
            _guard_manage()
            with unit_of_work():
                endpoint = services.create_endpoint(
                    reseller_id=g.user.reseller_id, url=request.form.get("url", ""),
                    events=request.form.getlist("events"),
                    description=request.form.get("description", "").strip()[:200],
                    allow_private=current_app.config["WEBHOOKS_ALLOW_PRIVATE"])
            flash(_("Webhook endpoint added."))
            return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint.id))
        except DomainError as refused:
            errors, error = field_errors(refused, known={"url", "description", "events"})
            if isinstance(refused, WebhookUrlRefused):  # the URL's own refusal, by the URL
                errors, error = {"url": [error]}, None
            error = error or form_problem()
    endpoints = services.list_endpoints(reseller_id=g.user.reseller_id)
    return render_template("webhooks/index.html", endpoints=endpoints, error=error,
                           errors=errors, form=request.form,
                           event_types=EVENT_TYPES), 422 if error else 200


@bp.route("/<int:endpoint_id>", methods=["GET", "POST"])
@permission_required(Permission.VIEW_ACCOUNT)
@secret_response  # shows the signing secret
def endpoint(endpoint_id: int):
    rid = g.user.reseller_id
    error = None
    if request.method == "POST":
        try:
            _guard_manage()
            with unit_of_work():
                target = _endpoint_action(rid, endpoint_id)
            if target:
                return redirect(target)
        except DomainError as refused:
            error = refusal_text(refused)
    found = services.get_endpoint(reseller_id=rid, endpoint_id=endpoint_id)
    page = services.deliveries_page(reseller_id=rid, endpoint_id=endpoint_id,
                                    cursor=request.args.get("cursor") or None, limit=50)
    return render_template("webhooks/endpoint.html", endpoint=found, deliveries=page.items,
                           next_cursor=page.next_cursor, error=error,
                           can_manage=user_can(Permission.MANAGE_CREDENTIALS)
                           ), 422 if error else 200


def _endpoint_action(rid: int, endpoint_id: int) -> str | None:
    action = request.form.get("action")
    if action == "replay":
        services.replay_delivery(reseller_id=rid,
                                 delivery_id=request.form.get("delivery_id", 0, type=int))
        flash(_("The message was queued again."))
    elif action == "test":
        services.send_test(reseller_id=rid, endpoint_id=endpoint_id)
        flash(_("A test message was queued."))
    elif action == "toggle":
        found = services.get_endpoint(reseller_id=rid, endpoint_id=endpoint_id)
        services.update_endpoint(reseller_id=rid, endpoint_id=endpoint_id, allow_private=True,
                                 active=not found.active)
        flash(_("Endpoint updated."))
    elif action == "rotate":
        services.rotate_secret(reseller_id=rid, endpoint_id=endpoint_id)
        flash(_("A new signing secret was created."))
    elif action == "delete":
        services.delete_endpoint(reseller_id=rid, endpoint_id=endpoint_id)
        flash(_("Webhook endpoint removed."))
        return url_for("webhooks.index")
    return url_for("webhooks.endpoint", endpoint_id=endpoint_id)


@bp.get("/deliveries/<int:delivery_id>")
@permission_required(Permission.VIEW_ACCOUNT)
def delivery(delivery_id: int):
    found = services.get_delivery(reseller_id=g.user.reseller_id, delivery_id=delivery_id)
    return render_template("webhooks/delivery.html", delivery=found,
                           can_manage=user_can(Permission.MANAGE_CREDENTIALS))
