"""Provider events in the shapes the providers publish (Stripe API reference objects,
PayPal's Orders v2 / Payments v2 webhook samples, Paytrail's callback parameters), signed
with stripe-python's own ``WebhookSignature`` and PayPal's and Paytrail's documented
schemes: only money that arrived, in euros, is credited; refunds, chargebacks and
reversals are taken back once, with the reseller told and the operator's queue updated."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
import stripe

from reseller.core.events import Event
from reseller.core.extensions import db
from tests.functional.test_payment_webhooks import _paypal_headers, _topup
from tests.support.live_payments import CARD_SECRET, PAYTRAIL_SECRET, live_payments
from wallet import ledger, services
from wallet.cards import active_card
from wallet.errors import InvalidSignature
from wallet.models import LedgerTransfer, PaymentIssue, TopUp
from wallet.money import Money
from wallet.payments import card, paytrail


@pytest.fixture
def live_app(app):
    with live_payments(app) as paypal_key:
        yield paypal_key


@pytest.fixture
def stripe_api(app, live_app):
    return app.extensions["test.provider_apis"]


def _post_stripe(client, event: dict):
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, CARD_SECRET)
    return client.post("/payments/webhooks/card", data=payload.encode(),
                       headers={"Stripe-Signature": header, "Content-Type": "application/json"})


def _event(kind: str, obj: dict, event_id: str) -> dict:
    """An Event object as in Stripe's API reference (``data.object`` never expanded)."""
    return {"id": event_id, "object": "event", "api_version": "2024-06-20",
            "created": int(time.time()), "livemode": False, "pending_webhooks": 1,
            "type": kind, "data": {"object": obj}}


def _session(token: str, cents: int, *, paid: bool = True, currency: str = "eur") -> dict:
    return {"id": "cs_test_a1", "object": "checkout.session", "mode": "payment",
            "amount_subtotal": cents, "amount_total": cents, "currency": currency,
            "client_reference_id": token, "customer": None, "metadata": {"topup": token},
            "payment_intent": "pi_3MtwBwLkdIwHu7ix28a3tqPa",
            "payment_status": "paid" if paid else "unpaid", "status": "complete"}


def _available(api) -> str:
    return api.get("/api/v1/wallet").get_json()["available"]


def _issues(kind: str | None = None) -> list[PaymentIssue]:
    stmt = sa.select(PaymentIssue).order_by(PaymentIssue.id)
    return list(db.session.scalars(stmt.where(PaymentIssue.kind == kind) if kind else stmt))


def test_our_stripe_verification_agrees_with_stripe_python():
    payload = json.dumps({"id": "evt_1", "type": "ping"})
    header = stripe.WebhookSignature.generate_signature_header(payload, CARD_SECRET)
    now = int(time.time())
    card.verify(payload.encode(), header, CARD_SECRET, now=now)
    stripe.Webhook.construct_event(payload, header, CARD_SECRET)
    tampered = payload.replace("ping", "pong")
    with pytest.raises(InvalidSignature):
        card.verify(tampered.encode(), header, CARD_SECRET, now=now)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(tampered, header, CARD_SECRET)


def test_an_unpaid_checkout_session_is_credited_only_when_its_payment_succeeds(
        factory, client, live_app):
    reseller, api, body, topup = _topup(factory, "card")
    session = _session(topup.token, 10150, paid=False)  # SEPA debit: still clearing
    assert _post_stripe(client, _event("checkout.session.completed", session,
                                       "evt_1")).status_code == 200
    assert _available(api) == "0.00"
    succeeded = _event("checkout.session.async_payment_succeeded",
                       {**session, "payment_status": "paid"}, "evt_2")
    assert _post_stripe(client, succeeded).status_code == 200
    assert _post_stripe(client, succeeded).status_code == 200  # a retry
    assert _available(api) == "100.00"
    assert ledger.verify() == []


def test_a_failed_delayed_payment_reverses_nothing_it_never_credited(factory, client, live_app):
    reseller, api, body, topup = _topup(factory, "card")
    session = _session(topup.token, 10150, paid=False)
    _post_stripe(client, _event("checkout.session.completed", session, "evt_3"))
    _post_stripe(client, _event("checkout.session.async_payment_failed", session, "evt_4"))
    shown = api.get(f"/api/v1/wallet/topups/{body['id']}").get_json()
    assert shown["state"] == "failed" and _available(api) == "0.00"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransfer).where(
        LedgerTransfer.reseller_id == reseller.id, LedgerTransfer.kind == "reversal")) == 0


@pytest.mark.parametrize("currency", ["usd", "jpy"])
def test_money_in_another_currency_is_refused_and_reported_never_converted(
        factory, client, live_app, currency):
    reseller, api, body, topup = _topup(factory, "card")
    response = _post_stripe(client, _event("checkout.session.completed",
                                           _session(topup.token, 10150, currency=currency),
                                           f"evt_{currency}"))
    assert response.status_code == 200
    assert _available(api) == "0.00"
    [issue] = _issues("currency")
    assert (issue.currency, issue.topup_id) == (currency.upper(), topup.id)
    assert issue.amount == (Decimal("10150") if currency == "jpy" else Decimal("101.50"))


def test_paypal_usd_capture_is_refused_and_reported(factory, client, live_app):
    reseller, api, body, topup = _topup(factory, "paypal", "100.00")
    event = json.dumps({"id": "WH-USD", "event_type": "PAYMENT.CAPTURE.COMPLETED",
                        "resource_type": "capture", "resource": {
                            "id": "cap-usd", "status": "COMPLETED", "custom_id": topup.token,
                            "amount": {"value": "102.00", "currency_code": "USD"}}}).encode()
    response = client.post("/payments/webhooks/paypal", data=event,
                           headers=_paypal_headers(live_app, event, datetime.now(UTC)))
    assert response.status_code == 200 and _available(api) == "0.00"
    assert [i.currency for i in _issues("currency")] == ["USD"]


def _charge(payment_intent: str, refunded: int, total: int = 10150) -> dict:
    return {"id": "ch_3MmlLrLkdIwHu7ix0snN0B15", "object": "charge", "amount": total,
            "amount_captured": total, "amount_refunded": refunded, "currency": "eur",
            "paid": True, "payment_intent": payment_intent, "refunded": refunded == total,
            "metadata": {}, "status": "succeeded"}


def test_stripe_refunds_take_back_once_what_was_refunded(factory, client, live_app):
    reseller, api, body, topup = _topup(factory, "card")
    _post_stripe(client, _event("checkout.session.completed", _session(topup.token, 10150),
                                "evt_paid"))
    intent = "pi_3MtwBwLkdIwHu7ix28a3tqPa"
    partial = _event("charge.refunded", _charge(intent, 4000), "evt_r1")
    assert _post_stripe(client, partial).status_code == 200
    assert _post_stripe(client, partial).status_code == 200  # a retry
    assert _available(api) == "60.00"
    full = _event("charge.refunded", _charge(intent, 10150), "evt_r2")
    assert _post_stripe(client, full).status_code == 200  # cumulative: 61.50 more
    assert _available(api) == "0.00"
    events = db.session.scalars(sa.select(Event).where(
        Event.reseller_id == reseller.id, Event.type == "wallet.payment_reversed")).all()
    assert [e.data["amount"] for e in events] == ["40.00", "60.00"]
    assert [i.kind for i in _issues()] == ["refund", "refund"]
    assert ledger.verify() == []


def test_a_chargeback_on_a_spent_wallet_becomes_debt_and_a_won_dispute_pays_it_back(
        factory, client, live_app):
    reseller, api, body, topup = _topup(factory, "card")
    _post_stripe(client, _event("checkout.session.completed", _session(topup.token, 10150),
                                "evt_paid"))
    db.session.expire_all()
    from tests.support.wallet import fund  # spend 80.00 of it
    fund(reseller.id, "-80.00")
    dispute = {"id": "dp_1MtJUT2eZvKYlo2CNaw2HvEv", "object": "dispute", "amount": 10150,
               "currency": "eur", "charge": "ch_1", "payment_intent": topup.provider_reference
               or "pi_3MtwBwLkdIwHu7ix28a3tqPa", "reason": "fraudulent",
               "status": "needs_response", "metadata": {}}
    assert _post_stripe(client, _event("charge.dispute.created", dispute,
                                       "evt_d1")).status_code == 200
    db.session.expire_all()
    wallet = services.get_wallet(reseller_id=reseller.id)
    # 20.00 left, 100.00 taken: the funds give 20.00, the other 80.00 is owed
    assert (wallet.funds, wallet.debt) == (Money.of("0.00"), Money.of("80.00"))
    assert api.get("/api/v1/wallet").get_json()["debt"] == "80.00"
    [event] = db.session.scalars(sa.select(Event).where(
        Event.type == "wallet.payment_reversed", Event.reseller_id == reseller.id)).all()
    assert (event.data["debt"], event.data["orders_blocked"]) == ("80.00", True)
    assert _post_stripe(client, _event("charge.dispute.closed", {**dispute, "status": "won"},
                                       "evt_d2")).status_code == 200
    db.session.expire_all()
    wallet = services.get_wallet(reseller_id=reseller.id)
    assert (wallet.funds, wallet.debt) == (Money.of("20.00"), Money.of("0.00"))
    assert [i.kind for i in _issues()] == ["chargeback", "reinstated"]
    assert ledger.verify() == []


def test_setup_intent_with_a_payment_method_id_saves_the_card(factory, client, stripe_api):
    reseller = factory.reseller()
    api = factory.api(reseller)
    started = api.post("/api/v1/wallet/card")
    assert started.status_code == 201, started.get_json()
    token = stripe_api.seen("POST", "/v1/checkout/sessions")[-1].form["metadata[card_setup]"]
    stripe_api.payment_methods["pm_1Q0PsIJvEtkwdCNYMSaVuRz6"] = {
        "id": "pm_1Q0PsIJvEtkwdCNYMSaVuRz6", "object": "payment_method", "type": "card",
        "card": {"brand": "visa", "last4": "4242", "exp_month": 8, "exp_year": 2030}}
    intent = {"id": "seti_1Mm8s8LkdIwHu7ix0OXBfTRG", "object": "setup_intent",
              "customer": "cus_NffrFeUfNV2Hib", "metadata": {"card_setup": token},
              "payment_method": "pm_1Q0PsIJvEtkwdCNYMSaVuRz6", "status": "succeeded",
              "usage": "off_session"}
    response = _post_stripe(client, _event("setup_intent.succeeded", intent, "evt_s1"))
    assert response.status_code == 200, response.get_json()
    saved = active_card(reseller.id)
    assert (saved.brand, saved.last4, saved.exp_year) == ("visa", "4242", 2030)
    assert saved.provider_customer == "cus_NffrFeUfNV2Hib"
    assert stripe_api.seen("GET", "/v1/payment_methods/pm_1Q0PsIJvEtkwdCNYMSaVuRz6")


def _paypal_post(client, key, event: dict):
    body = json.dumps(event).encode()
    return client.post("/payments/webhooks/paypal", data=body,
                       headers=_paypal_headers(key, body, datetime.now(UTC),
                                               transmission=event["id"]))


def test_paypal_order_completed_in_orders_v2_shape_then_refunded_and_reversed(
        factory, client, live_app):
    reseller, api, body, topup = _topup(factory, "paypal", "50.00")
    order = {"id": "5O190127TN364715T", "intent": "CAPTURE", "status": "COMPLETED",
             "purchase_units": [{"reference_id": topup.token, "custom_id": topup.token,
                                 "amount": {"currency_code": "EUR", "value": "52.00"},
                                 "payments": {"captures": [{
                                     "id": "3C679366HH908993F", "status": "COMPLETED",
                                     "amount": {"currency_code": "EUR", "value": "52.00"},
                                     "final_capture": True}]}}]}
    completed = {"id": "WH-ORDER-1", "event_type": "CHECKOUT.ORDER.COMPLETED",
                 "resource_type": "checkout-order", "resource": order}
    assert _paypal_post(client, live_app, completed).status_code == 200
    assert _available(api) == "50.00"

    def taken_back(kind: str, refund: str, value: str) -> dict:
        return {"id": f"WH-{refund}", "event_type": kind, "resource_type": "refund",
                "resource": {"id": refund, "status": "COMPLETED",
                             "amount": {"currency_code": "EUR", "value": value},
                             "links": [{"href": "https://api.paypal.com/v2/payments/refunds/"
                                        + refund, "rel": "self", "method": "GET"},
                                       {"href": "https://api.paypal.com/v2/payments/captures/"
                                        "3C679366HH908993F", "rel": "up", "method": "GET"}]}}

    assert _paypal_post(client, live_app, taken_back(
        "PAYMENT.CAPTURE.REFUNDED", "1Y107995YT783435V", "20.00")).status_code == 200
    assert _available(api) == "30.00"
    assert _paypal_post(client, live_app, taken_back(
        "PAYMENT.CAPTURE.REVERSED", "8MF53163KL6588236", "32.00")).status_code == 200
    assert _available(api) == "0.00"
    assert [i.kind for i in _issues()] == ["refund", "refund"]
    assert ledger.verify() == []


def test_paypal_order_completed_without_a_completed_capture_credits_nothing(
        factory, client, live_app):
    reseller, api, body, topup = _topup(factory, "paypal", "50.00")
    order = {"id": "5O1", "status": "COMPLETED", "purchase_units": [{
        "custom_id": topup.token, "amount": {"currency_code": "EUR", "value": "52.00"},
        "payments": {"captures": [{"id": "C1", "status": "PENDING",
                                   "amount": {"currency_code": "EUR", "value": "52.00"}}]}}]}
    event = {"id": "WH-ORDER-2", "event_type": "CHECKOUT.ORDER.COMPLETED", "resource": order}
    assert _paypal_post(client, live_app, event).status_code == 200
    assert _available(api) == "0.00"


@pytest.mark.parametrize("status,state", [("new", "pending"), ("pending", "pending"),
                                          ("delayed", "pending"), ("fail", "cancelled"),
                                          ("ok", "paid")])
def test_every_paytrail_status_has_its_outcome(factory, client, live_app, status, state):
    reseller, api, body, topup = _topup(factory, "online_banking", "20.00")
    params = {"checkout-account": "375917", "checkout-algorithm": "sha256",
              "checkout-amount": "2050", "checkout-stamp": topup.token,
              "checkout-reference": "1", "checkout-transaction-id": f"tx-{status}",
              "checkout-status": status, "checkout-provider": "osuuspankki"}
    params["signature"] = paytrail.signature(params, PAYTRAIL_SECRET)
    response = client.get("/payments/webhooks/online_banking", query_string=params)
    assert response.status_code == 200
    assert api.get(f"/api/v1/wallet/topups/{body['id']}").get_json()["state"] == state
    assert _available(api) == ("20.00" if state == "paid" else "0.00")


def test_a_refund_for_a_payment_we_do_not_know_is_acknowledged_and_reported(client, live_app):
    response = _post_stripe(client, _event("charge.refunded", _charge("pi_unknown", 500),
                                           "evt_unknown"))
    assert response.status_code == 200
    assert [i.kind for i in _issues()] == ["unknown_payment"]


def test_live_top_ups_open_each_providers_hosted_checkout_once(factory, client, stripe_api):
    reseller = factory.reseller()
    api = factory.api(reseller)
    urls = {}
    for method, amount in (("card", "100.00"), ("paypal", "100.00"),
                           ("online_banking", "20.00")):
        body = api.post("/api/v1/wallet/topups", json={"amount": amount, "method": method})
        assert body.status_code == 201, body.get_json()
        urls[method] = body.get_json()["checkout_url"]
        again = api.get(f"/api/v1/wallet/topups/{body.get_json()['id']}").get_json()
        assert again["checkout_url"] == urls[method]  # reused, not a second checkout
    token = {t.method: t.token for t in db.session.scalars(sa.select(TopUp).where(
        TopUp.reseller_id == reseller.id))}
    base = "http://tunnus.test/payments"

    [session] = stripe_api.seen("POST", "/v1/checkout/sessions")
    form = session.form
    assert urls["card"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
    assert (form["mode"], form["line_items[0][price_data][currency]"],
            form["line_items[0][price_data][unit_amount]"]) == ("payment", "eur", "10150")
    assert form["metadata[topup]"] == form["payment_intent_data[metadata][topup]"] \
        == token["card"]
    assert form["success_url"] == f"{base}/card/return/{token['card']}?outcome=success"
    assert session.headers["idempotency-key"] == f"checkout-{token['card']}"

    [order] = stripe_api.seen("POST", "/v2/checkout/orders")
    assert urls["paypal"].startswith("https://www.sandbox.paypal.com/checkoutnow?token=")
    unit = order.json["purchase_units"][0]
    assert (order.json["intent"], unit["custom_id"], unit["amount"]) == (
        "CAPTURE", token["paypal"], {"currency_code": "EUR", "value": "102.00"})
    assert order.headers["paypal-request-id"] == f"order-{token['paypal']}"
    assert stripe_api.seen("POST", "/v1/oauth2/token")

    [payment] = stripe_api.seen("POST", "/payments")  # the stand-in checked the signature
    assert urls["online_banking"].startswith("https://pay.paytrail.com/pay/")
    sent = payment.json
    assert (sent["stamp"], sent["amount"], sent["currency"]) == (token["online_banking"], 2050,
                                                                  "EUR")
    assert sent["callbackUrls"]["success"] == "http://tunnus.test/payments/webhooks/online_banking"
    assert sent["customer"]["email"]


def test_paypal_payer_returning_captures_the_approved_order_once(factory, client, stripe_api):
    reseller, api, body, topup = _topup(factory, "paypal", "50.00")
    order = topup.provider_reference
    assert order and body["checkout_url"].endswith(order)
    back = client.get(f"/payments/paypal/return/{topup.token}",
                      query_string={"outcome": "success", "token": order, "PayerID": "P1"})
    assert back.status_code == 302
    [capture] = stripe_api.seen("POST", f"/v2/checkout/orders/{order}/capture")
    assert capture.headers["paypal-request-id"] == f"capture-{order}"
    assert _available(api) == "0.00"  # credited only by PAYMENT.CAPTURE.COMPLETED
    forged = client.get(f"/payments/paypal/return/{topup.token}",
                        query_string={"outcome": "success", "token": "SOMEONE-ELSES"})
    assert forged.status_code == 302
    assert len(stripe_api.seen("POST", "/v2/checkout/orders/SOMEONE-ELSES")) == 0


def test_an_unreachable_provider_is_a_clear_503(factory, app, live_app):
    app.config["CARD_API_URL"] = "http://127.0.0.1:9"  # nothing listens there
    reseller = factory.reseller()
    response = factory.api(reseller).post("/api/v1/wallet/topups",
                                          json={"amount": "10.00", "method": "card"})
    assert response.status_code == 503
    assert response.get_json()["code"] == "payment_provider_unavailable"
    assert app.extensions["test.provider_apis"].seen("POST", "/v1/checkout/sessions") == []
