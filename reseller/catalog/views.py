"""Operator console pages for the catalogue: TLD rules, price lists (effective-dated
changes with history) and volume tiers."""

from __future__ import annotations

from datetime import date
from decimal import InvalidOperation

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from reseller.catalog import services
from reseller.catalog.models import PRICE_LISTS
from reseller.catalog.rules import OPERATIONS, TLDS
from reseller.client.session import operator_required
from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.errors import DomainError, ValidationFailed, translate_messages
from reseller.core.schemas import amount_from_text

bp = Blueprint("catalog", __name__, url_prefix="/console")


def _flash_refusal(refused: DomainError) -> None:
    message = str(refused.detail or refused.title)
    if isinstance(refused, ValidationFailed):
        message += " " + "; ".join(f"{k}: {', '.join(map(str, v))}"
                                   for k, v in translate_messages(refused.errors).items())
    flash(message, "error")


@bp.get("/tlds")
@operator_required
def tlds():
    return render_template("catalog/tlds.html", tlds=sorted(TLDS.values(), key=lambda r: r.tld))


@bp.route("/prices", methods=["GET", "POST"])
@operator_required
def prices():
    if request.method == "POST":
        form = request.form
        try:
            amount = amount_from_text(form.get("amount", ""))
            effective = date.fromisoformat(form.get("effective_from", ""))
            if amount is None:
                raise ValueError("not an amount")
        except ValueError:
            flash(_("Give the amount as a number and the date as YYYY-MM-DD."), "error")
        else:
            try:
                with unit_of_work():
                    services.set_price(tld=form.get("tld", ""),
                                       operation=form.get("operation", ""),
                                       price_list=form.get("price_list", ""),
                                       tier=form.get("tier", ""), amount=amount,
                                       effective_from=effective, staff_id=g.user.id)
            except DomainError as refused:
                _flash_refusal(refused)
            else:
                flash(_("Price saved; it applies from %(date)s.", date=effective.isoformat()))
        return redirect(url_for("catalog.prices", tld=form.get("tld")))
    tld = request.args.get("tld") or "fi"
    return render_template("catalog/prices.html", rows=services.price_rows(tld=tld), tld=tld,
                           tlds=sorted(TLDS), operations=OPERATIONS, price_lists=PRICE_LISTS,
                           tiers=services.list_tiers(), today=clock.today())


@bp.route("/tiers", methods=["GET", "POST"])
@operator_required
def tiers():
    if request.method == "POST":
        try:
            threshold = amount_from_text(request.form.get("threshold", ""))
            if threshold is None:
                raise InvalidOperation("not an amount")
            with unit_of_work():
                services.set_tier_threshold(code=request.form.get("code", ""),
                                            threshold=threshold)
        except InvalidOperation:
            flash(_("Give the threshold as a number."), "error")
        except DomainError as refused:
            _flash_refusal(refused)
        else:
            flash(_("Tier saved."))
        return redirect(url_for("catalog.tiers"))
    return render_template("catalog/tiers.html", tiers=services.list_tiers())
