"""Forms that help: what was typed stays, each error sits beside its field (aria-invalid,
aria-describedby) in the page's language, and numbers and names are taken as people write
them — phones in any common format stored as the registry's +CC.NUMBER (API and client
area alike), domain names in upper case, with spaces or in Unicode."""

from __future__ import annotations

import pytest
from lxml import html

from reseller.domains import names
from reseller.domains.models import Contact
from reseller.domains.schemas import normalize_phone
from tests.support.domains import CONTACT

PASSWORD = "correct horse battery"


@pytest.mark.parametrize(("typed", "country", "stored"), [
    ("+358 40 1234567", "FI", "+358.401234567"),
    ("040 123 4567", "FI", "+358.401234567"),
    ("0046 8 123 456 78", "FI", "+46.812345678"),
    ("08-123 456 78", "SE", "+46.812345678"),
    ("+358.401234567", "SE", "+358.401234567"),
])
def test_phone_numbers_as_people_write_them(typed, country, stored):
    assert normalize_phone(typed, country) == stored


def test_names_as_people_type_them():
    assert names.parse("Esimerkki . FI").ascii == "esimerkki.fi"
    assert names.parse("ÄÄKKÖNEN.fi").ascii == "xn--kknen-fraa0m.fi"


def test_api_contact_takes_a_national_phone_and_returns_the_registry_form(factory):
    api = factory.api(factory.reseller())
    made = api.post("/api/v1/contacts", json={**CONTACT, "phone": "040 123 4567"})
    assert made.status_code == 201, made.json
    assert made.json["phone"] == "+358.401234567"
    refused = api.post("/api/v1/contacts", json={**CONTACT, "phone": "12"})
    assert refused.status_code == 422 and "phone" in refused.json["errors"]


def test_contact_form_keeps_the_input_and_puts_the_error_by_its_field(client, factory):
    user = factory.user(role="owner", language="fi")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    form = {**CONTACT, "phone": "12", "email": "maija@asiakas.example", "country": "fi"}
    reply = client.post("/contacts", data=form)
    assert reply.status_code == 422
    tree = html.fromstring(reply.get_data(as_text=True))
    phone = tree.xpath("//input[@id='phone']")[0]
    assert phone.get("value") == "12" and phone.get("aria-invalid") == "true"
    described = phone.get("aria-describedby").split()
    assert "phone-hint" in described and "phone-error" in described
    assert "Tunnistamaton puhelinnumero" in tree.xpath("//*[@id='phone-error']")[0].text_content()
    assert tree.xpath("//input[@id='street']")[0].get("value") == CONTACT["street"]
    assert tree.xpath("//input[@id='street']")[0].get("aria-invalid") is None
    assert Contact.query.count() == 0

    done = client.post("/contacts", data={**form, "phone": "+358 40 1234567"},
                       follow_redirects=True)
    assert "+358.401234567" in done.get_data(as_text=True)
    assert Contact.query.one().phone == "+358.401234567"


def test_register_form_keeps_the_choices_and_puts_errors_by_their_fields(client, factory):
    from tests.support.domains import fund, install_catalogue, make_contact

    install_catalogue()
    user = factory.user(role="owner", language="en")
    fund(user.reseller, "100.00")
    person = make_contact(user.reseller, organization=None, registration_number=None,
                          entity_type="person", email="no-id@asiakas.example")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    reply = client.post("/domains/register", data={
        "name": "lomakkeet.fi", "period": "1", "registrant": str(person.id),
        "nameservers": "ns1.example.org\nei kelpaa", "privacy": "1", "idempotency_key": "f-1"})
    assert reply.status_code == 422
    tree = html.fromstring(reply.get_data(as_text=True))
    assert "Correct the fields listed in errors" not in reply.get_data(as_text=True)
    invalid = {e.get("name") for e in tree.xpath("//*[@aria-invalid='true']")}
    assert invalid & {"nameservers", "registrant"}
    for name in invalid:
        element = tree.xpath(f"//*[@name='{name}'][@aria-invalid='true']")[0]
        assert tree.xpath(f"//*[@id='{element.get('aria-describedby').split()[-1]}']")
    assert tree.xpath("//textarea[@name='nameservers']")[0].text == "ns1.example.org\nei kelpaa"
    assert tree.xpath("//input[@name='privacy']")[0].get("checked") is not None
    assert tree.xpath(f"//select[@name='registrant']/option[@value='{person.id}']")[0] \
        .get("selected") is not None


def test_webhook_form_keeps_the_input_and_says_what_is_wrong_with_the_url(client, factory):
    user = factory.user(role="owner", language="sv")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    reply = client.post("/webhooks", data={"url": "ftp://hooks.example/x",
                                           "description": "Bokföring",
                                           "events": ["order.completed"]})
    assert reply.status_code == 422
    tree = html.fromstring(reply.get_data(as_text=True))
    url = tree.xpath("//input[@id='url']")[0]
    assert url.get("value") == "ftp://hooks.example/x" and url.get("aria-invalid") == "true"
    assert tree.xpath("//*[@id='url-error']")[0].text_content().strip()
    assert tree.xpath("//input[@id='description']")[0].get("value") == "Bokföring"
    assert tree.xpath("//input[@value='order.completed']")[0].get("checked") is not None


def test_brand_form_keeps_the_input_and_puts_the_error_by_its_field(client, factory):
    user = factory.user(role="owner", language="fi")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    reply = client.post("/settings/brand", data={
        "action": "save", "name": "Webbi\u2028Oy", "primary_color": "#aa0000",
        "accent_color": "#ffffff", "support_email": "tuki@webbi.example",
        "default_language": "fi"})
    assert reply.status_code == 422
    tree = html.fromstring(reply.get_data(as_text=True))
    name = tree.xpath("//input[@id='name']")[0]
    assert name.get("aria-invalid") == "true" and name.get("aria-describedby") == "name-error"
    assert tree.xpath("//input[@id='support_email']")[0].get("value") == "tuki@webbi.example"
    assert "name:" not in tree.xpath("//*[@role='alert']")[0].text_content()


def test_invitation_form_keeps_the_input_and_puts_the_error_by_its_field(client, factory):
    user = factory.user(role="owner", language="en")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    reply = client.post("/users", data={"action": "invite", "email": "not-an-address",
                                        "name": "Uusi Käyttäjä", "role": "billing"})
    assert reply.status_code == 422
    tree = html.fromstring(reply.get_data(as_text=True))
    email = tree.xpath("//input[@id='email']")[0]
    assert email.get("value") == "not-an-address" and email.get("aria-invalid") == "true"
    assert tree.xpath("//*[@id='email-error']")[0].text_content().strip()
    assert tree.xpath("//input[@id='name']")[0].get("value") == "Uusi Käyttäjä"
    assert tree.xpath("//select[@id='role']/option[@value='billing']")[0].get("selected") \
        is not None


def test_one_bad_name_does_not_break_a_search_and_taken_names_offer_a_transfer(client,
                                                                                factory):
    from tests.support.domains import install_catalogue, sandbox

    install_catalogue()
    user = factory.user(role="owner", language="en")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    sandbox().seed_foreign(name="varattu.fi", auth_code="K-2")
    page = client.get("/domains/search?q=Vapaa-Nimi.FI varattu.fi a_b.fi nimi.xyz")
    assert page.status_code == 200
    tree = html.fromstring(page.get_data(as_text=True))
    rows = {row.xpath("td")[0].text_content().split()[0]: row
            for row in tree.xpath("//tr[@data-state]")}
    assert {name: row.get("data-state") for name, row in rows.items()} == {
        "vapaa-nimi.fi": "available", "varattu.fi": "taken", "a_b.fi": "invalid",
        "nimi.xyz": "unsupported"}
    assert rows["vapaa-nimi.fi"].xpath(".//a[contains(@href, '/domains/register')]")
    assert "€" in rows["vapaa-nimi.fi"].text_content()
    transfer = rows["varattu.fi"].xpath(".//a")[0].get("href")
    assert transfer == "/transfers?name=varattu.fi"
    prefilled = html.fromstring(client.get(transfer).get_data(as_text=True))
    assert prefilled.xpath("//input[@id='name']")[0].get("value") == "varattu.fi"
