"""Payment providers talking to us: signed webhooks (machine endpoints, problem+json) and
the sandbox provider's checkout page, which calls the same webhook code with a signed body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.core.jobs import enqueue
from wallet import cards, topups
from wallet.errors import InvalidPaymentNotice
from wallet.invoices.invoicing import invoicing_settings
from wallet.invoices.models import Invoice
from wallet.models import TopUp
from wallet.payments import adapter
from wallet.payments.card import ProviderError
from wallet.payments.sandbox import SandboxProvider

webhooks = Blueprint("payment_webhooks", __name__, url_prefix="/payments/webhooks")
checkout = Blueprint("payment_checkout", __name__, url_prefix="/payments")

PROVIDERS = ("sandbox", "card", "paypal", "online_banking")
# The job that deletes a retired card at its provider (``wallet.web.cards``, which calls
# ``receive`` for the sandbox, so it is named here rather than imported).
DELETE_CARD_JOB = "wallet.web.cards.delete_at_provider"
CAPTURE_ORDER_JOB = "wallet.web.payments.capture_paypal_order"


def receive(provider: str, headers: Mapping[str, str], body: bytes,
            query: Mapping[str, str]) -> Any:
    """Verify and apply one callback in its own unit of work."""
    if provider not in PROVIDERS:
        abort(404)
    notice = adapter(provider, current_app.config).parse(
        headers=headers, body=body, query=query, now=int(clock.now().timestamp()))
    with unit_of_work():
        if notice.kind == "card_setup":
            return apply_setup_notice(notice)
        topup = topups.receive_notice(notice, settings=invoicing_settings())
        if topup is None:  # acknowledged, so the provider stops retrying
            return {"received": True, "topup": None, "state": None}
        if notice.provider == "paypal" and topup.state == "pending" and isinstance(
                notice.payload, dict) and notice.payload.get("event_type") == \
                "CHECKOUT.ORDER.APPROVED":  # approved but not captured: capture it
            enqueue(CAPTURE_ORDER_JOB, topup.id, notice.provider_reference)
        return {"received": True, "topup": topup.id, "state": topup.state}


def apply_setup_notice(notice) -> dict:
    """A verified card-setup callback (in ``receive``'s unit of work)."""
    card, replaced = cards.receive_setup(notice)
    if replaced is not None:
        enqueue(DELETE_CARD_JOB, replaced.id)
    return {"received": True, "card": card.id, "state": card.state}


@webhooks.route("/<provider>", methods=["POST", "GET"])
def webhook(provider: str):
    # Paytrail-style callbacks arrive as GET with the signed query string.
    return receive(provider, request.headers, request.get_data(), request.args), 200


@checkout.get("/sandbox/checkout/<token>")
def sandbox_page(token: str):
    topup = _sandbox_topup(token)
    invoice = db.session.get(Invoice, topup.invoice_id) if topup.invoice_id else None
    return render_template("billing/sandbox_checkout.html", topup=topup, invoice=invoice)


@checkout.post("/sandbox/checkout/<token>")
def sandbox_pay(token: str):
    topup = _sandbox_topup(token)
    outcome = request.form.get("outcome")
    if outcome not in {"paid", "cancelled"}:
        abort(400)
    provider = adapter("sandbox", current_app.config)
    assert isinstance(provider, SandboxProvider)
    body, headers = provider.callback(token=token, outcome=outcome, total=topup.total,
                                      now=int(clock.now().timestamp()))
    receive("sandbox", headers, body, {})
    if topup.invoice_id is not None:
        flash(_("Payment received: the invoice is paid.") if outcome == "paid"
              else _("Payment cancelled: nothing was charged."))
        return redirect(url_for("invoices_client.invoices"))
    flash(_("Payment received: the funds are in your wallet.") if outcome == "paid"
          else _("Payment cancelled: nothing was charged."))
    return redirect(url_for("wallet_pages.index"))


@checkout.get("/<any(card, paypal, online_banking):provider>/return/<token>")
def provider_return(provider: str, token: str):
    """The payer is back from the provider's hosted checkout. Nothing is credited here
    (only a signed callback credits); an approved PayPal order is captured, once."""
    with unit_of_work():
        topup = topups.topup_by_token(token)  # unknown: 404
        if topup.provider != provider:
            abort(404)
        order = request.args.get("token")
        capture = provider == "paypal" and request.args.get("outcome") == "success" \
            and order and order == topup.provider_reference and topup.state == "pending"
        invoice = topup.invoice_id
    if capture:  # PayPal is asked with no transaction open
        try:
            adapter("paypal", current_app.config).capture(order_id=order)
        except ProviderError:
            pass  # CHECKOUT.ORDER.APPROVED arrives too; its capture is retried there
    if request.args.get("outcome") == "cancelled":
        flash(_("Payment cancelled: nothing was charged."))
    else:
        flash(_("Thank you: the payment is being confirmed by the payment provider."))
    return redirect(url_for("invoices_client.invoices") if invoice
                    else url_for("wallet_pages.index"))


def _sandbox_topup(token: str):
    if current_app.config.get("PAYMENTS_ADAPTER", "sandbox") != "sandbox":
        abort(404)
    with unit_of_work():
        topup = topups.topup_by_token(token)  # unknown: 404
        if topup.provider != "sandbox":
            raise InvalidPaymentNotice()
        return topup


def capture_paypal_order(topup_id: int, order_id: str) -> None:
    """Job: capture an approved PayPal order still unpaid (the payer never came back).
    PayPal-Request-Id makes a repeated capture the same capture; transient errors retry."""
    with unit_of_work():  # read on its own: PayPal is asked with no transaction open
        topup = db.session.get(TopUp, topup_id)
        if topup is None or topup.state != "pending" or topup.provider != "paypal":
            return
    adapter("paypal", current_app.config).capture(order_id=order_id)
