"""A card on file: saved on the provider's page, shown on the billing page, replaced (the old
one deleted at the provider), removed, and charged for open invoices on their due date."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest
import sqlalchemy as sa

from reseller.accounts.models import Reseller
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from tests.support.invoicing import at, buy
from tests.support.wallet import make_postpaid
from wallet import cards, ledger, services
from wallet.invoices import invoicing
from wallet.invoices.models import Invoice
from wallet.models import Card, TopUp
from wallet.payments.card import CardProvider, ProviderError
from wallet.payments.sandbox import SandboxCard
from wallet.web import cards as card_jobs

PASSWORD = "correct horse battery"


@pytest.fixture
def open_invoice(factory, jobs):
    reseller = factory.reseller(country="FI", vat_id="FI24644919", language="en")
    make_postpaid(reseller.id, "1000.00")
    at("2026-10-05T09:00:00")
    buy(reseller, "cardonfile.fi", "100.00")
    at("2026-11-01T00:05:00")
    with unit_of_work():
        invoicing.run_month_end()
    jobs.run_all()
    invoice = db.session.scalar(sa.select(Invoice).where(Invoice.reseller_id == reseller.id))
    assert invoice.status == "open" and str(invoice.due_date) == "2026-11-15"
    return invoice


@pytest.fixture
def owner(client, factory, open_invoice):
    user = factory.user(db.session.get(Reseller, open_invoice.reseller_id), role="owner")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    return user


def _save_card(client, number: str, expiry: str = "12/29", cvc: str = "123"):
    started = client.post("/billing/card")
    assert started.status_code == 302 and "/payments/sandbox/card-setup/" in started.location
    page = started.location.removeprefix("http://tunnus.test")
    assert client.get(page).status_code == 200
    return client.post(page, data={"number": number, "expiry": expiry, "cvc": cvc,
                                   "outcome": "save"})


def _cards(reseller_id: int) -> list[Card]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Card).where(Card.reseller_id == reseller_id)
                                   .order_by(Card.id)))


def _autopay(jobs, moment: str) -> int:
    at(moment)
    with unit_of_work():
        queued = card_jobs.autopay()
    jobs.run_all()
    return queued


@pytest.mark.parametrize("number, expiry, cvc, message", [
    ("4242 4242 4242 4241", "12/29", "123", "The card number is not valid."),
    ("4242424242424242", "10/26", "123", "The card has expired."),
    ("4242424242424242", "13/29", "123", "Enter the expiry date as MM/YY."),
    ("4242424242424242", "12/29", "12", "The security code (CVC) is not valid."),
    ("4000000000000002", "12/29", "123", "The card was declined."),
])
def test_the_provider_page_refuses_bad_cards_clearly(client, owner, open_invoice, number,
                                                     expiry, cvc, message):
    refused = _save_card(client, number, expiry, cvc)
    assert refused.status_code == 422 and message in refused.get_data(as_text=True)
    assert [card.state for card in _cards(open_invoice.reseller_id)] == ["pending"]


@pytest.mark.smoke
def test_saving_shows_the_card_and_replacing_deletes_the_old_one(client, owner, open_invoice,
                                                                 jobs):
    saved = _save_card(client, "4242 4242 4242 4242")
    assert saved.status_code == 302
    billing = client.get("/billing/invoices?lang=en").get_data(as_text=True)
    assert "Visa •••• 4242" in billing and "expires 12/2029" in billing
    assert "Next charge" in billing and open_invoice.number in billing
    [first] = _cards(open_invoice.reseller_id)
    assert first.state == "active" and first.payment_method.startswith("pm_sandbox_")
    raw = db.session.execute(sa.text("SELECT payment_method FROM wallet_cards WHERE id = :id"),
                             {"id": first.id}).scalar_one()
    assert raw.startswith("fernet:")
    old_method = first.payment_method

    _save_card(client, "5555 5555 5555 4444", "01/30")
    jobs.run_all()

    first, second = _cards(open_invoice.reseller_id)
    assert (first.state, first.payment_method, first.last4) == ("removed", None, "4242")
    assert (second.state, second.brand, second.last4) == ("active", "mastercard", "4444")
    vault = db.session.scalar(sa.select(SandboxCard).where(
        SandboxCard.payment_method == old_method))
    assert vault.detached_at is not None
    assert "Mastercard •••• 4444" in client.get("/billing/invoices").get_data(as_text=True)


def test_removing_the_card(client, owner, open_invoice, jobs):
    _save_card(client, "4242424242424242")
    removed = client.post("/billing/card/remove", follow_redirects=True)
    assert "deleted at the payment provider" in removed.get_data(as_text=True)
    jobs.run_all()
    [card] = _cards(open_invoice.reseller_id)
    assert card.state == "removed" and card.payment_method is None
    again = client.post("/billing/card/remove", follow_redirects=True)
    assert "No card on file" in again.get_data(as_text=True)


def test_the_card_pays_the_invoice_on_its_due_date_once(client, owner, open_invoice, jobs):
    _save_card(client, "4242424242424242")
    rid = open_invoice.reseller_id
    assert _autopay(jobs, "2026-11-14T06:00:00") == 0  # not due yet

    assert _autopay(jobs, "2026-11-15T06:00:00") == 1

    db.session.expire_all()
    invoice = db.session.get(Invoice, open_invoice.id)
    assert invoice.status == "paid" and invoice.payment_method == "card"
    payment = db.session.scalar(sa.select(TopUp).where(TopUp.invoice_id == invoice.id))
    assert payment.state == "paid" and payment.idempotency_key.startswith("autopay:")
    assert services.get_wallet(reseller_id=rid).receivable_amount == 0
    assert _autopay(jobs, "2026-11-15T07:00:00") == 0  # nothing left to charge
    assert ledger.verify() == []


def test_a_declined_charge_leaves_the_invoice_open_and_is_retried_the_next_day(
        client, owner, open_invoice, jobs):
    _save_card(client, "4000 0000 0000 0341")
    assert _autopay(jobs, "2026-11-15T06:00:00") == 1
    assert _autopay(jobs, "2026-11-15T12:00:00") == 0  # once a day
    db.session.expire_all()
    assert db.session.get(Invoice, open_invoice.id).status == "open"
    billing = client.get("/billing/invoices?lang=en").get_data(as_text=True)
    assert "declined on" in billing
    assert _autopay(jobs, "2026-11-16T06:00:00") == 1
    states = db.session.scalars(sa.select(TopUp.state).where(
        TopUp.invoice_id == open_invoice.id).order_by(TopUp.id)).all()
    assert states == ["cancelled", "cancelled"]
    assert services.get_wallet(reseller_id=open_invoice.reseller_id).receivable_amount == \
        open_invoice.total
    from reseller.core.events import Event
    from whitelabel.models import OutboxMessage

    failed = db.session.scalars(sa.select(Event).where(
        Event.type == "invoice.payment_failed")).all()
    assert [(e.data["reason"], e.data["automatic"]) for e in failed] == [
        ("card_declined", True)] * 2
    mails = db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.template == "invoices/payment_failed")).all()
    assert len(mails) == 2 and mails[0].subject == (
        f"Card payment of invoice {open_invoice.number} was declined")
    assert "update the card on the billing page" in mails[0].text


def test_an_expired_card_is_not_charged(client, owner, open_invoice, jobs):
    _save_card(client, "4242424242424242", expiry="11/26")
    assert _autopay(jobs, "2026-12-01T06:00:00") == 0
    assert "expired" in client.get("/billing/invoices?lang=en").get_data(as_text=True)


def test_only_billing_managers_handle_cards(client, factory, open_invoice):
    technical = factory.user(db.session.get(Reseller, open_invoice.reseller_id),
                             role="technical")
    client.post("/login", data={"email": technical.email, "password": PASSWORD})
    assert client.post("/billing/card").status_code == 403
    assert client.post("/billing/card/remove").status_code == 403
    assert client.get("/payments/sandbox/card-setup/not-a-token").status_code == 404


class _FakeCardApi(BaseHTTPRequestHandler):
    """The card provider's API as far as this adapter uses it (no card network here)."""

    seen: list = []

    def do_POST(self):  # noqa: N802 - the http.server interface
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        self.seen.append((self.path, dict(self.headers), form))
        ok = self.headers.get("Authorization") == "Bearer sk_test_tunnus"
        status = 200 if ok and "pm_declined" not in self.path else 402
        body = json.dumps({"id": "pi_1", "status": "processing"} if status == 200
                          else {"error": {"code": "card_declined"}}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_card_adapter_charges_and_deletes_through_the_provider_api():
    server = HTTPServer(("127.0.0.1", 0), _FakeCardApi)
    threading.Thread(target=server.serve_forever,
                     kwargs={"poll_interval": 0.05}, daemon=True).start()
    provider = CardProvider("whsec", api_url=f"http://127.0.0.1:{server.server_port}",
                            api_key="sk_test_tunnus")
    try:
        assert provider.charge(payment_method="pm_1", total=Decimal("127.00"), token="tok",
                               today=None, now=0, customer="cus_1") is None
        provider.detach(payment_method="pm_1", now=None)
        with pytest.raises(ProviderError, match="402"):
            provider.detach(payment_method="pm_declined", now=None)
    finally:
        server.shutdown()
    (charge_path, headers, form), (detach_path, _, _), _ = _FakeCardApi.seen
    assert charge_path == "/v1/payment_intents" and headers["Idempotency-Key"] == "charge-tok"
    assert form["amount"] == ["12700"] and form["off_session"] == ["true"]
    assert form["metadata[topup]"] == ["tok"] and form["payment_method"] == ["pm_1"]
    assert form["customer"] == ["cus_1"]
    assert detach_path == "/v1/payment_methods/pm_1/detach"
    assert cards.AUTOPAY_PREFIX == "autopay:"


def test_the_api_shows_adds_and_removes_the_card(client, factory, open_invoice, jobs):
    reseller = db.session.get(Reseller, open_invoice.reseller_id)
    api = factory.api(reseller)
    missing = api.get("/api/v1/wallet/card")
    assert missing.status_code == 404 and missing.json["code"] == "no_card_on_file"

    started = api.post("/api/v1/wallet/card", headers={"Idempotency-Key": "card-1"})
    assert started.status_code == 201
    page = started.json["setup_url"].removeprefix("http://tunnus.test")
    assert page.startswith("/payments/sandbox/card-setup/")
    client.post(page, data={"number": "4242424242424242", "expiry": "12/29", "cvc": "123",
                            "outcome": "save"})

    shown = api.get("/api/v1/wallet/card").json
    assert (shown["brand"], shown["last4"], shown["expired"]) == ("visa", "4242", False)
    assert shown["next_charge"]["invoice"] == open_invoice.number
    assert shown["next_charge"]["date"] == "2026-11-15"
    assert Decimal(shown["next_charge"]["total"]) == Decimal(shown["next_charge"]["amount"]) \
        + Decimal(shown["next_charge"]["surcharge"])
    assert factory.api(factory.reseller()).get("/api/v1/wallet/card").status_code == 404
    assert api.delete("/api/v1/wallet/card").status_code == 204
    assert api.get("/api/v1/wallet/card").status_code == 404
    assert api.delete("/api/v1/wallet/card").status_code == 404
    reader = factory.api(reseller, scopes=["billing:read"])
    assert reader.post("/api/v1/wallet/card", headers={"Idempotency-Key": "c2"}
                       ).status_code == 403


def test_no_second_charge_while_one_is_in_flight(client, owner, open_invoice, jobs):
    """A charge the provider has not answered could still succeed: autopay waits for it
    (up to three days) instead of charging the card again."""
    _save_card(client, "4242424242424242")
    at("2026-11-15T06:00:00")
    with unit_of_work():
        assert card_jobs.autopay() == 1
    jobs.jobs.clear()  # the provider never answers
    assert _autopay(jobs, "2026-11-16T06:00:00") == 0
    assert _autopay(jobs, "2026-11-18T06:00:01") == 1  # taken as abandoned after 3 days
    db.session.expire_all()
    assert db.session.get(Invoice, open_invoice.id).status == "paid"
