"""The dashboard a reseller opens first: funds, held and available money, what expires
within 30/60 days with a one-click renewal, recent and failed orders, invoices to pay,
zones that need attention and the API calls used in the current rate-limit window."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from lxml import html

from reseller.core.clock import clock
from reseller.core.extensions import db
from reseller.core.labels import describe, label
from tests.support.domains import install_catalogue
from tests.support.wallet import fund

PASSWORD = "correct horse battery"


def _signed_in(client, user):
    client.post("/login", data={"email": user.email, "password": PASSWORD})


def _text(page, attribute: str, value: str) -> str:
    found = html.fromstring(page.get_data(as_text=True)).xpath(f"//*[@{attribute}='{value}']")
    return " ".join(found[0].text_content().split())


def test_dashboard_shows_funds_expiring_names_and_api_usage(app, client, factory):
    reseller = factory.reseller(language="en")
    user = factory.user(reseller, language="en")
    fund(reseller.id, "250.00")
    soon = factory.domain(reseller, "pian.fi")
    later = factory.domain(reseller, "myohemmin.fi")
    factory.domain(reseller, "kaukana.fi")
    soon.expires_at = clock.now() + timedelta(days=12)
    later.expires_at = clock.now() + timedelta(days=45)
    db.session.commit()
    app.extensions["tunnus.limiter"].reset()
    api = factory.api(reseller)
    for _ in range(3):
        assert api.get("/api/v1/account").status_code == 200
    _signed_in(client, user)
    page = client.get("/?lang=en")
    assert page.status_code == 200
    assert _text(page, "data-field", "balance") == "€250.00"
    assert _text(page, "data-field", "available") == "€250.00"
    expiring = _text(page, "data-panel", "expiring")
    assert "Within 30 days: 1 · within 60 days: 2" in expiring
    assert "pian.fi" in expiring and "myohemmin.fi" in expiring and "kaukana.fi" not in expiring
    assert _text(page, "data-field", "api-used") == "3"
    assert _text(page, "data-field", "api-limit") == "20000"


def test_one_click_renewal_from_the_dashboard_places_the_order(app, client, factory, jobs):
    install_catalogue()
    reseller = factory.reseller(language="en")
    user = factory.user(reseller, language="en")
    fund(reseller.id, "100.00")
    domain = factory.domain(reseller, "uusittava.fi")
    domain.expires_at = clock.now() + timedelta(days=20)
    db.session.commit()
    _signed_in(client, user)
    tree = html.fromstring(client.get("/?lang=en").get_data(as_text=True))
    form = tree.xpath("//*[@data-panel='expiring']//form")[0]
    fields = {i.get("name"): i.get("value") for i in form.xpath(".//input")}
    answer = client.post(form.get("action"), data=fields)
    assert answer.status_code == 302 and "/orders/" in answer.headers["Location"]
    order = client.get(answer.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "Renewal" in order and "uusittava.fi" in order


def test_postpaid_dashboard_shows_credit_used_and_limit(client, factory):
    reseller = factory.reseller(language="en", payment_mode="postpaid")
    user = factory.user(reseller, language="en")
    _signed_in(client, user)
    page = client.get("/?lang=en")
    assert _text(page, "data-field", "credit-used") == "€0.00"
    assert 'data-field="balance"' not in page.get_data(as_text=True)


def test_technical_user_sees_no_money(client, factory):
    user = factory.user(factory.reseller(), role="technical")
    _signed_in(client, user)
    body = client.get("/?lang=en").get_data(as_text=True)
    assert 'data-panel="funds"' not in body and 'data-panel="expiring"' in body


def test_stored_descriptions_and_values_read_as_words(app):
    with app.test_request_context("/?lang=fi"):
        assert describe("Domain register: kallenkukka.fi, 2 y") == \
            "Rekisteröinti, 2 vuotta: kallenkukka.fi"
        assert describe("Top-up by card") == "Lataus: Kortti"
        assert describe("Something a person typed") == "Something a person typed"
        assert label("prepaid", "payment_mode") == "Ennakkomaksu"
    with app.test_request_context("/?lang=sv"):
        assert describe("Domain renew: exempel.se, 1 y") == "Förnyelse, 1 år: exempel.se"


def test_expiring_counts_are_the_portfolios_not_the_rows_shown(client, factory):
    """Ten names are listed; the counts are of every name expiring (issue 31)."""
    reseller = factory.reseller(language="en")
    user = factory.user(reseller, language="en")
    for n in range(14):
        domain = factory.domain(reseller, f"pian{n}.fi")
        domain.expires_at = clock.now() + timedelta(days=5 + n * 4)  # 5 … 57 days
    db.session.commit()
    _signed_in(client, user)
    page = client.get("/?lang=en")
    expiring = _text(page, "data-panel", "expiring")
    assert "Within 30 days: 7 · within 60 days: 14" in expiring
    rows = html.fromstring(page.get_data(as_text=True)).xpath(
        "//*[@data-panel='expiring']//tbody/tr")
    assert len(rows) == 10


def test_the_registry_is_asked_only_for_a_name_last_bought_premium_outside_transactions(
        app, client, factory, jobs):
    from tests.support.domains import CONTACT
    from tests.support.outside_calls import spy_on_registry

    install_catalogue()
    reseller = factory.reseller(language="en")
    user = factory.user(reseller, language="en")
    fund(reseller.id, "1000.00")
    api = factory.api(reseller)
    contact = api.post("/api/v1/contacts", json=CONTACT).json["id"]
    for name, extra in (("kauppa.fi", {"accept_price": "300.00"}), ("tavallinen.fi", {})):
        assert api.post("/api/v1/domains", json={"name": name, "period": 1, "contacts": {
            "registrant": contact}, **extra}).status_code == 202
    jobs.run_all()
    from reseller.domains.models import Domain
    for domain in db.session.scalars(sa.select(Domain).where(Domain.reseller_id == reseller.id)):
        domain.expires_at = clock.now() + timedelta(days=20)
    db.session.commit()
    _signed_in(client, user)
    with spy_on_registry(app) as spy:
        page = client.get("/?lang=en")
    assert spy.made("premium_fee") == [False]  # kauppa.fi only, no transaction open
    rows = {row.xpath("string(td[1])").strip(): " ".join(row.xpath("string(td[3])").split())
            for row in html.fromstring(page.get_data(as_text=True)).xpath(
                "//*[@data-panel='expiring']//tbody/tr")}
    assert rows["kauppa.fi"] == "€313.75"  # the registry's premium renewal, VAT included
    assert rows["tavallinen.fi"] not in ("€313.75", "–")
    assert 'name="accept_price" value="250.00"' in page.get_data(as_text=True)


def test_zones_panel_names_the_zones_that_need_the_reseller_in_one_statement(
        app, client, factory):
    from reseller.dns.settings import dns_settings
    from tests.functional.test_statement_counts import counted

    reseller = factory.reseller(language="en")
    user = factory.user(reseller, language="en")
    api = factory.api(reseller)
    ours = list(dns_settings().nameservers)
    factory.domain(reseller, "kotona.fi", nameservers=ours)
    factory.domain(reseller, "muualla.fi", nameservers=["ns1.elsewhere.example",
                                                        "ns2.elsewhere.example"])
    for name in ("kotona.fi", "muualla.fi", "ulkoinen-nimi.fi"):
        assert api.put(f"/api/v1/domains/{name}/dns",
                       json={"template": "default"}).status_code in (200, 201)
    _signed_in(client, user)
    with counted() as statements:
        page = client.get("/?lang=en")
    zones = _text(page, "data-panel", "zones")
    assert "muualla.fi: the domain is delegated to other nameservers" in zones
    assert "ulkoinen-nimi.fi: waits for the TXT record" in zones
    assert "kotona.fi" not in zones
    assert sum("dns_zones" in s for s in statements) == 1
    assert not any("dns_records" in s for s in statements)


def _with_pending_zones(factory, prefix: str, count: int):
    """A user of a new reseller with ``count`` zones waiting for proof of control."""
    from reseller.core.db import unit_of_work
    from reseller.core.extensions import db
    from reseller.dns.models import Zone

    reseller = factory.reseller(language="en")
    with unit_of_work():
        db.session.add_all([Zone(reseller_id=reseller.id, name=f"{prefix}{n:03}.example",
                                 status="pending", verification_token=f"t{n}")
                            for n in range(count)])
    return factory.user(reseller, language="en")


def test_zones_panel_names_a_few_zones_however_many_need_the_reseller(app, client, factory):
    """Issue 31: with thousands of zones needing attention the panel names the first ten
    and links to the zones page (it listed every one: 5.5 MB and 2.6 s at 100,000)."""
    from reseller.dns import dashboard

    _signed_in(client, _with_pending_zones(factory, "odottaa", dashboard.CANDIDATES + 5))
    zones = _text(client.get("/?lang=en"), "data-panel", "zones")
    assert zones.count("waits for the TXT record") == dashboard.SHOWN
    assert "odottaa000.example" in zones and "odottaa010.example" not in zones
    assert "All zones" in zones


def test_the_zones_page_shows_a_page_at_a_time(client, factory):
    from reseller.dns import views

    _signed_in(client, _with_pending_zones(factory, "sivu", views.ZONES_PAGE + 3))
    first = client.get("/dns?lang=en").get_data(as_text=True)
    assert first.count(">sivu") == views.ZONES_PAGE
    assert "sivu000.example" in first and "sivu100.example" not in first
    cursor = first.split("cursor=")[1].split('"')[0]
    rest = client.get(f"/dns?lang=en&cursor={cursor}").get_data(as_text=True)
    assert rest.count(">sivu") == 3 and "sivu102.example" in rest
    assert "Next page" not in rest


def _orders(reseller, states: list[str], *, days_ago: int = 0) -> None:
    from decimal import Decimal

    from reseller.domains.models import Order

    for state in states:
        n = db.session.scalar(sa.select(sa.func.count()).select_from(Order)) + 1
        db.session.add(Order(
            reseller_id=reseller.id, reference=f"dash-{reseller.id}-{n}",
            idempotency_key=f"dash-{n}", kind="register", domain_name=f"tilaus{n}.fi",
            unicode_name=f"tilaus{n}.fi", tld="fi", period=1, state=state,
            net=Decimal("10.00"), vat=Decimal("2.55"), total=Decimal("12.55"),
            vat_rate=Decimal("0.2550"), params={}, reason="2302 Object exists"
            if state == "failed" else None,
            created_at=clock.now() - timedelta(days=days_ago)))
    db.session.commit()


def test_recent_orders_panel_lists_the_newest_and_the_failures_of_30_days(client, factory):
    """The five newest orders, and the newest failures of the last 30 days even when they
    are older than those five (one statement reads both lists by their ids)."""
    reseller = factory.reseller(language="en")
    user = factory.user(reseller, language="en")
    other = factory.reseller(language="en")
    _orders(reseller, ["failed"], days_ago=40)  # too old to count as a recent failure
    _orders(reseller, ["failed", "failed"], days_ago=3)
    _orders(reseller, ["completed"] * 5 + ["held"])
    _orders(other, ["failed", "completed"])
    _signed_in(client, user)
    page = client.get("/?lang=en")
    panel = _text(page, "data-panel", "orders")
    assert "2 orders failed in the last 30 days" in panel
    assert "1 order in progress" in panel
    shown = html.fromstring(page.get_data(as_text=True)).xpath(
        "//*[@data-panel='orders']//ul[@class='plain']/li")
    assert len(shown) == 5
    assert "tilaus2.fi" in panel and "tilaus3.fi" in panel  # the failures, older than five
    assert "tilaus1.fi" not in panel  # failed 40 days ago
    assert "tilaus10.fi" not in panel and "tilaus11.fi" not in panel  # the other account's


def test_money_panels_show_credit_and_the_invoices_to_pay_from_one_statement(
        client, factory, jobs):
    """A postpaid reseller sees its credit and its open invoices, the first due first; the
    two money panels read the wallet and the invoices together, in one statement."""
    from tests.support import counting
    from tests.support.invoicing import at, buy
    from tests.support.wallet import make_postpaid
    from wallet.invoices import invoicing

    reseller = factory.reseller(language="en")
    user = factory.user(reseller, language="en")
    make_postpaid(reseller.id, "1000.00")
    for month, day in (("2026-09", "2026-09-15"), ("2026-10", "2026-10-15")):
        at(f"{day}T10:00:00")
        buy(reseller, f"lasku-{month}.fi", "20.00")
    at("2026-11-01T00:05:00")
    for month in ("2026-09", "2026-10"):
        invoicing.invoice_reseller_month(reseller.id, month)
    _signed_in(client, user)
    with counting.statements() as seen:
        page = client.get("/?lang=en")
    panel = _text(page, "data-panel", "invoices")
    numbers = re.findall(r"2026-\d{6}", panel)
    assert numbers == ["2026-000001", "2026-000002"]  # both due Nov 15: by number then
    assert "€25.10" in panel  # 20.00 + 25.5 % VAT, each
    assert _text(page, "data-field", "credit-used") == "€50.20"  # both, unpaid
    assert len([s for s in seen if "FROM WALLETS" in s]) == 1
