"""Open postpaid invoices paid by card, PayPal or online banking through the payment
providers, like a top-up: the invoice is settled once and the receivable comes back."""

from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import current_app

from reseller.accounts.models import Reseller
from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from tests.support.invoicing import at, buy
from tests.support.wallet import make_postpaid
from wallet import ledger, services
from wallet.invoices import invoicing
from wallet.invoices.models import Invoice
from wallet.models import LedgerTransfer, TopUp
from wallet.money import Money
from wallet.payments import adapter

BASE = "http://tunnus.test"


@pytest.fixture
def open_invoice(factory, jobs):
    reseller = factory.reseller(country="FI", vat_id="FI24644919")
    make_postpaid(reseller.id, "1000.00")
    at("2026-10-05T09:00:00")
    buy(reseller, "cardpay.fi", "100.00")
    at("2026-11-01T00:05:00")
    with unit_of_work():
        invoicing.run_month_end()
    jobs.run_all()
    invoice = db.session.scalar(sa.select(Invoice).where(Invoice.reseller_id == reseller.id))
    assert invoice.status == "open" and invoice.total == Decimal("125.50")
    at("2026-11-05T10:00:00")
    return invoice


def _reseller(invoice):
    return db.session.get(Reseller, invoice.reseller_id)


def _wallet(reseller_id: int):
    db.session.expire_all()
    return services.get_wallet(reseller_id=reseller_id)


def _pay(api, number: str, method: str = "card", key: str = "pay-1"):
    return api.post(f"/api/v1/invoices/{number}/payments", json={"method": method},
                    headers={"Idempotency-Key": key})


@pytest.mark.smoke
def test_sandbox_card_payment_pays_the_invoice_and_a_webhook_replay_changes_nothing(
        factory, open_invoice, client):
    rid = open_invoice.reseller_id
    api = factory.api(_reseller(open_invoice))
    assert _wallet(rid).receivable == Money.of("125.50")

    response = _pay(api, open_invoice.number)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["invoice"], body["state"]) == (open_invoice.number, "pending")
    assert (body["amount"], body["surcharge"], body["total"]) == ("125.50", "1.50", "127.00")
    assert body["checkout_url"].startswith(f"{BASE}/payments/sandbox/checkout/")
    assert _pay(api, open_invoice.number).get_json()["id"] == body["id"]  # same key
    path = body["checkout_url"].removeprefix(BASE)
    paid = client.post(path, data={"outcome": "paid"})
    assert paid.status_code == 302 and paid.headers["Location"].endswith("/billing/invoices")

    db.session.refresh(open_invoice)
    assert open_invoice.status == "paid" and open_invoice.paid_amount == Decimal("125.50")
    assert open_invoice.payment_method == "card"
    assert _wallet(rid).receivable == Money.of("0.00")
    assert services.available(reseller_id=rid) == Money.of("1000.00")
    transfer = db.session.scalar(sa.select(LedgerTransfer).where(
        LedgerTransfer.reference == f"topup:{body['id']}"))
    assert transfer.kind == "invoice_payment" and open_invoice.number in transfer.description
    balances = ledger.account_balances(rid)
    assert balances[(ledger.RECEIVABLE, rid)] == Decimal("0.00")

    # The provider calls again (the same event, then a second "paid" event): nothing moves.
    payment = db.session.get(TopUp, body["id"])
    provider = adapter("sandbox", current_app.config)
    replay, headers = provider.callback(token=payment.token, outcome="paid",
                                        total=payment.total, now=int(clock.now().timestamp()))
    for _ in range(2):
        again = client.post("/payments/webhooks/sandbox", data=replay, headers=headers)
        assert again.status_code == 200 and again.get_json()["state"] == "paid"
    late = client.post(path, data={"outcome": "paid"})
    assert late.status_code in (302, 409)
    db.session.refresh(open_invoice)
    assert open_invoice.paid_amount == Decimal("125.50")
    assert _wallet(rid).receivable == Money.of("0.00")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransfer).where(
        LedgerTransfer.kind == "invoice_payment")) == 1
    assert ledger.verify() == []
    # Invoice payments are not wallet top-ups.
    assert api.get("/api/v1/wallet/topups").get_json()["items"] == []


def test_paying_a_paid_invoice_is_a_conflict(factory, open_invoice):
    with unit_of_work():
        invoicing.mark_invoice_paid(invoice_number=open_invoice.number,
                                    amount=Decimal("125.50"), paid_at=clock.now(),
                                    method="bank_transfer")
    api = factory.api(_reseller(open_invoice))

    response = _pay(api, open_invoice.number, "paypal", key="pay-paid")

    assert response.status_code == 409
    assert response.get_json()["code"] == "invoice_not_payable"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TopUp)) == 0


def test_another_resellers_invoice_is_not_found(factory, open_invoice):
    api = factory.api(factory.reseller())

    response = _pay(api, open_invoice.number, key="pay-other")

    assert response.status_code == 404
    assert response.get_json()["code"] == "invoice_not_found"


def test_bank_transfer_is_not_a_checkout_method(factory, open_invoice):
    api = factory.api(_reseller(open_invoice))

    response = _pay(api, open_invoice.number, "bank_transfer", key="pay-bank")

    assert response.status_code == 422


def test_billing_page_pay_button_goes_to_checkout(factory, open_invoice, client):
    user = factory.user(_reseller(open_invoice), role="owner")
    client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    page = client.get("/billing/invoices?lang=en")
    html = page.get_data(as_text=True)
    action = f"/billing/invoices/{open_invoice.number}/pay"
    assert page.status_code == 200 and action in html and 'name="csrf_token"' in html

    started = client.post(action, data={"method": "online_banking", "key": "k1"})

    assert started.status_code == 302
    assert started.headers["Location"].startswith(f"{BASE}/payments/sandbox/checkout/")
    payment = db.session.scalar(sa.select(TopUp).where(TopUp.invoice_id == open_invoice.id))
    assert (payment.method, payment.total) == ("online_banking", Decimal("126.00"))
    checkout = client.get(started.headers["Location"].removeprefix(BASE)).get_data(as_text=True)
    assert f"Invoice {open_invoice.number}" in checkout and "Top-up" not in checkout
