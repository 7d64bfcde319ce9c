"""Client-area wallet page: balance, holds, transactions, top-up (surcharge shown before
paying), withdrawals and the low-balance threshold. Plain forms; no JavaScript needed."""

from __future__ import annotations

import uuid

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from reseller.core.db import unit_of_work
from reseller.core.errors import DomainError
from reseller.core.permissions import Permission
from reseller.core.schemas import amount_from_text
from reseller.core.web.session import permission_required, user_can
from wallet import credit, reports, services, topups, withdrawals
from wallet.money import Money
from wallet.payments import offered_methods, provider_for
from wallet.web import present

bp = Blueprint("wallet_pages", __name__, url_prefix="/wallet")

METHOD_LABELS = {"card": _l("Card"), "paypal": _l("PayPal"),
                 "online_banking": _l("Online banking"), "bank_transfer": _l("Bank transfer")}


def _amount(field: str, *, allow_empty: bool = False) -> Money | None:
    raw = request.form.get(field, "")
    if not raw.strip() and allow_empty:
        return None
    value = amount_from_text(raw)
    if value is None:
        raise DomainError(_("Enter an amount such as 100.00."))
    return Money.of(value)


def _methods() -> list[tuple[str, str, Money]]:
    surcharges = current_app.config["PAYMENT_SURCHARGES"]
    return [(m, str(METHOD_LABELS[m]), topups.surcharge_for(m, surcharges))
            for m in offered_methods(current_app.config)]


@bp.get("")
@permission_required(Permission.VIEW_BILLING)
def index():
    rid = g.user.reseller_id
    before = request.args.get("before", type=int)
    with unit_of_work():
        wallet = services.get_wallet(reseller_id=rid)
        rows, after = reports.transactions(reseller_id=rid, before_id=before, limit=25,
                                           moves_balance=True)
        return render_template(
            "billing/wallet.html", wallet=wallet, summary=present.wallet_dict(wallet),
            holds=services.active_holds(reseller_id=rid), transactions=rows, after=after,
            topups=topups.list_topups(reseller_id=rid, limit=10),
            withdrawals=withdrawals.list_withdrawals(reseller_id=rid, limit=10),
            methods=_methods(), form_key=uuid.uuid4().hex,
            instructions=present.bank_instructions(wallet, None),
            can_manage=user_can(Permission.MANAGE_BILLING))


@bp.post("/topups")
@permission_required(Permission.MANAGE_BILLING)
def topup():
    """First post: show the quote (surcharge, total). With ``confirm``: start paying."""
    rid = g.user.reseller_id
    method = request.form.get("method", "")
    try:
        amount = _amount("amount")
        provider = provider_for(method, current_app.config)  # refuses a method not offered
        surcharge = topups.surcharge_for(method, current_app.config["PAYMENT_SURCHARGES"])
        if not request.form.get("confirm"):
            return render_template("billing/topup_quote.html", amount=amount, method=method,
                                   label=str(METHOD_LABELS[method]), surcharge=surcharge,
                                   total=amount + surcharge, key=request.form.get("key", ""))
        with unit_of_work():
            created = topups.create_topup(
                reseller_id=rid, amount=amount, method=method,
                idempotency_key=f"page-{request.form.get('key') or uuid.uuid4().hex}",
                surcharges=current_app.config["PAYMENT_SURCHARGES"],
                provider=provider)
            shown = present.topup_dict(created, services.get_wallet(reseller_id=rid))
    except DomainError as refused:
        flash(str(refused.detail or refused.title), "error")
        return redirect(url_for("wallet_pages.index"))
    if shown["checkout_url"]:
        return redirect(shown["checkout_url"])
    return render_template("billing/bank_transfer.html", topup=shown)


@bp.post("/withdrawals")
@permission_required(Permission.MANAGE_BILLING)
def withdraw():
    try:
        with unit_of_work():
            withdrawals.request_withdrawal(
                reseller_id=g.user.reseller_id, amount=_amount("amount"),
                idempotency_key=f"page-{request.form.get('key') or uuid.uuid4().hex}",
                requested_by=f"user:{g.user.id}")
    except DomainError as refused:
        flash(str(refused.detail or refused.title), "error")
    else:
        flash(_("Withdrawal requested. The amount is held until we pay it out."))
    return redirect(url_for("wallet_pages.index"))


@bp.post("/withdrawals/<int:withdrawal_id>/cancel")
@permission_required(Permission.MANAGE_BILLING)
def cancel_withdrawal(withdrawal_id: int):
    try:
        with unit_of_work():
            withdrawals.cancel_withdrawal(withdrawal_id=withdrawal_id,
                                          reseller_id=g.user.reseller_id,
                                          actor=f"user:{g.user.id}")
    except DomainError as refused:
        flash(str(refused.detail or refused.title), "error")
    else:
        flash(_("Withdrawal cancelled."))
    return redirect(url_for("wallet_pages.index"))


@bp.post("/threshold")
@permission_required(Permission.MANAGE_BILLING)
def threshold():
    try:
        with unit_of_work():
            credit.set_low_balance_threshold(reseller_id=g.user.reseller_id,
                                               threshold=_amount("threshold", allow_empty=True),
                                               actor=f"user:{g.user.id}")
    except DomainError as refused:
        flash(str(refused.detail or refused.title), "error")
    else:
        flash(_("Low-balance warning saved."))
    return redirect(url_for("wallet_pages.index"))
