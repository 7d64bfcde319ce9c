"""The client area's trademark pages (protect a mark with its price shown, the matches
and a decision on each, cancel and resume) and the console's effective-dated prices."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.core.jobs import PERIODIC, run
from reseller.trademarks.models import TrademarkPrice
from tests.functional.test_client_area import login
from tests.support.domains import CONTACT
from tests.support.invoicing import at
from tests.support.trademarks import install_trademark_prices
from tests.support.wallet import fund


@pytest.fixture
def owner(factory):
    install_trademark_prices()
    user = factory.user()
    fund(user.reseller_id, "100.00")
    return user


@pytest.mark.smoke
def test_an_owner_protects_a_mark_and_decides_on_its_matches(owner, factory, client, app,
                                                            monkeypatch):
    monkeypatch.setitem(app.config, "TRADEMARK_ZONE_SOURCE", "none")  # registrations only
    contact = factory.api(owner.reseller).post("/api/v1/contacts", json=CONTACT).json["id"]
    login(client, owner)
    page = client.get("/trademarks").get_data(as_text=True)
    assert "Trademark protection" in page and "€" in page  # the price before buying
    added = client.post("/trademarks", data={
        "mark": "Kotimaa", "holder": "Kotimaa Oy", "contact": str(contact),
        "languages": ["fi"], "billing_period": "month", "variants": "kotimaa24"})
    assert added.status_code == 302
    detail = client.get(added.headers["Location"]).get_data(as_text=True)
    assert "kotimaa, kotimaa24" in detail and "Maija" in detail
    # A look-alike registered elsewhere here: the hourly watch finds it from the cursor.
    factory.domain(factory.reseller(), "kotimaaa.fi")
    run(PERIODIC["trademarks.watch"].path)
    detail = client.get(added.headers["Location"]).get_data(as_text=True)
    assert "kotimaaa.fi" in detail and "Typo" in detail
    match_id = detail.split('name="match_id" value="')[1].split('"')[0]
    saved = client.post(added.headers["Location"], data={
        "do": "match", "match_id": match_id, "state": "act_on", "action": "purchase",
        "note": "Offer 200 EUR"})
    assert saved.status_code == 302
    assert "Offer 200 EUR" in client.get(added.headers["Location"]).get_data(as_text=True)
    bad = client.post(added.headers["Location"], data={
        "do": "match", "match_id": match_id, "state": "bogus"})
    assert bad.status_code == 422
    client.post(added.headers["Location"], data={"do": "cancel"})
    assert "Keep protecting it" in client.get(added.headers["Location"]).get_data(as_text=True)
    client.post(added.headers["Location"], data={"do": "resume"})
    assert "Cancel at the end" in client.get(added.headers["Location"]).get_data(as_text=True)


def test_a_refused_mark_is_a_form_error(owner, client):
    login(client, owner)
    page = client.post("/trademarks", data={"mark": "???", "holder": "X"})
    assert page.status_code == 422 and "mark:" in page.get_data(as_text=True)
    huge = client.post("/trademarks", data={"mark": "Kotimaa", "holder": "X",
                                            "contact": "100000000000"})
    assert huge.status_code == 422 and "contact:" in huge.get_data(as_text=True)


def test_a_billing_user_sees_marks_but_cannot_add_one(owner, factory, client):
    billing = factory.user(owner.reseller, role="billing")
    login(client, billing)
    assert client.get("/trademarks").status_code == 200
    refused = client.post("/trademarks", data={"mark": "Kotimaa", "holder": "Kotimaa Oy"})
    assert refused.status_code == 422
    assert "Your role cannot change trademark protection." in refused.get_data(as_text=True)


def test_the_operator_sets_effective_dated_prices_with_history(factory, client):
    at("2026-11-20T10:00:00")
    login(client, factory.operator(), "operator password")
    assert "missing" in client.get("/console/trademark-prices").get_data(as_text=True)
    saved = client.post("/console/trademark-prices", data={
        "billing_period": "year", "price_list": "prepaid", "amount": "99,00",
        "effective_from": "2026-12-01"})
    assert saved.status_code == 302
    page = client.get("/console/trademark-prices").get_data(as_text=True)
    assert "99.00" in page or "99,00" in page
    past = client.post("/console/trademark-prices", data={
        "billing_period": "year", "price_list": "prepaid", "amount": "5.00",
        "effective_from": "2026-01-01"})
    assert past.status_code == 422
    with unit_of_work():
        rows = db.session.scalars(sa.select(TrademarkPrice)).all()
    assert [(r.billing_period, r.price_list, str(r.amount)) for r in rows] == [
        ("year", "prepaid", "99.00")]
