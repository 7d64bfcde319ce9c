"""Operator console pages: the support queue by SLA due time, a ticket's full view (reply,
internal note, status, assignee, priority, time, quotes), the plans and their prices
(list prices and per-reseller quotes, effective-dated), and the monthly SLA report."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from reseller.core.db import unit_of_work
from reseller.core.directory import reseller_names
from reseller.core.errors import DomainError, ValidationFailed, translate_messages
from reseller.core.schemas import amount_from_text
from reseller.core.web.forms import refusal_text
from reseller.core.web.session import operator_required
from reseller.support import present, services, settings, work
from reseller.support.models import CHANNELS, CYCLES, LEVELS, PRIORITIES, STATUSES

bp = Blueprint("support_console", __name__, url_prefix="/console/support")


def _staff() -> list[Any]:
    return services.staff_members()


@bp.get("")
@operator_required
def queue():
    mine = request.args.get("mine") == "1"
    found = services.queue(assignee_id=g.user.id if mine else None)
    return render_template("support/console_queue.html", tickets=found, mine=mine,
                           names=reseller_names({t.reseller_id for t in found}),
                           staff={user.id: user for user in _staff()})


@bp.route("/tickets/<int:ticket_id>", methods=["GET", "POST"])
@operator_required
def ticket(ticket_id: int):
    found = services.get_ticket_for_staff(ticket_id, with_messages=request.method == "GET")
    error = None
    if request.method == "POST":
        try:
            with unit_of_work():
                _staff_action(found)
            return redirect(url_for("support_console.ticket", ticket_id=ticket_id))
        except DomainError as refused:
            error = refusal_text(refused)
        found = services.get_ticket_for_staff(ticket_id)
    return render_template(
        "support/console_ticket.html", ticket=found, error=error, statuses=STATUSES,
        priorities=PRIORITIES, staff=_staff(), quotes=services.quotes(found),
        entries=services.time_entries(found), usage=services.usage(reseller_id=found.reseller_id),
        company=reseller_names([found.reseller_id]).get(found.reseller_id, ""),
        limits=settings.current()), 422 if error else 200


def _staff_action(found: Any) -> None:
    form, action = request.form, request.form.get("action", "")
    author = present.user_author(g.user)
    if action in ("reply", "note"):
        services.reply(ticket=found, author=author, body=form.get("body", ""),
                       internal=action == "note", status=form.get("status") or None,
                       uploads=present.form_uploads(request.files.getlist("attachments")),
                       settings=settings.current())
        flash(_("Internal note added.") if action == "note" else _("Reply sent."))
    elif action == "status":
        services.set_status(ticket=found, status=form.get("status", ""), by_staff=True,
                            settings=settings.current())
        flash(_("Status changed."))
    elif action == "assign":
        assignee = form.get("assignee_id", 0, type=int) or None
        if assignee is not None and assignee not in {user.id for user in _staff()}:
            raise ValidationFailed({"assignee_id": [_("Choose a member of staff.")]})
        services.assign(ticket_id=found.id, assignee_id=assignee)
        flash(_("Assignee changed."))
    elif action == "priority":
        services.set_priority(ticket_id=found.id, priority=form.get("priority", ""))
        flash(_("Priority changed."))
    elif action == "time":
        services.log_time(ticket_id=found.id, staff_id=g.user.id,
                          minutes=form.get("minutes", 0, type=int), note=form.get("note", ""),
                          quote_id=form.get("quote_id", 0, type=int) or None)
        flash(_("Time logged."))
    elif action == "quote":
        services.propose_quote(ticket_id=found.id, hours=_decimal(form.get("hours", ""), "hours"),
                               description=form.get("description", ""),
                               outside_scope=form.get("outside_scope") == "1")
        flash(_("Quote sent to the reseller for approval."))
    else:
        abort(400)


def _decimal(text: str, field: str) -> Decimal:
    value = amount_from_text(text or "")
    if value is None:
        raise ValidationFailed({field: [_("Give a number, e.g. 1.5.")]})
    return value


@bp.get("/tickets/<int:ticket_id>/attachments/<int:attachment_id>")
@operator_required
def attachment(ticket_id: int, attachment_id: int):
    return present.download(services.get_attachment(reseller_id=None, ticket_id=ticket_id,
                                                    attachment_id=attachment_id))


# -- plans -----------------------------------------------------------------------------------

@bp.route("/plans", methods=["GET", "POST"])
@operator_required
def plans():
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        code = request.form.get("code", "").strip().lower()
        if not code.isascii() or not code.replace("-", "").isalnum() or not 2 <= len(code) <= 30:
            errors["code"] = [_("Use 2-30 letters, digits or hyphens.")]
        else:
            try:
                with unit_of_work():
                    services.save_plan(code=code, **_plan_fields(request.form))
                flash(_("Plan saved."))
                return redirect(url_for("support_console.plan", code=code))
            except ValidationFailed as failed:
                errors = translate_messages(failed.errors)
    return render_template("support/console_plans.html", plans=services.list_plans(
        active_only=False), errors=errors, levels=LEVELS, form=request.form), \
        422 if errors else 200


def _plan_fields(form: Any) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    fields: dict[str, Any] = {"name": form.get("name", "").strip()[:100] or None,
                              "description": form.get("description", "").strip()[:2000]}
    if form.get("level") not in LEVELS:
        errors["level"] = [_("Choose core, pro or ultimate.")]
    fields["level"] = form.get("level")
    for key in ("included_hours", "hourly_rate", "hourly_rate_outside"):
        value = amount_from_text(form.get(key, "0") or "0")
        if value is None or value < 0:
            errors[key] = [_("Give a number, e.g. 1.5.")]
        fields[key] = value
    for key in ("first_response_hours", "next_response_hours"):
        raw = form.get(key, "")
        if not raw.isdigit() or not 1 <= int(raw) <= 720:
            errors[key] = [_("Whole hours from 1 to 720.")]
        fields[key] = int(raw) if raw.isdigit() else None
    fields["channels"] = [c for c in CHANNELS if c in form.getlist("channels")]
    for key in ("by_quote", "around_the_clock", "active"):
        fields[key] = form.get(key) == "1"
    for key in ("phone_number", "oncall_number"):
        fields[key] = form.get(key, "").strip()[:40] or None
    if errors:
        raise ValidationFailed(errors)
    return fields


@bp.route("/plans/<code>", methods=["GET", "POST"])
@operator_required
def plan(code: str):
    try:
        found = services.get_plan(code=code)
    except DomainError:
        abort(404)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            with unit_of_work():
                if request.form.get("action") == "price":
                    _save_price(found)
                    flash(_("Price saved."))
                else:
                    services.save_plan(code=code, **_plan_fields(request.form))
                    flash(_("Plan saved."))
            return redirect(url_for("support_console.plan", code=code))
        except ValidationFailed as failed:
            errors = translate_messages(failed.errors)
    history = services.price_history(plan_id=found.id)
    return render_template(
        "support/console_plan.html", plan=found, history=history, errors=errors,
        levels=LEVELS, channels=CHANNELS, cycles=CYCLES,
        names=reseller_names({p.reseller_id for p in history if p.reseller_id}),
        resellers=reseller_names(None), form=request.form), 422 if errors else 200


def _save_price(found: Any) -> None:
    form = request.form
    errors: dict[str, list[str]] = {}
    amount = amount_from_text(form.get("amount", ""))
    if amount is None or amount < 0:
        errors["amount"] = [_("Give the net price, e.g. 149.00.")]
    if form.get("cycle") not in CYCLES:
        errors["cycle"] = [_("Choose monthly or yearly.")]
    try:
        effective = date.fromisoformat(form.get("effective_from", ""))
    except ValueError:
        errors["effective_from"] = [_("Give the date as YYYY-MM-DD.")]
    reseller_id = form.get("reseller_id", 0, type=int) or None
    if reseller_id is not None and reseller_id not in reseller_names([reseller_id]):
        errors["reseller_id"] = [_("Choose a reseller.")]
    if errors:
        raise ValidationFailed(errors)
    try:
        services.set_price(plan_id=found.id, cycle=form["cycle"], amount=amount,
                           effective_from=effective, reseller_id=reseller_id)
    except InvalidOperation as error:  # pragma: no cover - amount_from_text checked it
        raise ValidationFailed({"amount": [str(error)]}) from error


@bp.get("/report")
@operator_required
def report():
    try:
        month = work.parse_month(request.args.get("month")) if request.args.get("month") \
            else work.current_month()
    except ValidationFailed:
        abort(400)
    rows = services.sla_report(month=month)
    return render_template("support/console_report.html", rows=rows, month=month,
                           names=reseller_names([row.reseller_id for row in rows]))
