"""Operator console pages. Staff only; every action is recorded with who and when."""

from datetime import timedelta

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from reseller.accounts import services as accounts
from reseller.console import setup
from reseller.core import pending
from reseller.core.db import unit_of_work
from reseller.core.errors import DomainError
from reseller.core.web import idempotency
from reseller.core.web.session import operator_required
from reseller.dns import services as dns
from reseller.domains import services as domains
from reseller.onboarding import services as onboarding
from wallet import reports as wallet_reports

bp = Blueprint("console", __name__, url_prefix="/console")


@bp.get("/")
@operator_required
def index():
    status = request.args.get("status", "pending")
    applications = onboarding.list_applications(status=status or None)
    missing = sum(not item.done for item in _checklist())
    return render_template("console/applications.html", applications=applications,
                           status=status, setup_missing=missing,
                           duplicates=onboarding.duplicates(applications))


@bp.get("/applications/<int:application_id>")
@operator_required
def application(application_id: int):
    """One application in full, with whoever else has its business ID."""
    found = onboarding.get_application(application_id)
    return render_template("console/application.html", application=found,
                           duplicates=onboarding.duplicates([found]).get(found.id, []))


def _checklist() -> list[setup.Item]:
    registry = current_app.extensions["tunnus.registry"]
    return setup.checklist(config=current_app.config,
                           registry_tlds=getattr(registry, "by_tld", {}).keys())


@bp.get("/setup")
@operator_required
def setup_checklist():
    """What is still missing before the first reseller can buy."""
    items = _checklist()
    return render_template("console/setup.html", items=items,
                           missing=sum(not item.done for item in items))


@bp.post("/applications/<int:application_id>/<any(approve, reject):decision>")
@operator_required
def decide(application_id: int, decision: str):
    note = request.form.get("note", "").strip()
    try:
        with unit_of_work():
            if decision == "approve":
                _reseller, owner = onboarding.approve_application(
                    application_id=application_id, staff_id=g.user.id, note=note or None)
                accounts.send_invitation(owner)
            else:
                if not note:
                    raise DomainError(_("Give a reason for the rejection."))
                rejected = onboarding.reject_application(application_id=application_id,
                                                         staff_id=g.user.id, note=note)
                onboarding.send_rejection(rejected)
    except DomainError as refused:
        flash(str(refused.detail or refused.title), "error")
    else:
        flash(_("Application approved.") if decision == "approve" else _("Application rejected."))
    return redirect(url_for("console.index"))


@bp.get("/resellers")
@operator_required
def resellers():
    return render_template("console/resellers.html", resellers=accounts.list_resellers())


@bp.get("/dns")
@operator_required
def dns_zones():
    """Zones the ownership rules took off the server (or never proven since), and why."""
    return render_template("console/dns_zones.html", rows=dns.ownership_report())


@bp.get("/registry")
@operator_required
def registry_sync():
    """What the registry sync found different from our records, newest first."""
    return render_template("console/registry_sync.html",
                           rows=domains.recent_registry_changes(limit=200))


@bp.get("/security")
@operator_required
def security():
    """Credential locks (too many failed sign-ins, codes or client secrets), newest first."""
    return render_template("console/security.html", events=accounts.recent_locks(limit=200))


STUCK_AFTER = timedelta(minutes=30)


@bp.get("/attention")
@operator_required
def attention():
    """What needs a human: orders the registry has not answered for half an hour, orders
    done but not charged, holds kept past their expiry, jobs that failed every attempt,
    Idempotency-Keys left without an answer."""
    return render_template(
        "console/attention.html", stuck=domains.open_orders(older_than=STUCK_AFTER),
        unpaid=domains.unpaid_orders(), kept=wallet_reports.kept_holds(),
        dead=pending.dead_jobs(), keys=idempotency.unanswered_keys())


@bp.post("/attention/orders/<int:order_id>/recover")
@operator_required
def recover_order(order_id: int):
    with unit_of_work():
        domains.ask_registry_again(order_id)
    flash(_("Asked the registry about order %(id)s.", id=order_id))
    return redirect(url_for("console.attention"))


@bp.post("/attention/jobs/<job_id>/<any(retry, discard):action>")
@operator_required
def job_action(job_id: str, action: str):
    with unit_of_work():
        done = (pending.retry_dead if action == "retry" else pending.discard_dead)(job_id)
    flash(_("Done.") if done else _("Nothing to do: it changed meanwhile."))
    return redirect(url_for("console.attention"))


@bp.post("/attention/keys/<int:record_id>/forget")
@operator_required
def forget_key(record_id: int):
    with unit_of_work():
        done = idempotency.forget_key(record_id)
    flash(_("Done.") if done else _("Nothing to do: it changed meanwhile."))
    return redirect(url_for("console.attention"))
