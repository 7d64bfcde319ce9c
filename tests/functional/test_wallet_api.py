"""The wallet over HTTP: balances, top-ups through the sandbox provider, withdrawals,
transactions, and problem+json refusals. Another reseller's ids are 404."""

from decimal import Decimal

import pytest

from reseller.core.db import unit_of_work
from tests.support.wallet import fund, make_postpaid
from wallet import ledger, services
from wallet.money import Money

PASSWORD = "correct horse battery"


@pytest.fixture
def reseller(factory):
    return factory.reseller()


@pytest.mark.smoke
def test_wallet_shows_balances_as_decimal_strings(factory, reseller):
    fund(reseller.id, "100.00")
    with unit_of_work():
        services.hold_funds(reseller_id=reseller.id, net=Money.of("10.00"),
                            vat_rate=Decimal("0.255"), reference="o1", description="x")
    body = factory.api(reseller).get("/api/v1/wallet").get_json()
    assert body == {"currency": "EUR", "payment_mode": "prepaid", "balance": "100.00",
                    "held": "12.55", "available": "87.45", "debt": "0.00", "credit_limit": "0.00",
                    "low_balance_threshold": None,
                    "reference_number": services.get_wallet(reseller_id=reseller.id)
                    .reference_number}


def test_postpaid_wallet_shows_credit(factory, reseller):
    make_postpaid(reseller.id, "2000.00")
    body = factory.api(reseller).get("/api/v1/wallet").get_json()
    assert body["payment_mode"] == "postpaid" and body["available"] == "2000.00"
    assert factory.api(reseller).get("/api/v1/account").get_json()["payment_mode"] == "postpaid"


def test_billing_scope_is_required(factory, reseller):
    api = factory.api(reseller, scopes=["domains:read"])
    response = api.get("/api/v1/wallet")
    assert response.status_code == 403 and response.get_json()["code"] == "insufficient_scope"


@pytest.mark.smoke
def test_card_topup_through_the_sandbox_credits_amount_not_surcharge(factory, reseller, client):
    api = factory.api(reseller)
    response = api.post("/api/v1/wallet/topups", json={"amount": "100.00", "method": "card"},
                        headers={"Idempotency-Key": "top-1"})
    assert response.status_code == 201, response.get_json()
    topup = response.get_json()
    assert (topup["amount"], topup["surcharge"], topup["total"]) == ("100.00", "1.50", "101.50")
    assert topup["checkout_url"].startswith("http://tunnus.test/payments/sandbox/checkout/")
    path = topup["checkout_url"].removeprefix("http://tunnus.test")
    assert b"101" in client.get(path).data
    assert client.post(path, data={"outcome": "paid"}).status_code == 302
    assert client.post(path, data={"outcome": "paid"}).status_code == 302  # double click
    assert api.get("/api/v1/wallet").get_json()["available"] == "100.00"
    shown = api.get(f"/api/v1/wallet/topups/{topup['id']}").get_json()
    assert shown["state"] == "paid" and shown["checkout_url"] is None
    assert ledger.verify() == []


def test_topup_idempotency_key_returns_the_same_topup(factory, reseller):
    api = factory.api(reseller)
    first = api.post("/api/v1/wallet/topups", json={"amount": "50.00", "method": "paypal"},
                     headers={"Idempotency-Key": "same"}).get_json()
    second = api.post("/api/v1/wallet/topups", json={"amount": "50.00", "method": "paypal"},
                      headers={"Idempotency-Key": "same"}).get_json()
    assert first["id"] == second["id"] and first["surcharge"] == "2.00"


def test_bank_transfer_topup_is_free_and_gives_instructions(factory, reseller):
    body = factory.api(reseller).post("/api/v1/wallet/topups", json={
        "amount": "250.00", "method": "bank_transfer"}).get_json()
    assert body["surcharge"] == "0.00" and body["total"] == "250.00"
    assert body["checkout_url"] is None
    bank = body["bank_transfer"]
    assert bank["iban"] and bank["rf_reference"].startswith("RF")
    assert bank["reference"].replace(" ", "") == \
        services.get_wallet(reseller_id=reseller.id).reference_number


@pytest.mark.parametrize("payload, field", [
    ({"amount": "0.00", "method": "card"}, "amount"),
    ({"amount": "10.001", "method": "card"}, "amount"),
    ({"amount": 10.5, "method": "card"}, "amount"),
    ({"amount": "10.00", "method": "cash"}, "method"),
    ({"amount": "abc", "method": "card"}, "amount"),
])
def test_bad_topups_are_422_with_the_field(factory, reseller, payload, field):
    response = factory.api(reseller).post("/api/v1/wallet/topups", json=payload)
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]


def test_withdrawal_holds_then_cancel_returns(factory, reseller):
    fund(reseller.id, "80.00")
    api = factory.api(reseller)
    created = api.post("/api/v1/wallet/withdrawals", json={"amount": "30.00"})
    assert created.status_code == 201
    withdrawal = created.get_json()
    assert api.get("/api/v1/wallet").get_json()["available"] == "50.00"
    cancelled = api.post(f"/api/v1/wallet/withdrawals/{withdrawal['id']}/cancel")
    assert cancelled.get_json()["state"] == "cancelled"
    again = api.post(f"/api/v1/wallet/withdrawals/{withdrawal['id']}/cancel")
    assert again.status_code == 409 and again.get_json()["code"] == "withdrawal_not_pending"
    assert api.get("/api/v1/wallet").get_json()["available"] == "80.00"


def test_withdrawal_above_available_is_402(factory, reseller):
    fund(reseller.id, "10.00")
    response = factory.api(reseller).post("/api/v1/wallet/withdrawals", json={"amount": "10.01"})
    assert response.status_code == 402
    problem = response.get_json()
    assert problem["code"] == "insufficient_funds"
    assert (problem["available"], problem["needed"]) == ("10.00", "10.01")


def test_postpaid_cannot_withdraw(factory, reseller):
    make_postpaid(reseller.id, "100.00")
    response = factory.api(reseller).post("/api/v1/wallet/withdrawals", json={"amount": "1.00"})
    assert response.status_code == 409 and response.get_json()["code"] == "prepaid_only"


def test_another_resellers_topup_and_withdrawal_are_404(factory, reseller):
    other = factory.reseller()
    fund(other.id, "20.00")
    theirs = factory.api(other)
    topup = theirs.post("/api/v1/wallet/topups", json={"amount": "5.00", "method": "card"})
    withdrawal = theirs.post("/api/v1/wallet/withdrawals", json={"amount": "5.00"})
    mine = factory.api(reseller)
    assert mine.get(f"/api/v1/wallet/topups/{topup.get_json()['id']}").status_code == 404
    path = f"/api/v1/wallet/withdrawals/{withdrawal.get_json()['id']}"
    assert mine.get(path).status_code == 404
    assert mine.post(path + "/cancel").status_code == 404


def test_transactions_page_with_cursor_and_filter(factory, reseller):
    for _ in range(3):
        fund(reseller.id, "10.00")
    api = factory.api(reseller)
    page = api.get("/api/v1/wallet/transactions?limit=2").get_json()
    assert len(page["items"]) == 2 and page["items"][0]["amount"] == "10.00"
    rest = api.get(page["next"].removeprefix("http://tunnus.test")).get_json()
    assert len(rest["items"]) == 1 and rest["next"] is None
    assert api.get("/api/v1/wallet/transactions?kind=capture").get_json()["items"] == []
    bad = api.get("/api/v1/wallet/transactions?since=yesterday")
    assert bad.status_code == 422


def test_low_balance_threshold_is_set_over_the_api(factory, reseller):
    api = factory.api(reseller)
    body = api.put("/api/v1/wallet/settings", json={"low_balance_threshold": "25.00"}).get_json()
    assert body["low_balance_threshold"] == "25.00"
    off = api.put("/api/v1/wallet/settings", json={"low_balance_threshold": None}).get_json()
    assert off["low_balance_threshold"] is None
