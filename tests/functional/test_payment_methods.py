"""PAYMENT_METHODS: a method the operator does not offer is not on any page and every way
of starting a payment with it is a clear 422, never a checkout page that does not exist."""

from __future__ import annotations

import pytest

from wallet.models import TopUp

PASSWORD = "correct horse battery"


@pytest.fixture
def bank_transfer_only(app):
    saved = app.config["PAYMENT_METHODS"]
    app.config["PAYMENT_METHODS"] = ("bank_transfer",)
    yield
    app.config["PAYMENT_METHODS"] = saved


@pytest.fixture
def owner(factory, client):
    user = factory.user(factory.reseller())
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return user


@pytest.mark.smoke
@pytest.mark.parametrize("method", ["card", "paypal", "online_banking"])
def test_api_refuses_a_top_up_by_a_method_not_offered(factory, bank_transfer_only, method,
                                                      db_session):
    reseller = factory.reseller()
    response = factory.api(reseller).post(
        "/api/v1/wallet/topups", json={"amount": "100.00", "method": method},
        headers={"Idempotency-Key": f"t-{method}"})
    assert response.status_code == 422
    body = response.get_json()
    assert (body["code"], body["method"], body["offered"]) == (
        "payment_method_not_offered", method, ["bank_transfer"])
    assert db_session.query(TopUp).filter_by(reseller_id=reseller.id).count() == 0


def test_api_still_takes_an_offered_method(factory, bank_transfer_only):
    response = factory.api(factory.reseller()).post(
        "/api/v1/wallet/topups", json={"amount": "100.00", "method": "bank_transfer"},
        headers={"Idempotency-Key": "t-bank"})
    assert response.status_code == 201 and response.get_json()["bank_transfer"]["iban"]


def test_api_refuses_saving_a_card_when_cards_are_not_offered(factory, bank_transfer_only):
    response = factory.api(factory.reseller()).post("/api/v1/wallet/card",
                                                    headers={"Idempotency-Key": "card-1"})
    assert response.status_code == 422
    assert response.get_json()["code"] == "payment_method_not_offered"


def test_wallet_page_shows_only_offered_methods_and_refuses_others(client, owner,
                                                                   bank_transfer_only):
    page = client.get("/wallet").get_data(as_text=True)
    assert 'value="bank_transfer"' in page
    assert 'value="card"' not in page and 'value="paypal"' not in page
    refused = client.post("/wallet/topups", data={"amount": "100", "method": "card",
                                                  "key": "k1", "confirm": "1"})
    assert refused.status_code == 302 and refused.headers["Location"].endswith("/wallet")
    assert "This payment method is not offered" in client.get("/wallet").get_data(as_text=True)


def test_invoices_page_offers_no_card_when_cards_are_not_offered(client, owner,
                                                                 bank_transfer_only):
    page = client.get("/billing/invoices").get_data(as_text=True)
    assert "Add a card" not in page


def test_invoices_page_offers_a_card_when_cards_are_offered(client, owner):
    assert "Add a card" in client.get("/billing/invoices").get_data(as_text=True)
