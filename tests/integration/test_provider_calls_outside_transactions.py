"""Payment-provider calls made by jobs run with no database transaction open (issue 31,
point 3): a charge, a card's deletion and a PayPal capture wait on the provider without
holding a row or the event feed. A crash between the charge and its outcome is retried
as the same charge (the same idempotency key), and the invoice is paid once."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from reseller.accounts.models import Reseller
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.core.jobs import run
from tests.integration import test_cards_on_file as on_file
from tests.support.domains import fund
from tests.support.invoicing import at
from tests.support.outside_calls import spy_on_methods, watching_writes
from wallet import ledger, topups
from wallet.invoices.models import Invoice
from wallet.models import TopUp
from wallet.money import Money
from wallet.payments.paypal import PayPalProvider
from wallet.payments.sandbox import SandboxProvider
from wallet.web import cards as card_jobs
from wallet.web.payments import CAPTURE_ORDER_JOB

open_invoice, owner = on_file.open_invoice, on_file.owner  # the cards' fixtures
_autopay, _cards, _save_card = on_file._autopay, on_file._cards, on_file._save_card


class Crash(BaseException):
    """The worker dies (not an Exception: nothing catches it)."""


def test_the_autopay_charge_is_asked_with_no_transaction_open(
        client, owner, open_invoice, jobs, monkeypatch):
    _save_card(client, "4242424242424242")
    calls = spy_on_methods(monkeypatch, SandboxProvider, "charge")
    assert _autopay(jobs, "2026-11-15T06:00:00") == 1
    assert calls == [("charge", False)]
    db.session.expire_all()
    assert db.session.get(Invoice, open_invoice.id).status == "paid"


def test_a_crash_after_the_charge_is_retried_as_the_same_charge(
        client, owner, open_invoice, jobs, monkeypatch):
    _save_card(client, "4242424242424242")
    at("2026-11-15T06:00:00")
    with unit_of_work():
        assert card_jobs.autopay() == 1
    [(path, args)] = [job for job in jobs.jobs if job[0] == "wallet.web.cards.charge"]
    jobs.jobs.clear()
    answers = []
    real_charge = SandboxProvider.charge

    def charged_then_crash(self, **kwargs):
        answers.append(real_charge(self, **kwargs))
        if len(answers) == 1:
            raise Crash("the worker dies before the callback is applied")
        return answers[-1]

    monkeypatch.setattr(SandboxProvider, "charge", charged_then_crash)
    with pytest.raises(Crash):
        run(path, *args)
    db.session.expire_all()
    payment = db.session.get(TopUp, args[0])
    assert payment.state == "pending"
    run(path, *args)  # the job's retry
    first, second = answers
    assert first[0] == second[0]  # the provider saw one charge: the same intent and event
    db.session.expire_all()
    assert db.session.get(TopUp, args[0]).state == "paid"
    assert db.session.get(Invoice, open_invoice.id).status == "paid"
    paid = db.session.scalars(sa.select(TopUp).where(TopUp.invoice_id == open_invoice.id,
                                                     TopUp.state == "paid")).all()
    assert len(paid) == 1
    run(path, *args)  # a late copy of the job: the payment is settled, nothing is asked
    assert len(answers) == 2
    assert ledger.verify() == []


def test_a_retired_card_is_deleted_with_no_transaction_open(
        client, owner, open_invoice, jobs, monkeypatch):
    _save_card(client, "4242424242424242")
    calls = spy_on_methods(monkeypatch, SandboxProvider, "detach")
    client.post("/billing/card/remove")
    jobs.run_all()
    assert calls == [("detach", False)]
    [card] = _cards(open_invoice.reseller_id)
    assert card.state == "removed" and card.payment_method is None


def test_a_paypal_capture_job_asks_with_no_transaction_open(factory, app, monkeypatch):
    reseller = factory.reseller()
    fund(reseller, "")
    with unit_of_work():
        topup = topups.create_topup(reseller_id=reseller.id, amount=Money.of("50.00"),
                                    method="paypal", idempotency_key="paypal-capture",
                                    surcharges=app.config["PAYMENT_SURCHARGES"],
                                    provider="paypal")
    seen = []
    monkeypatch.setattr(PayPalProvider, "from_config", classmethod(lambda cls, _c: cls))
    monkeypatch.setattr(PayPalProvider, "capture", classmethod(
        lambda cls, *, order_id: seen.append((order_id, db.session().in_transaction()))))
    run(CAPTURE_ORDER_JOB, topup.id, "ORDER-1")
    assert seen == [("ORDER-1", False)]


def test_saving_a_card_asks_the_provider_before_writing(factory, app, monkeypatch,
                                                        open_invoice):
    reseller = db.session.get(Reseller, open_invoice.reseller_id)
    api = factory.api(reseller, scopes=["billing:write", "billing:read"])
    assert api.get("/api/v1/wallet/card").status_code == 404
    writes: list = []
    spy_on_methods(monkeypatch, SandboxProvider, "start_setup", writes=writes)
    with watching_writes(db.engine):
        started = api.post("/api/v1/wallet/card")
    assert started.status_code == 201, started.json
    [(_called, before)] = writes
    # The token's last use (reseller.accounts, at most once a minute) is not this test's.
    assert [w for w in before if not w.startswith("UPDATE access_tokens")] == []
    [card] = _cards(reseller.id)
    assert card.state == "pending" and card.setup_token in started.json["setup_url"]


# -- a top-up's checkout: the row committed, the provider asked, the answer recorded -------------

def _topup_api(factory, app):
    reseller = factory.reseller()
    fund(reseller, "10.00")
    api = factory.api(reseller, scopes=["billing:write", "billing:read"])
    # The token's last use (reseller.accounts, at most once a minute) is not this test's.
    assert api.get("/api/v1/wallet").status_code == 200
    return reseller, api


def test_a_topup_checkout_is_created_with_no_transaction_open(factory, app, monkeypatch):
    reseller, api = _topup_api(factory, app)
    writes: list = []
    calls = spy_on_methods(monkeypatch, SandboxProvider, "start_checkout", writes=writes)
    with watching_writes(db.engine):
        started = api.post("/api/v1/wallet/topups", json={"amount": "25.00", "method": "card"})
    assert started.status_code == 201, started.json
    assert calls == [("start_checkout", False)]
    assert [w for _, before in writes for w in before] == []
    db.session.expire_all()
    topup = db.session.get(TopUp, started.json["id"])
    assert topup.checkout_url == started.json["checkout_url"] and topup.state == "pending"


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_crash_around_the_checkout_loses_none_and_opens_no_second(factory, app, monkeypatch,
                                                                    when):
    """The worker dies before the provider answers, or after it did but before the answer
    was recorded. The top-up was committed before the call, so it is kept, pending; the
    same Idempotency-Key creates no second one (its first request took effect without an
    answer: 409 in use while it may still be waiting, then unanswered, docs/api.md), and showing the top-up asks the provider for the same
    checkout (the same token, which each provider's request carries as its idempotency
    key: no second intent), recorded once."""
    reseller, api = _topup_api(factory, app)
    tokens = []
    real = SandboxProvider.start_checkout

    def crashing(self, request):
        tokens.append(request.token)
        if when == "after":
            real(self, request)
        if len(tokens) == 1:
            raise Crash(f"the worker dies {when} the provider answers")
        return real(self, request)

    monkeypatch.setattr(SandboxProvider, "start_checkout", crashing)
    headers = {"Idempotency-Key": f"crash-{when}"}
    body = {"amount": "40.00", "method": "paypal"}
    with pytest.raises(Crash):
        api.post("/api/v1/wallet/topups", json=body, headers=headers)
    db.session.expire_all()
    [kept] = db.session.scalars(sa.select(TopUp).where(TopUp.reseller_id == reseller.id)).all()
    assert kept.state == "pending" and kept.checkout_url is None
    # Committed without an answer a moment ago: it may still be waiting on the provider.
    monkeypatch.setitem(app.config, "IDEMPOTENCY_WAIT_SECONDS", 0.1)
    waiting = api.post("/api/v1/wallet/topups", json=body, headers=headers)
    assert waiting.status_code == 409 and waiting.json["code"] == "idempotency_key_in_use"
    monkeypatch.setitem(app.config, "IDEMPOTENCY_IN_USE_SECONDS", 0)  # ... and much later
    again = api.post("/api/v1/wallet/topups", json=body, headers=headers)
    assert again.status_code == 409 and again.json["code"] == "idempotency_key_unanswered"
    shown = api.get(f"/api/v1/wallet/topups/{kept.id}")
    assert shown.status_code == 200 and shown.json["checkout_url"]
    assert tokens == [kept.token, kept.token]
    listed = api.get("/api/v1/wallet/topups")
    assert [t["checkout_url"] for t in listed.json["items"]] == [shown.json["checkout_url"]]
    assert tokens == [kept.token, kept.token]  # recorded: not asked again
    assert len(db.session.scalars(sa.select(TopUp).where(
        TopUp.reseller_id == reseller.id)).all()) == 1


def test_the_checkout_recorded_first_stands(factory, app):
    _reseller, api = _topup_api(factory, app)
    started = api.post("/api/v1/wallet/topups", json={"amount": "15.00", "method": "card"})
    with unit_of_work():
        recorded = topups.record_checkout(started.json["id"], url="https://late.example/x",
                                          reference="late")
    assert recorded == started.json["checkout_url"]
