"""Cards on file, seen from the reseller side: saving and removing one on the billing page,
the sandbox provider's card page, deleting retired cards at the provider, and charging
open invoices to the card on their due date.

The money path is the one every card payment takes: an invoice payment
(``wallet.topups.create_invoice_payment``) settled only by the provider's signed
callback. The automatic charge differs only in who starts it: the daily
``invoices-autopay`` job, once per invoice per day, with the method's surcharge as shown
on the billing page.
"""

from __future__ import annotations

import sqlalchemy as sa
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

from reseller.core.clock import clock
from reseller.core.db import lock_row, unit_of_work
from reseller.core.directory import reseller_profile
from reseller.core.errors import DomainError
from reseller.core.extensions import db
from reseller.core.jobs import enqueue, periodic
from reseller.core.permissions import Permission
from reseller.core.web.session import permission_required
from wallet import cards, topups
from wallet.invoices.periods import local_date
from wallet.models import Card, TopUp
from wallet.payments import CardSetupRequest, adapter, offered_methods, provider_for
from wallet.payments.sandbox import CardRefused, SandboxProvider
from wallet.topups import surcharge_for
from wallet.web.payments import DELETE_CARD_JOB, receive

bp = Blueprint("billing_cards", __name__, url_prefix="/billing/card")
sandbox_pages = Blueprint("sandbox_cards", __name__, url_prefix="/payments/sandbox")


def begin_setup(reseller_id: int) -> str:
    """A pending card and the provider's page where it is entered (the caller commits).

    Live, that page is a Stripe Checkout Session in setup mode; an unreachable provider is
    a 503 and no pending card is kept. The provider is asked before anything is written
    (the setup token is chosen first), so the request holds no transaction id, and with
    it no reseller's event feed, while it waits.
    """
    config = current_app.config
    provider = provider_for("card", config)
    profile = reseller_profile(reseller_id)
    token = cards.new_setup_token()
    setup = adapter(provider, config).start_setup(CardSetupRequest(
        token=token, base_url=config["BASE_URL"],
        email=profile.invoice_email if profile else None,
        name=profile.company_name if profile else "",
        customer=cards.provider_customer(reseller_id, provider),
        language=profile.language if profile else "fi"))
    cards.start_setup(reseller_id=reseller_id, provider=provider, setup_token=token,
                      customer=setup.customer)
    return setup.url


def retire(reseller_id: int) -> None:
    """Remove the card on file; a job deletes it at the provider after commit."""
    removed = cards.remove_card(reseller_id=reseller_id)
    enqueue(DELETE_CARD_JOB, removed.id)


def summary(reseller_id: int) -> dict | None:
    """The card on file and what it pays next, for the API (None without a card)."""
    card = cards.active_card(reseller_id)
    if card is None:
        return None
    today = local_date(clock.now())
    due = cards.next_charge(reseller_id, today)
    surcharge = surcharge_for("card", current_app.config["PAYMENT_SURCHARGES"]).amount
    return {"brand": card.brand, "last4": card.last4, "exp_month": card.exp_month,
            "exp_year": card.exp_year, "expired": card.expired_on(today),
            "next_charge": None if due is None else {
                "invoice": due.number, "date": max(due.due_date, today),
                "amount": due.amount_due, "surcharge": surcharge,
                "total": due.amount_due + surcharge}}


@bp.post("")
@permission_required(Permission.MANAGE_BILLING)
def add():
    """Start saving a card (or replacing the one on file): off to the provider's page."""
    try:
        with unit_of_work():
            url = begin_setup(g.user.reseller_id)
    except DomainError as refused:  # the provider unreachable, cards not offered
        flash(str(refused.detail or refused.title), "error")
        return redirect(url_for("invoices_client.invoices"))
    return redirect(url)


@bp.get("/return")
@permission_required(Permission.MANAGE_BILLING)
def setup_return():
    """Back from the provider's setup page. Nothing is saved here: the provider's signed
    callback saves the card (it may arrive a moment later)."""
    if request.args.get("outcome") == "cancelled":
        flash(_("No card was saved."))
    else:
        flash(_("Thank you: the card is saved as soon as the payment provider confirms it."))
    return redirect(url_for("invoices_client.invoices"))


@bp.post("/remove")
@permission_required(Permission.MANAGE_BILLING)
def remove():
    try:
        with unit_of_work():
            retire(g.user.reseller_id)
    except DomainError as refused:
        flash(str(refused.detail or refused.title), "error")
    else:
        flash(_("The card was removed and deleted at the payment provider."))
    return redirect(url_for("invoices_client.invoices"))


def delete_at_provider(card_id: int) -> None:
    """Job: delete a retired card at its provider, then forget its payment-method id.

    The provider is called with no transaction open (what to delete is read in one unit of
    work, the id forgotten in another, if it is still the one deleted): a slow provider
    holds no row, nor the event feed. A crash in between deletes again on the retry."""
    with unit_of_work():
        card = db.session.get(Card, card_id)
        if card is None or card.state == "active" or card.payment_method is None:
            return
        provider, payment_method = card.provider, card.payment_method
    adapter(provider, current_app.config).detach(payment_method=payment_method,
                                                 now=clock.now())
    with unit_of_work():
        card = lock_row(Card, card_id)
        if card is not None and card.payment_method == payment_method:
            cards.forget(card)


@periodic("invoices-autopay", "0 6 * * *",
          "Charge open invoices due today (or overdue) to the reseller's card on file")
def autopay() -> int:
    """Queue one card charge per invoice due by today; each invoice is tried once a day.
    Each invoice's payment commits on its own (a batch never holds one long transaction),
    and its charge job is queued with it."""
    today = local_date(clock.now())
    config = current_app.config
    if "card" not in offered_methods(config):  # PAYMENT_METHODS: cards are not taken now
        return 0
    due = [(invoice.reseller_id, invoice.number, card.id, card.provider,
            card.expired_on(today), cards.autopay_key(invoice, today))
           for invoice, card in cards.due_for_autopay(today)]
    queued = 0
    for reseller_id, number, card_id, provider, expired, key in due:
        if expired:
            continue
        try:
            with unit_of_work():  # one invoice paid meanwhile spoils no other
                payment, _invoice = topups.create_invoice_payment(
                    reseller_id=reseller_id, invoice_number=number, method="card",
                    idempotency_key=key, surcharges=config["PAYMENT_SURCHARGES"],
                    provider=provider)
                enqueue("wallet.web.cards.charge", payment.id, card_id)
        except DomainError:
            continue
        queued += 1
    return queued


def charge(payment_id: int, card_id: int) -> None:
    """Job: ask the provider to charge the card; the signed callback settles the payment.

    The provider is asked with no transaction open: the payment and card are read in a
    unit of work of their own, and the callback is applied in another (``receive``). The
    charge's idempotency key is the payment's (``charge-{token}``), so a retry after a
    crash is the same charge at the provider, and the payment is credited once."""
    with unit_of_work():
        payment, card = db.session.get(TopUp, payment_id), db.session.get(Card, card_id)
        if payment is None or card is None or payment.state != "pending" \
                or card.state != "active" or card.payment_method is None:
            return
        provider_name, asked = card.provider, {
            "payment_method": card.payment_method, "total": payment.total,
            "token": payment.token, "customer": card.provider_customer}
    provider = adapter(provider_name, current_app.config)
    callback = provider.charge(**asked, today=local_date(clock.now()),
                               now=int(clock.now().timestamp()))
    if callback is not None:  # the sandbox answers at once, like a provider's webhook
        body, headers = callback
        receive(provider_name, headers, body, {})


# --- the sandbox provider's card page (embedded default) ------------------------------

def _sandbox_setup(token: str) -> Card:
    if current_app.config.get("PAYMENTS_ADAPTER", "sandbox") != "sandbox":
        abort(404)
    card = db.session.scalar(sa.select(Card).where(Card.setup_token == token))
    if card is None or card.provider != "sandbox":
        abort(404)
    return card


@sandbox_pages.route("/card-setup/<token>", methods=["GET", "POST"])
def sandbox_card_setup(token: str):
    card = _sandbox_setup(token)
    if card.state != "pending":
        return redirect(url_for("invoices_client.invoices"))
    error = None
    if request.method == "POST":
        provider = SandboxProvider.from_config(current_app.config)
        now = clock.now()
        if request.form.get("outcome") == "cancel":
            body, headers = provider.setup_callback(token=token, saved=None,
                                                    now=int(now.timestamp()))
        else:
            try:
                with unit_of_work():
                    saved = provider.save_card(
                        number=request.form.get("number", ""),
                        expiry=request.form.get("expiry", ""), cvc=request.form.get("cvc", ""),
                        today=local_date(now), now=now)
                    body, headers = provider.setup_callback(token=token, saved=saved,
                                                            now=int(now.timestamp()))
            except CardRefused as refused:
                error = str(refused)
        if error is None:
            receive("sandbox", headers, body, {})
            db.session.expire_all()
            if db.session.get(Card, card.id).state == "active":
                flash(_("Card saved: open invoices are charged to it on their due date."))
            else:
                flash(_("No card was saved."))
            return redirect(url_for("invoices_client.invoices"))
    return render_template("billing/sandbox_card.html", token=token, error=error,
                           form=request.form), 422 if error else 200
