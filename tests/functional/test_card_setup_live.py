"""Saving a card with the live card provider (``PAYMENTS_ADAPTER=live``): a Stripe
Checkout Session in setup mode, for the reseller's Stripe customer, against Stripe's
documented API served on loopback (``tests.support.provider_apis``); the card is saved
only by the signed ``setup_intent.succeeded`` webhook (signed with stripe-python)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from reseller.core.extensions import db
from tests.functional.test_provider_events import _event, _post_stripe
from tests.support.live_payments import live_payments
from wallet.cards import active_card
from wallet.models import Card

PASSWORD = "correct horse battery"


@pytest.fixture
def stripe_api(app):
    with live_payments(app):
        yield app.extensions["test.provider_apis"]


def _intent(token: str, method: str = "pm_1Q0PsIJvEtkwdCNYMSaVuRz6",
            customer: str = "cus_test_1") -> dict:
    """A SetupIntent as Stripe's webhooks send it (payment_method an id)."""
    return {"id": "seti_1Mm8s8LkdIwHu7ix0OXBfTRG", "object": "setup_intent",
            "customer": customer, "metadata": {"card_setup": token},
            "payment_method": method, "status": "succeeded", "usage": "off_session"}


def _session(token: str, customer: str, status: str = "complete") -> dict:
    return {"id": "cs_test_setup", "object": "checkout.session", "mode": "setup",
            "currency": "eur", "customer": customer, "client_reference_id": token,
            "metadata": {"card_setup": token}, "payment_status": "no_payment_required",
            "setup_intent": "seti_1Mm8s8LkdIwHu7ix0OXBfTRG", "status": status}


def test_saving_a_card_opens_a_checkout_session_in_setup_mode_for_the_customer(
        factory, client, stripe_api):
    reseller = factory.reseller(billing_email="laskut@webbi.example", language="sv")
    api = factory.api(reseller)
    started = api.post("/api/v1/wallet/card")
    assert started.status_code == 201, started.get_json()
    [customer] = stripe_api.seen("POST", "/v1/customers")
    assert customer.form["email"] == "laskut@webbi.example"
    [created] = stripe_api.seen("POST", "/v1/checkout/sessions")
    form, token = created.form, created.form["metadata[card_setup]"]
    assert started.get_json()["setup_url"].startswith("https://checkout.stripe.com/c/pay/cs_")
    assert (form["mode"], form["currency"], form["payment_method_types[0]"]) == (
        "setup", "eur", "card")
    assert form["customer"] in stripe_api.customers and form["locale"] == "sv"
    assert form["setup_intent_data[metadata][card_setup]"] == token
    assert form["success_url"].endswith("/billing/card/return?outcome=success")
    assert form["cancel_url"].endswith("/billing/card/return?outcome=cancelled")
    assert created.headers["idempotency-key"] == f"card-setup-{token}"
    assert not any(key.startswith("line_items") for key in form)

    stripe_api.payment_methods["pm_1Q0PsIJvEtkwdCNYMSaVuRz6"] = {
        "id": "pm_1Q0PsIJvEtkwdCNYMSaVuRz6", "object": "payment_method", "type": "card",
        "card": {"brand": "mastercard", "last4": "4444", "exp_month": 3, "exp_year": 2031}}
    declined = {**_intent(token, customer=form["customer"]), "status": "requires_payment_method"}
    # A first card declined on the page ends nothing: the reseller tries another one.
    assert _post_stripe(client, _event("setup_intent.setup_failed", declined,
                                       "evt_f1")).status_code == 200
    assert _post_stripe(client, _event("setup_intent.succeeded",
                                       _intent(token, customer=form["customer"]),
                                       "evt_s1")).status_code == 200
    assert _post_stripe(client, _event("checkout.session.completed",
                                       _session(token, form["customer"]),
                                       "evt_c1")).status_code == 200
    saved = active_card(reseller.id)
    assert (saved.brand, saved.last4, saved.provider_customer) == (
        "mastercard", "4444", form["customer"])

    again = api.post("/api/v1/wallet/card")  # replacing it: the same Stripe customer
    assert again.status_code == 201
    assert len(stripe_api.seen("POST", "/v1/customers")) == 1
    assert stripe_api.seen("POST", "/v1/checkout/sessions")[-1].form["customer"] == \
        form["customer"]


def test_a_setup_session_that_expires_unused_ends_the_pending_card(factory, stripe_api,
                                                                   client):
    reseller = factory.reseller()
    factory.api(reseller).post("/api/v1/wallet/card")
    form = stripe_api.seen("POST", "/v1/checkout/sessions")[-1].form
    token = form["metadata[card_setup]"]
    expired = _session(token, form["customer"], status="expired")
    assert _post_stripe(client, _event("checkout.session.expired", expired,
                                       "evt_x1")).status_code == 200
    card = db.session.scalar(sa.select(Card).where(Card.setup_token == token))
    db.session.refresh(card)
    assert card.state == "failed" and active_card(reseller.id) is None


def test_an_unreachable_provider_is_a_503_and_keeps_no_pending_card(factory, app, stripe_api):
    reseller = factory.reseller()
    app.config["CARD_API_URL"] = "http://127.0.0.1:9"  # nothing listens there
    response = factory.api(reseller).post("/api/v1/wallet/card")
    assert response.status_code == 503
    assert response.get_json()["code"] == "payment_provider_unavailable"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Card).where(
        Card.reseller_id == reseller.id)) == 0


def test_the_billing_page_sends_the_reseller_to_stripe_and_back(factory, client, stripe_api):
    reseller = factory.reseller()
    owner = factory.user(reseller)
    assert client.post("/login", data={"email": owner.email, "password": PASSWORD}
                       ).status_code == 302
    response = client.post("/billing/card")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("https://checkout.stripe.com/c/pay/")
    back = client.get("/billing/card/return?outcome=success", follow_redirects=True)
    assert "as soon as the payment provider confirms it" in back.get_data(as_text=True)
    assert active_card(reseller.id) is None  # only the signed webhook saves it
