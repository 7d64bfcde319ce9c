"""Client-area and console pages for domains work without JavaScript."""

import io
from decimal import Decimal

import pytest
import sqlalchemy as sa

from reseller.core.extensions import db
from reseller.domains.models import Contact, Order
from tests.support.domains import fund, install_catalogue, make_contact, sandbox

PASSWORD = "correct horse battery"


@pytest.fixture
def signed_in(client, factory):
    install_catalogue()
    user = factory.user(role="owner")
    fund(user.reseller, "100.00")
    make_contact(user.reseller)
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    return client, user


@pytest.mark.smoke
def test_search_shows_the_price_before_registering(signed_in, jobs):
    client, user = signed_in
    page = client.get("/domains/search?q=sivusto").get_data(as_text=True)
    assert "sivusto.fi" in page and "12.42" in page
    confirm = client.get("/domains/register?name=sivusto.fi&period=2").get_data(as_text=True)
    assert "24.85" in confirm and 'name="idempotency_key"' in confirm
    contact_id = confirm.split('name="registrant"><option value="')[1].split('"')[0]
    response = client.post("/domains/register", data={
        "name": "sivusto.fi", "period": "2", "registrant": contact_id, "auto_renew": "1",
        "idempotency_key": "page-1"})
    assert response.status_code == 302 and "/orders/" in response.location
    jobs.run_all()
    listing = client.get("/domains").get_data(as_text=True)
    assert "sivusto.fi" in listing
    domain_page = client.get("/domains/sivusto.fi").get_data(as_text=True)
    assert "DNSSEC" in domain_page
    assert client.get("/orders").status_code == 200


def test_domain_page_forms_change_the_domain(signed_in, jobs):
    client, user = signed_in
    client.post("/domains/register", data={
        "name": "lomake.fi", "period": "1", "idempotency_key": "page-2",
        "registrant": str(db.session.scalars(sa.select(Contact.id)).first())})
    jobs.run_all()
    client.post("/domains/lomake.fi/nameservers", data={"nameservers": "ns1.a.example\nns2.b.example"})
    assert sandbox().info("lomake.fi").nameservers == ("ns1.a.example", "ns2.b.example")
    client.post("/domains/lomake.fi/lock", data={"locked": "1"})
    confirmed = {"confirmed": "1", "confirm_name": "lomake.fi"}  # the name typed to confirm
    page = client.post("/domains/lomake.fi/auth_code", data=confirmed,
                       follow_redirects=True).get_data(as_text=True)
    assert "Unlock" in page or "Avaa" in page or "lukitus" in page.lower()
    client.post("/domains/lomake.fi/lock", data={"locked": "0"})
    page = client.post("/domains/lomake.fi/auth_code", data=confirmed).get_data(as_text=True)
    assert 'class="secret"' in page
    shown = client.post("/domains/bulk", data={"names": ["lomake.fi"], "action": "renew",
                                                "idempotency_key": "bulk-page"})
    assert shown.status_code == 200 and 'name="confirmed"' in shown.get_data(as_text=True)
    assert db.session.query(Order).filter_by(kind="renew").count() == 0  # asked first
    response = client.post("/domains/bulk", data={"names": ["lomake.fi"], "action": "renew",
                                                   "idempotency_key": "bulk-page",
                                                   "confirmed": "1"})
    assert response.status_code == 302
    assert db.session.query(Order).filter_by(kind="renew").count() == 1


def test_csv_upload_shows_a_report(signed_in):
    client, _user = signed_in
    sandbox().seed_foreign(name="tuonti.fi", auth_code="T-1")
    data = {"file": (io.BytesIO(b"name,auth_code\ntuonti.fi,T-1\nhuono_nimi.fi,x\n"),
                     "salkku.csv"), "idempotency_key": "csv-page"}
    page = client.post("/transfers", data=data, content_type="multipart/form-data")
    text = page.get_data(as_text=True)
    # The row's refusal says which character, in words (not IDNA's "Codepoint U+005F").
    assert page.status_code == 200 and "tuonti.fi" in text and "“_”" in text
    assert "U+005F" not in text


def test_other_resellers_domain_page_is_404(signed_in, factory, jobs):
    client, _user = signed_in
    assert client.get("/domains/joku-muu.fi").status_code == 404
    assert client.get("/orders/999999").status_code == 404


def test_console_shows_tlds_prices_and_tiers(client, factory):
    install_catalogue()
    staff = factory.operator()
    client.post("/login", data={"email": staff.email, "password": "operator password"})
    assert ".fi" in client.get("/console/tlds").get_data(as_text=True)
    prices = client.get("/console/prices?tld=fi").get_data(as_text=True)
    assert "9,90" in prices or "9.90" in prices
    saved = client.post("/console/prices", data={
        "tld": "fi", "operation": "renew", "price_list": "prepaid", "tier": "standard",
        "amount": "10.50", "effective_from": "2099-01-01"}, follow_redirects=True)
    assert "10,50" in saved.get_data(as_text=True) or "10.50" in saved.get_data(as_text=True)
    tiers = client.post("/console/tiers", data={"code": "plus", "threshold": "2500"},
                        follow_redirects=True).get_data(as_text=True)
    assert "2" in tiers and "Plus" in tiers


def test_technical_users_order_without_seeing_money(client, factory):
    install_catalogue()
    owner = factory.user(role="owner")
    fund(owner.reseller, "100.00")
    make_contact(owner.reseller)
    tech = factory.user(owner.reseller, role="technical")
    client.post("/login", data={"email": tech.email, "password": PASSWORD})
    search = client.get("/domains/search?q=tekninen.fi").get_data(as_text=True)
    confirm = client.get("/domains/register?name=tekninen.fi").get_data(as_text=True)
    assert "12.42" not in search and "12.42" not in confirm
    assert 'name="registrant"' in confirm


def test_a_premium_name_is_ordered_at_the_price_the_page_showed(signed_in, jobs, monkeypatch):
    from reseller.registry.sandbox import PREMIUM_WORDS
    from tests.support.domains import available
    from wallet.money import Money

    client, user = signed_in
    fund(user.reseller, "1000.00")
    confirm = client.get("/domains/register?name=kauppa.fi").get_data(as_text=True)
    assert 'name="accept_price" value="250.00"' in confirm
    contact_id = confirm.split('name="registrant"><option value="')[1].split('"')[0]
    form = {"name": "kauppa.fi", "period": "1", "registrant": contact_id,
            "idempotency_key": "premium-page-1"}
    refused = client.post("/domains/register", data=form, follow_redirects=True)
    assert "250.00" in refused.get_data(as_text=True)  # no consent: the price, no order
    assert db.session.query(Order).count() == 0
    placed = client.post("/domains/register", data={**form, "accept_price": "250.00"})
    assert placed.status_code == 302 and "/orders/" in placed.location
    jobs.run_all()
    page = client.get("/domains/kauppa.fi").get_data(as_text=True)
    assert 'name="accept_price" value="250.00"' in page  # the renewal's yearly price
    before = available(user.reseller)
    monkeypatch.setitem(PREMIUM_WORDS, "kauppa", Decimal("260.00"))  # repriced since shown
    client.post("/domains/kauppa.fi/renew", data={"period": "2", "accept_price": "250.00",
                                                  "idempotency_key": "premium-page-2",
                                                  "confirmed": "1"})
    assert db.session.query(Order).filter_by(kind="renew").count() == 0
    client.post("/domains/kauppa.fi/renew", data={"period": "2", "accept_price": "260.00",
                                                  "idempotency_key": "premium-page-3",
                                                  "confirmed": "1"})
    renewal = db.session.query(Order).filter_by(kind="renew").one()
    assert renewal.net == Decimal("520.00")
    assert available(user.reseller) == before - Money.of("652.60")
