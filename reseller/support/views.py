"""Client-area pages: the support plan (preview, then confirm a change), tickets (open one
with attachments, the conversation, reply, mark solved, accept a quote), downloads."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from reseller.core.db import unit_of_work
from reseller.core.errors import DomainError, ValidationFailed, translate_messages
from reseller.core.permissions import Permission
from reseller.core.web.forms import refusal_text
from reseller.core.web.session import login_required, permission_required, user_can
from reseller.support import present, services, settings
from reseller.support.models import CATEGORIES, CYCLES, PRIORITIES

bp = Blueprint("support", __name__, url_prefix="/support")


def plan_summary_for_page() -> dict[str, Any] | None:
    """For the billing page's plan card (a template global; None when not a reseller)."""
    user = g.get("user")
    if user is None or user.is_operator or user.reseller_id is None:
        return None
    return services.plan_summary(reseller_id=user.reseller_id, with_hours=False)


# -- the plan --------------------------------------------------------------------------------

@bp.route("/plan", methods=["GET", "POST"])
@permission_required(Permission.VIEW_ACCOUNT)
def plan():
    rid = g.user.reseller_id
    error = preview = None
    may_change = user_can(Permission.MANAGE_BILLING)
    if request.method == "POST":
        wanted = request.form.get("plan", ""), request.form.get("cycle", "monthly")
        try:
            if not may_change:
                raise services.PlanChangeForbidden()
            if wanted[1] not in CYCLES:
                raise ValidationFailed({"cycle": [_("Choose monthly or yearly.")]})
            if request.form.get("action") == "confirm":
                with unit_of_work():
                    services.change_plan(
                        reseller_id=rid, plan=wanted[0], cycle=wanted[1],
                        idempotency_key=request.form.get("key") or f"page-{uuid.uuid4()}",
                        actor_role=g.user.role, actor=g.user.email)
                flash(_("Your support plan was changed."))
                return redirect(url_for("support.plan"))
            preview = services.preview_change(reseller_id=rid, plan=wanted[0], cycle=wanted[1])
        except DomainError as refused:
            error = refusal_text(refused)
    return render_template(
        "support/plan.html", current=present.subscription(rid), preview=preview,
        key=f"page-{uuid.uuid4()}", error=error, may_change=may_change,
        sees_money=user_can(Permission.VIEW_BILLING),
        history=services.changes(reseller_id=rid) if user_can(Permission.VIEW_BILLING) else [],
    ), 422 if error else 200


# -- tickets ---------------------------------------------------------------------------------

@bp.get("/tickets")
@login_required
def tickets():
    status = request.args.get("status") or None
    page = services.tickets_page(reseller_id=g.user.reseller_id, limit=50,
                                 cursor=request.args.get("cursor") or None,
                                 status=status if status in services.STATUSES else None)
    return render_template("support/tickets.html", tickets=page.items,
                           next_cursor=page.next_cursor)


@bp.route("/tickets/new", methods=["GET", "POST"])
@login_required
def new_ticket():
    errors: dict[str, list[str]] = {}
    form = request.form
    if request.method == "POST":
        subject = form.get("subject", "").strip()
        if not 3 <= len(subject) <= 200:
            errors["subject"] = [_("Write a subject of 3 to 200 characters.")]
        if not errors:
            try:
                with unit_of_work():
                    ticket = services.open_ticket(
                        reseller_id=g.user.reseller_id, author=present.user_author(g.user),
                        subject=" ".join(subject.split()), category=form.get("category", ""),
                        priority=form.get("priority", "normal"), body=form.get("body", ""),
                        domain=form.get("domain", "").strip()[:253] or None,
                        uploads=present.form_uploads(request.files.getlist("attachments")),
                        settings=settings.current())
                flash(_("Your ticket was opened."))
                return redirect(url_for("support.ticket", ticket_id=ticket.id))
            except ValidationFailed as failed:
                errors = translate_messages(failed.errors)
            except DomainError as refused:
                errors = {"attachments": [refusal_text(refused)]}
    return render_template("support/new.html", form=form, errors=errors,
                           categories=CATEGORIES, priorities=PRIORITIES,
                           limits=settings.current()), 422 if errors else 200


@bp.route("/tickets/<int:ticket_id>", methods=["GET", "POST"])
@login_required
def ticket(ticket_id: int):
    rid = g.user.reseller_id
    # the page shows the conversation: read it with the ticket
    found = services.get_ticket(reseller_id=rid, ticket_id=ticket_id,
                                with_messages=request.method == "GET")
    error = None
    if request.method == "POST":
        try:
            with unit_of_work():
                _ticket_action(found)
            return redirect(url_for("support.ticket", ticket_id=ticket_id))
        except DomainError as refused:
            error = refusal_text(refused)
        found = services.get_ticket(reseller_id=rid, ticket_id=ticket_id)
    return render_template("support/ticket.html", ticket=found,
                           messages=services.public_messages(found),
                           quotes=services.quotes(found), error=error,
                           may_decide=user_can(Permission.MANAGE_BILLING),
                           limits=settings.current()), 422 if error else 200


def _ticket_action(found: Any) -> None:
    action = request.form.get("action", "reply")
    if action == "reply":
        services.reply(ticket=found, author=present.user_author(g.user),
                       body=request.form.get("body", ""),
                       uploads=present.form_uploads(request.files.getlist("attachments")),
                       settings=settings.current())
        flash(_("Your reply was sent."))
    elif action in ("solved", "closed"):
        services.set_status(ticket=found, status=action, by_staff=False,
                            settings=settings.current())
        flash(_("The ticket was updated."))
    elif action in ("accept", "decline"):
        if not user_can(Permission.MANAGE_BILLING):
            raise services.PlanChangeForbidden()
        services.decide_quote(reseller_id=g.user.reseller_id, ticket_id=found.id,
                              quote_id=request.form.get("quote_id", 0, type=int),
                              accept=action == "accept", actor=g.user.email)
        flash(_("Quote accepted: the work is charged on this month's invoice.")
              if action == "accept" else _("Quote declined."))
    else:
        abort(400)


@bp.get("/tickets/<int:ticket_id>/attachments/<int:attachment_id>")
@login_required
def attachment(ticket_id: int, attachment_id: int):
    found = services.get_attachment(reseller_id=g.user.reseller_id, ticket_id=ticket_id,
                                    attachment_id=attachment_id)
    return present.download(found)
