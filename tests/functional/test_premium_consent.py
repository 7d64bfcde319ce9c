"""Money needs consent: a premium price is charged only when the caller accepted it
(``accept_price``), and nothing that was refused moves money — no hold, no order, no job,
no registry command. A registry price that rose after the order fails it and frees the hold."""

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.events import Event
from reseller.core.extensions import db
from reseller.domains import lifecycle
from reseller.domains.models import Order
from reseller.registry.sandbox import PREMIUM_WORDS
from reseller.registry.sandbox_models import SandboxDomain, SandboxTransaction
from tests.support.domains import CONTACT, available, fund, install_catalogue, order_jobs, sandbox
from wallet import services as wallet
from wallet.money import Money

KAUPPA = {"currency": "EUR", "net": "250.00", "vat": "63.75", "total": "313.75"}


@pytest.fixture
def setup(factory):
    install_catalogue()
    reseller = factory.reseller()
    fund(reseller, "1000.00")
    api = factory.api(reseller)
    contact = api.post("/api/v1/contacts", json=CONTACT).json
    return reseller, api, contact


def register(api, contact, name="kauppa.fi", **extra):
    return api.post("/api/v1/domains", json={
        "name": name, "period": 1, "contacts": {"registrant": contact["id"]}, **extra})


def assert_nothing_moved(reseller, jobs, name):
    """No hold, no order, no queued job, and the registry never saw a command."""
    assert available(reseller) == Money.of("1000.00")
    assert db.session.scalars(sa.select(Order).where(Order.domain_name == name)).all() == []
    assert order_jobs(jobs) == []
    assert db.session.scalars(sa.select(SandboxTransaction).where(
        SandboxTransaction.name == name)).all() == []


@pytest.mark.smoke
def test_a_premium_name_without_accept_price_is_refused_with_its_price(setup, jobs):
    reseller, api, contact = setup
    response = register(api, contact)
    assert response.status_code == 409
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json
    assert problem["code"] == "price_not_accepted"
    assert problem["price"] == KAUPPA and problem["premium"] is True
    assert problem["accept_price"] is None
    assert "250.00" in problem["detail"]
    assert_nothing_moved(reseller, jobs, "kauppa.fi")
    assert db.session.get(SandboxDomain, "kauppa.fi") is None


def test_a_price_above_accept_price_is_refused_and_moves_nothing(setup, jobs):
    reseller, api, contact = setup
    response = register(api, contact, accept_price="249.99")
    assert response.status_code == 409
    assert response.json["code"] == "price_not_accepted"
    assert response.json["price"] == KAUPPA and response.json["accept_price"] == "249.99"
    assert_nothing_moved(reseller, jobs, "kauppa.fi")


def test_an_accepted_premium_price_is_held_then_charged_at_the_quote(setup, jobs):
    reseller, api, contact = setup
    response = register(api, contact, accept_price="300.00")  # a ceiling, not the price
    assert response.status_code == 202, response.json
    assert response.json["premium"] is True and response.json["price"] == KAUPPA
    assert available(reseller) == Money.of("686.25")
    jobs.run_all()
    order = db.session.get(Order, response.json["id"])
    assert order.state == "completed" and order.params["fee"] == "250.00"
    assert wallet.get_hold(reference=order.reference).state == "captured"
    assert available(reseller) == Money.of("686.25")
    assert api.get("/api/v1/domains/kauppa.fi").json["status"] == "active"


def test_standard_names_need_no_accept_price_but_honour_one(setup, jobs):
    reseller, api, contact = setup
    assert register(api, contact, "tavallinen.fi").status_code == 202
    cheap = register(api, contact, "toinen-tavallinen.fi", accept_price="5.00")
    assert cheap.status_code == 409 and cheap.json["code"] == "price_not_accepted"
    assert cheap.json["premium"] is False and cheap.json["price"]["net"] == "9.90"
    assert register(api, contact, "kolmas.fi", accept_price="9.90").status_code == 202


@pytest.mark.parametrize("bad", [250, 250.0, "250.001", "1e3", "-1.00", " 250", "250,00",
                                 "abc", "", True, {"amount": "250.00"}])
def test_accept_price_must_be_a_decimal_string(setup, jobs, bad):
    reseller, api, contact = setup
    response = register(api, contact, accept_price=bad)
    assert response.status_code == 422, response.json
    assert "accept_price" in response.json["errors"]
    assert_nothing_moved(reseller, jobs, "kauppa.fi")


def test_a_registry_price_above_the_accepted_one_fails_the_order_and_frees_the_hold(
        setup, jobs, monkeypatch):
    reseller, api, contact = setup
    order = register(api, contact, accept_price="250.00").json
    monkeypatch.setitem(PREMIUM_WORDS, "kauppa", Decimal("300.00"))  # the registry repriced
    jobs.run_all()
    failed = db.session.get(Order, order["id"])
    assert failed.state == "failed" and "2004" in failed.reason
    assert wallet.get_hold(reference=failed.reference).state == "released"
    assert available(reseller) == Money.of("1000.00")
    assert db.session.get(SandboxDomain, "kauppa.fi") is None


def test_renewing_a_premium_name_needs_consent(setup, jobs):
    reseller, api, contact = setup
    register(api, contact, accept_price="250.00")
    jobs.run_all()
    refused = api.post("/api/v1/domains/kauppa.fi/renew", json={"period": 2})
    assert refused.status_code == 409 and refused.json["code"] == "price_not_accepted"
    assert refused.json["price"]["net"] == "500.00"
    assert available(reseller) == Money.of("686.25")
    too_low = api.post("/api/v1/domains/kauppa.fi/renew",
                       json={"period": 2, "accept_price": "499.99"})
    assert too_low.status_code == 409
    renewed = api.post("/api/v1/domains/kauppa.fi/renew",
                       json={"period": 2, "accept_price": "500.00"})
    assert renewed.status_code == 202 and renewed.json["premium"] is True
    jobs.run_all()
    assert api.get(f"/api/v1/orders/{renewed.json['id']}").json["state"] == "completed"
    assert available(reseller) == Money.of("686.25") - Money.of("627.50")


def test_transferring_a_premium_name_in_needs_consent(setup, jobs):
    reseller, api, contact = setup
    sandbox().seed_foreign(name="pizza.fi", auth_code="Pizza-koodi-1")
    body = {"name": "pizza.fi", "auth_code": "Pizza-koodi-1"}
    refused = api.post("/api/v1/transfers", json=body)
    assert refused.status_code == 409 and refused.json["price"]["net"] == "180.00"
    assert_nothing_moved(reseller, jobs, "pizza.fi")
    accepted = api.post("/api/v1/transfers", json={**body, "accept_price": "180.00"})
    assert accepted.status_code == 202 and accepted.json["premium"] is True
    jobs.run_all()
    assert api.get(f"/api/v1/orders/{accepted.json['id']}").json["state"] == "held"
    assert sandbox().transfer_query(name="pizza.fi").status == "pending"


def test_restoring_a_premium_name_needs_consent(setup, jobs):
    reseller, api, contact = setup
    register(api, contact, "abc.com", accept_price="120.00")  # 1-3 letters: premium .com
    jobs.run_all()
    clock.set_offset(timedelta(days=6))  # past the add grace period: redemption
    assert api.delete("/api/v1/domains/abc.com").json["status"] == "redemption"
    before = available(reseller)
    refused = api.post("/api/v1/domains/abc.com/restore")
    assert refused.status_code == 409 and refused.json["code"] == "price_not_accepted"
    # the redemption fee plus the registry's premium year
    assert refused.json["price"]["net"] == "189.00"
    assert api.post("/api/v1/domains/abc.com/restore",
                    json={"accept_price": "189"}).status_code == 202
    assert available(reseller) < before
    jobs.run_all()
    assert api.get("/api/v1/domains/abc.com").json["status"] == "active"
    bad = api.post("/api/v1/domains/abc.com/restore", json={"accept_price": 189})
    assert bad.status_code == 422


def test_auto_renew_skips_a_premium_name_and_says_why(setup, jobs):
    reseller, api, contact = setup
    register(api, contact, accept_price="250.00")
    jobs.run_all()
    orders_before = db.session.scalar(sa.select(sa.func.count()).select_from(Order))
    lifecycle.auto_renew(days_ahead=400)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == orders_before
    skipped = db.session.scalars(sa.select(Event).where(Event.type == "domain.expiring")).all()
    assert skipped[-1].data["auto_renew_skipped"] is True
    assert skipped[-1].data["reason"] == "price_not_accepted"
    assert available(reseller) == Money.of("686.25")


def test_the_check_shows_the_price_to_accept(setup):
    _reseller, api, _contact = setup
    result = api.get("/api/v1/domains/check?names=kauppa.fi&period=2").json["results"][0]
    assert result["premium"] is True and result["price"]["net"] == "500.00"


def test_a_refused_order_can_be_retried_with_consent_under_the_same_key(setup, jobs):
    reseller, api, contact = setup
    body = {"name": "kauppa.fi", "period": 1, "contacts": {"registrant": contact["id"]}}
    key = {"Idempotency-Key": "premium-retry-1"}
    assert api.post("/api/v1/domains", json=body, headers=key).status_code == 409
    accepted = api.post("/api/v1/domains", json={**body, "accept_price": "250.00"},
                        headers=key)
    assert accepted.status_code == 202 and accepted.json["premium"] is True
    replay = api.post("/api/v1/domains", json={**body, "accept_price": "250.00"}, headers=key)
    assert replay.json["id"] == accepted.json["id"]
    assert available(reseller) == Money.of("686.25")  # held once
