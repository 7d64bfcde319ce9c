"""Operator console pages. Staff only; every action is recorded with who and when."""

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from reseller.accounts import services as accounts
from reseller.console import setup
from reseller.core.db import unit_of_work
from reseller.core.errors import DomainError
from reseller.core.web.session import operator_required
from reseller.dns import services as dns
from reseller.domains import services as domains
from reseller.onboarding import services as onboarding

bp = Blueprint("console", __name__, url_prefix="/console")


@bp.get("/")
@operator_required
def index():
    status = request.args.get("status", "pending")
    applications = onboarding.list_applications(status=status or None)
    missing = sum(not item.done for item in _checklist())
    return render_template("console/applications.html", applications=applications,
                           status=status, setup_missing=missing)


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
                onboarding.reject_application(application_id=application_id,
                                              staff_id=g.user.id, note=note)
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
