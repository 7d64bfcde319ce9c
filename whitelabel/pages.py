"""Reseller-branded pages for registrants, served on the reseller's link host.

The Host header picks the reseller (its sender domain is the link host); on the neutral
link host the token does. Nothing else is served on a reseller's link host, so a
registrant never reaches the platform's own pages there. Invalid, expired or used links
get a clear page, never an error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, redirect, render_template, request
from flask_babel import force_locale

from reseller.core.db import unit_of_work
from reseller.core.errors import NotFound
from reseller.core.formatting import format_date_local
from whitelabel import actions, brands, contact, sender
from whitelabel.contact import CONTACT_FIELDS
from whitelabel.models import LinkToken
from whitelabel.settings import current
from whitelabel.tokens import TokenProblem

bp = Blueprint("whitelabel_pages", __name__, url_prefix="/go")
LANGUAGES = ("fi", "sv", "en")
PURPOSES = {"confirm-email": "confirm_email", "transfer-in": "transfer_in",
            "transfer-out": "transfer_out", "renewal": "renewal", "owner-change": "owner_change"}
TEMPLATES = {"confirm_email": "confirm.html", "transfer_in": "transfer.html",
             "transfer_out": "transfer.html", "renewal": "renewal.html",
             "owner_change": "owner_change.html"}


def _host_reseller() -> int | None:
    """The reseller whose link host this request came to (None on other hosts)."""
    found = sender.find_by_host(request.host)
    return found.reseller_id if found is not None else None


@bp.before_app_request
def _only_pages_on_link_hosts():
    """On a reseller's link host serve only these pages: a registrant must never reach
    the platform there (not even its error pages)."""
    host = request.host.split(":")[0].lower()
    if host in ("localhost", "127.0.0.1"):
        return None
    if host == current().base_url.split("://")[-1].split(":")[0].split("/")[0]:
        return None
    if (request.endpoint or "").startswith("whitelabel_pages."):
        return None
    if _host_reseller() is not None or host == current().neutral_link_host.split(":")[0]:
        return _not_found()  # the neutral link host carries no brand at all
    return None


def _not_found():
    """A bare 404: no page of the platform (and no brand) on a registrant's link host."""
    return "Not found", 404, {"Content-Type": "text/plain; charset=utf-8"}


def _render(template: str, *, reseller_id: int, language: str | None, status: int = 200,
            **context: Any):
    brand = brands.get_brand(reseller_id=reseller_id)
    chosen = request.args.get("lang")
    language = chosen if chosen in LANGUAGES else (language or brand.default_language)
    with force_locale(language):
        body = render_template(f"whitelabel/pages/{template}", brand=brand,
                               language=language, **context)
    return body, status


def _problem_page(problem: TokenProblem, row: LinkToken | None, reseller_id: int | None):
    owner = row.reseller_id if row is not None else reseller_id
    if owner is None:  # an invalid token on a neutral host: no brand to show
        with force_locale(request.args.get("lang") if request.args.get("lang") in LANGUAGES
                          else request.accept_languages.best_match(LANGUAGES) or "en"):
            return render_template("whitelabel/pages/invalid.html", brand=None,
                                   problem=problem.value, language=None), 404
    status = 404 if problem is TokenProblem.INVALID else 410
    return _render("invalid.html", reseller_id=owner, problem=problem.value, status=status,
                   language=row.language if row is not None else None)


@bp.route("/<any('confirm-email', 'transfer-in', 'transfer-out', renewal, 'owner-change'):kind>"
          "/<token>",
          methods=["GET", "POST"])
def link(kind: str, token: str):
    purpose = PURPOSES[kind]
    settings = current()
    host_reseller = _host_reseller()
    with unit_of_work():
        row, problem = actions.open_link(token, purpose=purpose, secret_key=settings.secret_key,
                                         reseller_id=host_reseller,
                                         for_update=request.method == "POST")
        if problem is not None:
            return _problem_page(problem, row, host_reseller)
        done = None
        if request.method == "POST" and purpose == "confirm_email":
            actions.confirm_email(row)
            done = "confirmed"
        elif request.method == "POST" and purpose in ("transfer_in", "transfer_out"):
            decision = request.form.get("decision")
            if decision in actions.DECISIONS:
                actions.decide_transfer(row, decision=decision)
                done = decision
        elif request.method == "POST" and purpose == "owner_change":
            decision = request.form.get("decision")
            if decision in actions.DECISIONS:
                actions.decide_owner_change(row, decision=decision,
                                            lock_opt_out=bool(request.form.get("lock_opt_out")))
                done = decision
        return _render(TEMPLATES[purpose], reseller_id=row.reseller_id, language=row.language,
                       row=row, data=row.data, done=done, purpose=purpose)


@bp.route("/contact/<int:reseller_id>/<name>", methods=["GET", "POST"])
def contact_registrant(reseller_id: int, name: str):
    """The registrant's contact form RDAP and WHOIS point to when privacy hides the
    address (ICANN Registration Data Policy): the message is forwarded by email, the
    address never shown. The same answer whether or not the name is registered here, and
    a few messages per sender and per name a day at most."""
    host_reseller = _host_reseller()  # on a reseller's link host, only its own names
    if host_reseller not in (None, reseller_id):
        return _not_found()
    try:
        brands.reseller_facts(reseller_id)
    except NotFound:
        return _not_found()
    name = name.strip().rstrip(".").lower()[:253]
    form = {key: request.form.get(key, "").strip() for key in CONTACT_FIELDS}
    errors: dict[str, Any] = {}
    sent, status = False, 200
    if request.method == "POST":
        errors = contact.form_errors(form)
        if not errors:
            with unit_of_work():
                sent = contact.submit(reseller_id=reseller_id, domain=name, form=form,
                                      sender_address=request.remote_addr or "")
            if not sent:
                errors, status = {"form": "limited"}, 429
        else:
            status = 422
    return _render("contact.html", reseller_id=reseller_id, language=None, status=status,
                   domain=name, form=form if not sent else {}, errors=errors, sent=sent)


@bp.get("/help")
def help_page():
    reseller_id = _host_reseller()
    if reseller_id is None:
        return _not_found()
    return _render("help.html", reseller_id=reseller_id, language=None)


@bp.get("/logo/<int:reseller_id>")
def logo(reseller_id: int):
    """The brand's logo, so email and pages never link anywhere but the link host."""
    host_reseller = _host_reseller()
    brand = brands.find_brand(reseller_id)
    if brand is None or not brand.logo_url or host_reseller not in (None, reseller_id):
        return _not_found()
    return redirect(brand.logo_url)


@bp.app_template_filter("isodate")
def _isodate(value: str) -> str:
    """An ISO date/time string from a token's data, as a date in the page's language."""
    try:
        return format_date_local(datetime.fromisoformat(value))
    except (TypeError, ValueError):
        return str(value)
