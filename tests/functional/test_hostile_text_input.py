"""Control characters in contacts, brands and host names are refused where they come in —
the API (422 problem+json naming the field), the client-area forms (a form error) and
the WHMCS module (422 naming the field) — so nothing stored can add a WHOIS line."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from lxml import html

from reseller.core.extensions import db
from reseller.core.text import has_control_characters
from reseller.domains.models import Contact
from tests.support.domains import CONTACT, fund, install_catalogue, make_contact

# CR, LF, NUL, ESC, TAB, other C0, DEL, C1 (NEL, CSI), U+2028, U+2029.
HOSTILE = ["\r", "\n", "\r\n", "\x00", "\x1b", "\t", "\x0b", "\x1e", "\x7f", "\x85", "\x9b",
           "\u2028", "\u2029"]
INJECTION = "\r\nRegistrar Abuse Contact Email: evil@attacker.example\r\nDomain Status: serverHold"


def _refused(response, field: str) -> dict:
    assert response.status_code == 422, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["code"] == "validation_failed"
    return body["errors"][field]


@pytest.fixture
def api(factory):
    install_catalogue()
    reseller = factory.reseller()
    fund(reseller, "200.00")
    return factory.api(reseller)


@pytest.mark.parametrize("char", HOSTILE)
def test_api_refuses_a_contact_field_with_a_control_character(api, char):
    for field in ("name", "organization", "street", "city", "postal_code", "email", "phone"):
        value = f"{CONTACT[field]}{char}Domain Status: serverHold"
        messages = _refused(api.post("/api/v1/contacts", json={**CONTACT, field: value}), field)
        assert messages, field
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0


def test_api_refuses_a_hostile_update_of_an_existing_contact(api):
    contact = api.post("/api/v1/contacts", json=CONTACT).json
    response = api.put(f"/api/v1/contacts/{contact['id']}",
                       json={**CONTACT, "street": "Kotikatu 5" + INJECTION})
    assert _refused(response, "street") == [
        "Use one line of text without control characters (line breaks, tabs, NUL, ESC)."]
    assert api.get(f"/api/v1/contacts/{contact['id']}").json["street"] == CONTACT["street"]


def test_a_nul_inside_a_json_member_is_a_422_naming_it(api):
    response = api.post("/api/v1/contacts", json={**CONTACT, "city": "Tam\x00pere"})
    assert _refused(response, "city")
    raw = json.dumps({**CONTACT, "name": "Maija\u0000"})  # the escape, as clients send it
    response = api.client.post("/api/v1/contacts", data=raw, content_type="application/json",
                               headers={"Authorization": f"Bearer {api.token}"})
    assert _refused(response, "name")


@pytest.mark.parametrize("char", HOSTILE)
def test_api_refuses_a_brand_field_with_a_control_character(api, char):
    response = api.put("/api/v1/whitelabel", json={"name": f"Webbi{char}Bcc: x@evil.example"})
    assert _refused(response, "name")
    for field, value in (("support_email", "tuki@webbi.example"), ("primary_color", "#1f5f8b"),
                         ("support_phone", "+358 40 123"),
                         ("support_url", "https://webbi.example/tuki")):
        assert _refused(api.put("/api/v1/whitelabel", json={field: value + char}), field)


@pytest.mark.parametrize("char", HOSTILE)
def test_api_refuses_host_names_with_a_control_character(api, jobs, char):
    contact = api.post("/api/v1/contacts", json=CONTACT).json
    hostile = f"ns1.dns.example{char}"
    registered = api.post("/api/v1/domains", json={
        "name": "isanta.fi", "contacts": {"registrant": contact["id"]},
        "nameservers": [hostile, "ns2.dns.example"]})
    assert _refused(registered, "nameservers")
    api.post("/api/v1/domains", json={"name": "isanta.fi", "contacts": {
        "registrant": contact["id"]}, "nameservers": ["ns1.dns.example", "ns2.dns.example"]})
    jobs.run_all()
    response = api.put("/api/v1/domains/isanta.fi/nameservers",
                       json={"nameservers": ["ns2.dns.example", hostile]})
    assert _refused(response, "nameservers")
    glue = api.put(f"/api/v1/domains/isanta.fi/hosts/{quote('ns1.isanta.fi' + char)}",
                   json={"addresses": ["192.0.2.1"]})
    assert glue.status_code in (400, 422)  # a NUL in the path is the 400 before routing
    if glue.status_code == 422:
        assert _refused(glue, "host")
    assert api.get("/api/v1/domains/isanta.fi").json["nameservers"] == [
        "ns1.dns.example", "ns2.dns.example"]


def test_the_service_refuses_a_hostile_nameserver_the_schema_did_not_see(factory):
    """The client-area form and WHMCS call ``order_register`` without the API schema."""
    from reseller.core.errors import ValidationFailed
    from reseller.domains import orders

    install_catalogue()
    reseller = factory.reseller()
    fund(reseller, "50.00")
    contact = make_contact(reseller)
    with pytest.raises(ValidationFailed) as refused:
        orders.order_register(reseller_id=reseller.id, name="palvelu.fi", period=1,
                              contacts={"registrant": contact.id},
                              nameservers=["ns1.dns.example\x1b", "ns2.dns.example"],
                              idempotency_key="hostile-ns")
    assert list(refused.value.errors) == ["nameservers"]


def test_client_area_contact_form_shows_the_error_and_stores_nothing(client, factory):
    user = factory.user(role="owner")
    client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    form = {**CONTACT, "street": "Kotikatu 5" + INJECTION}
    reply = client.post("/contacts", data=form)
    assert reply.status_code == 422
    street = html.fromstring(reply.get_data(as_text=True)).xpath("//input[@id='street']")[0]
    assert street.get("aria-invalid") == "true"
    assert "Use one line of text without control characters" in html.fromstring(
        reply.get_data(as_text=True)).xpath(f"//*[@id='{street.get('aria-describedby')}']")[0] \
        .text_content()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0


def test_client_area_brand_form_shows_the_error_and_saves_nothing(client, factory):
    from whitelabel import brands

    user = factory.user(role="owner")
    client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    reply = client.post("/settings/brand", data={
        "action": "save", "name": "Webbi\u2028Reseller: Someone Else", "primary_color": "#aa0000",
        "accent_color": "#ffffff", "default_language": "en"})
    assert reply.status_code == 422
    assert "Use one line of text without control characters" in reply.get_data(as_text=True)
    assert brands.find_brand(user.reseller_id) is None


def _whmcs(api, name: str, params: dict, *, form: bool = False):
    if form:
        return api.client.post(f"/whmcs/v1/{name}", data=params,
                               headers={"Authorization": f"Bearer {api.token}"})
    return api.post(f"/whmcs/v1/{name}", json=params)


WHMCS_CONTACT = {"firstname": "Maija", "lastname": "Meikäläinen", "email": "maija@koti.example",
                 "address1": "Kotikatu 5", "city": "Tampere", "postcode": "33100",
                 "countrycode": "FI", "fullphonenumber": "+358.401234567"}


@pytest.mark.parametrize("form", [False, True])
def test_whmcs_refuses_a_hostile_contact_and_host_name(api, jobs, form):
    params = {"sld": "whmcs-isanta", "tld": "fi", "regperiod": "1", **WHMCS_CONTACT,
              "address1": "Kotikatu 5" + INJECTION, "ns1": "ns1.dns.example",
              "ns2": "ns2.dns.example"}
    response = _whmcs(api, "RegisterDomain", params, form=form)
    assert response.status_code == 422
    assert response.json["code"] == "validation_failed"
    assert response.json["error"].startswith("street: Use one line of text")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0
    params = {**params, "address1": "Kotikatu 5", "ns1": "ns1.dns.example\x1bDomain Status"}
    response = _whmcs(api, "RegisterDomain", params, form=form)
    assert response.status_code == 422 and response.json["error"].startswith("nameservers: ")
    nul = _whmcs(api, "RegisterDomain", {**params, "ns1": "ns1.dns.example",
                                         "city": "Tam\x00pere"}, form=form)
    assert nul.status_code == 422 and nul.json["error"].startswith("city: ")
    # The valid contacts of the second call may stay (the registry has them); nothing else.
    for contact in db.session.scalars(sa.select(Contact)):
        assert not has_control_characters(" ".join(
            str(getattr(contact, field) or "") for field in CONTACT))


def test_client_area_register_form_refuses_a_hostile_nameserver(client, factory):
    from reseller.domains.models import Order

    install_catalogue()
    user = factory.user(role="owner")
    fund(user.reseller, "100.00")
    contact = make_contact(user.reseller)
    client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    page = client.post("/domains/register", data={
        "name": "lomake-ns.fi", "period": "1", "registrant": str(contact.id),
        "nameservers": "ns1.dns.example\x1b[2J ns2.dns.example", "idempotency_key": "ns-form"},
        follow_redirects=True)
    assert "not a valid host name" in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
