"""Client-area pages for trademark protection (the marks, adding one with its price
shown, a mark's matches and the decision on each, cancelling) and the operator console's
price page (effective-dated, with history)."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.errors import DomainError, Forbidden, ValidationFailed, translate_messages
from reseller.core.extensions import db
from reseller.core.permissions import Permission
from reseller.core.schemas import amount_from_text
from reseller.core.web.forms import refusal_text
from reseller.core.web.session import operator_required, permission_required, user_can
from reseller.domains.models import Contact
from reseller.trademarks import billing, services
from reseller.trademarks.errors import TrademarkPriceMissing
from reseller.trademarks.models import (
    ACTIONS,
    BILLING_PERIODS,
    LANGUAGES,
    MATCH_STATES,
    PRICE_LISTS,
    Trademark,
)

bp = Blueprint("trademarks", __name__)
VIEW = permission_required(Permission.VIEW_DOMAINS)


def _rid() -> int:
    return g.user.reseller_id


def _guard_manage() -> None:
    if not user_can(Permission.MANAGE_DOMAINS):
        raise Forbidden(_("Your role cannot change trademark protection."))


def _contacts() -> list[Contact]:
    return list(db.session.scalars(sa.select(Contact).where(Contact.reseller_id == _rid())
                                   .order_by(Contact.name)))


def _prices() -> dict[str, Any]:
    found = {}
    for period in BILLING_PERIODS:
        try:
            found[period] = billing.quote(reseller_id=_rid(), billing_period=period)
        except TrademarkPriceMissing:
            found[period] = None
    return found


def _new_mark(form: Any) -> Any:
    contact = form.get("contact", "")
    return services.add_trademark(
        reseller_id=_rid(), mark=form.get("mark", "")[:100], holder=form.get("holder", "")[:255],
        contact=int(contact) if contact.isdigit() else None,
        registration_number=form.get("registration_number", "")[:60] or None,
        jurisdiction=form.get("jurisdiction", "")[:60] or None,
        languages=[x for x in form.getlist("languages") if x in LANGUAGES],
        billing_period=form.get("billing_period") if form.get("billing_period") in
        BILLING_PERIODS else "year",
        variants=[v[:63] for v in form.get("variants", "").replace(",", " ").split()][:10])


@bp.route("/trademarks", methods=["GET", "POST"])
@VIEW
def index():
    error = None
    if request.method == "POST":
        try:
            _guard_manage()
            with unit_of_work():
                mark = _new_mark(request.form)
            flash(_("%(mark)s is now protected.", mark=mark.mark))
            return redirect(url_for("trademarks.detail", trademark_id=mark.id))
        except DomainError as refused:
            error = refusal_text(refused)
    marks = list(db.session.scalars(services.list_trademarks(reseller_id=_rid())
                                    .order_by(sa.desc(Trademark.id))))
    counts = services.counts_by_state(reseller_id=_rid(), trademark_ids=[m.id for m in marks])
    return render_template("trademarks/index.html", marks=marks, counts=counts, error=error,
                           contacts=_contacts(), prices=_prices(), alert_languages=LANGUAGES,
                           form=request.form), 422 if error else 200


@bp.route("/trademarks/<int:trademark_id>", methods=["GET", "POST"])
@VIEW
def detail(trademark_id: int):
    error = None
    if request.method == "POST":
        try:
            _guard_manage()
            with unit_of_work():
                _act(trademark_id, request.form)
            return redirect(url_for("trademarks.detail", trademark_id=trademark_id,
                                    state=request.args.get("state") or None))
        except DomainError as refused:
            error = refusal_text(refused)
    mark = services.get_trademark(reseller_id=_rid(), trademark_id=trademark_id)
    state = request.args.get("state") if request.args.get("state") in MATCH_STATES else None
    page = services.matches_page(reseller_id=_rid(), trademark_id=trademark_id,
                                 cursor=request.args.get("cursor") or None, limit=100,
                                 state=state)
    contact = db.session.get(Contact, mark.contact_id) if mark.contact_id else None
    return render_template("trademarks/detail.html", mark=mark, page=page, state=state,
                           states=MATCH_STATES, actions=ACTIONS, contact=contact,
                           price=services.price_of(mark), error=error), 422 if error else 200


def _act(trademark_id: int, form: Any) -> None:
    action = form.get("do")
    if action == "cancel":
        services.cancel_trademark(reseller_id=_rid(), trademark_id=trademark_id)
        flash(_("The protection ends at the end of the paid period."))
    elif action == "resume":
        services.update_trademark(reseller_id=_rid(), trademark_id=trademark_id,
                                  cancel_at_period_end=False)
        flash(_("The protection continues."))
    elif action == "match":
        match_id = form.get("match_id", "")
        services.set_match_state(
            reseller_id=_rid(), trademark_id=trademark_id,
            match_id=int(match_id) if match_id.isdigit() else 0,
            state=form.get("state", ""), action=form.get("action") or None,
            note=form.get("note", "")[:1000] if form.get("note") is not None else None)
        flash(_("Match updated."))


# -- the operator's prices --------------------------------------------------------------------

console = Blueprint("trademark_console", __name__, url_prefix="/console")


@console.route("/trademark-prices", methods=["GET", "POST"])
@operator_required
def prices():
    errors: dict[str, list[str]] = {}
    form = request.form
    if request.method == "POST":
        errors = _save_price(form)
        if not errors:
            return redirect(url_for("trademark_console.prices"))
    current = {(p, lst): billing.list_amount(billing_period=p, price_list=lst)
               for p in BILLING_PERIODS for lst in PRICE_LISTS}
    return render_template("trademarks/console_prices.html", rows=billing.price_rows(),
                           current=current, periods=BILLING_PERIODS, price_lists=PRICE_LISTS,
                           errors=errors, form=form, today=clock.today()), (
        422 if errors else 200)


def _save_price(form: Any) -> dict[str, list[str]]:
    try:
        effective = date.fromisoformat(form.get("effective_from", ""))
    except ValueError:
        return {"effective_from": [_("Give the date as YYYY-MM-DD.")]}
    amount = amount_from_text(form.get("amount", ""))
    if amount is None:
        return {"amount": [_("Give an amount such as 9.00.")]}
    try:
        with unit_of_work():
            billing.set_price(billing_period=form.get("billing_period", ""),
                              price_list=form.get("price_list", ""), amount=amount,
                              effective_from=effective, staff_id=g.user.id)
    except ValidationFailed as failed:
        return {k: [str(m) for m in v] for k, v in translate_messages(failed.errors).items()}
    flash(_("Price saved; it applies from %(date)s.", date=effective.isoformat()))
    return {}

