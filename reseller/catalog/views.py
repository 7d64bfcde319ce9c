"""Operator console pages for the catalogue: TLD rules, price lists (effective-dated
changes with history) and volume tiers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from reseller.catalog import services
from reseller.catalog.models import OPERATIONS, PRICE_LISTS, TLDS
from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.errors import DomainError, ValidationFailed, translate_messages
from reseller.core.schemas import amount_from_text
from reseller.core.web.session import operator_required

bp = Blueprint("catalog", __name__, url_prefix="/console")


@bp.get("/tlds")
@operator_required
def tlds():
    return render_template("catalog/tlds.html", tlds=sorted(TLDS.values(), key=lambda r: r.tld))


def _amount(text: str) -> Decimal | None:
    """A typed amount in the API's strict format (a decimal comma allowed); None if not."""
    return amount_from_text(text)


def _entered_amounts(form) -> dict[tuple[str, str, str], str]:
    """The non-empty amounts of the grid (``amount:OPERATION:LIST:TIER``) or of the
    single-price fields (operation, price_list, tier, amount)."""
    entered = {tuple(key.split(":")[1:]): value.strip() for key, value in form.items()
               if key.startswith("amount:") and key.count(":") == 3 and value.strip()}
    if form.get("amount", "").strip():
        entered[(form.get("operation", ""), form.get("price_list", ""),
                 form.get("tier", ""))] = form["amount"].strip()
    return entered


def _save_prices(tld: str, form) -> dict[str, list[str]]:
    """Save the entered prices in one unit of work; the form errors if any is refused."""
    entered = _entered_amounts(form)
    try:
        effective = date.fromisoformat(form.get("effective_from", ""))
    except ValueError:
        return {"effective_from": [_("Give the date as YYYY-MM-DD.")]}
    try:
        with unit_of_work():
            services.set_prices(tld=tld, effective_from=effective, staff_id=g.user.id,
                                amounts={key: _amount(value) for key, value in entered.items()})
    except ValidationFailed as failed:
        return translate_messages(failed.errors)
    except DomainError as refused:
        return {"tld": [str(refused.detail or refused.title)]}
    flash(_("Prices saved; they apply from %(date)s.", date=effective.isoformat()))
    return {}


@bp.route("/prices", methods=["GET", "POST"])
@operator_required
def prices():
    tld = (request.values.get("tld") or "fi").lower().lstrip(".")
    if tld not in TLDS:
        abort(404)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        errors = _save_prices(tld, request.form)
        if not errors:
            return redirect(url_for("catalog.prices", tld=tld))
    operations = [o for o in OPERATIONS if TLDS[tld].offers(o)]
    tiers = services.list_tiers()
    grid = {f"{o}/{p}/{t.code}" for o in operations for p in PRICE_LISTS for t in tiers}
    return render_template(
        "catalog/prices.html", rows=services.price_rows(tld=tld), tld=tld, tlds=sorted(TLDS),
        operations=operations, price_lists=PRICE_LISTS, tiers=tiers, today=clock.today(),
        errors=errors, other_errors={k: v for k, v in errors.items()
                                     if k not in grid and k != "effective_from"},
        current=services.price_grid(tld=tld), entered=_entered_amounts(request.form),
        effective_from=request.form.get("effective_from") or clock.today().isoformat(),
    ), (422 if errors else 200)


def _tier_fields(form) -> dict:
    return {"name": form.get("name", ""), "threshold": _amount(form.get("threshold", "")),
            "rate_limit": form.get("rate_limit", ""),
            "rate_limits": current_app.config["RATE_LIMITS"]}


@bp.route("/tiers", methods=["GET", "POST"])
@operator_required
def tiers():
    errors: dict[str, list[str]] = {}
    form = request.form
    if request.method == "POST":
        code = form.get("code", "").strip()
        try:
            with unit_of_work():
                if form.get("action") == "create":
                    services.create_tier(code=code, **_tier_fields(form))
                else:
                    tier = services.get_tier(code=code)  # unknown code: 404
                    fields = _tier_fields(form)
                    fields["name"] = fields["name"] or tier.name  # blank keeps it
                    fields["rate_limit"] = fields["rate_limit"] or tier.rate_limit
                    services.update_tier(code=code, **fields)
        except ValidationFailed as failed:
            errors = translate_messages(failed.errors)
        else:
            flash(_("Tier saved."))
            return redirect(url_for("catalog.tiers"))
    return render_template("catalog/tiers.html", tiers=services.list_tiers(), errors=errors,
                           form=form, rate_limits=current_app.config["RATE_LIMITS"]), (
        422 if errors else 200)
