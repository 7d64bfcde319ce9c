"""/whmcs/v1/<Function> over HTTP: JSON and nested form bodies, auth, scopes, tenancy."""

import pytest

from tests.support.domains import CONTACT, fund, install_catalogue, make_contact
from tests.support.owner_change import answer


@pytest.fixture
def owned(factory, jobs):
    reseller = factory.reseller()
    install_catalogue()
    fund(reseller, "200.00")
    contact = make_contact(reseller)
    api = factory.api(reseller)
    api.post("/api/v1/domains", json={"name": "oma.fi", "period": 1, "contacts": {
        "registrant": contact.id, "admin": contact.id, "tech": contact.id},
        "nameservers": ["ns1.dns.example", "ns2.dns.example"]})
    jobs.run_all()
    return reseller, api


@pytest.mark.smoke
def test_json_and_form_bodies_both_work(owned):
    _reseller, api = owned
    as_json = api.post("/whmcs/v1/GetNameservers", json={"sld": "oma", "tld": "fi"})
    as_form = api.client.post("/whmcs/v1/GetNameservers", data={"sld": "oma", "tld": "fi"},
                              headers={"Authorization": f"Bearer {api.token}"})
    assert as_json.status_code == as_form.status_code == 200
    assert as_json.json == as_form.json
    assert as_json.json["ns1"] == "ns1.dns.example"


def test_nested_form_contact_details_are_read(owned, jobs):
    """A new holder in the form is an owner change (issue 28): the registrant changes once
    the owner-change order has gone through."""
    from reseller.domains.models import Order

    reseller, api = owned
    form = {"sld": "oma", "tld": "fi"}
    for label, value in {"First Name": "Uusi", "Last Name": "Nimi", "Company Name": "",
                         "Email Address": CONTACT["email"], "Address 1": "Katu 1",
                         "City": "Espoo", "Postcode": "02100", "Country": "FI",
                         "Phone Number": "+358.401234567"}.items():
        form[f"contactdetails[Registrant][{label}]"] = value
    saved = api.client.post("/whmcs/v1/SaveContactDetails", data=form,
                            headers={"Authorization": f"Bearer {api.token}"})
    assert saved.json == {"success": True}
    assert Order.query.filter_by(reseller_id=reseller.id, kind="owner_change").count() == 1
    answer(api.client, "oma.fi")  # the current registrant confirms (issue 28)
    jobs.run_all()
    details = api.post("/whmcs/v1/GetContactDetails", json={"sld": "oma", "tld": "fi"}).json
    assert details["Registrant"]["City"] == "Espoo"


def test_no_token_is_401_and_unknown_function_404(client, factory):
    assert client.post("/whmcs/v1/Sync", json={}).status_code == 401
    response = factory.api().post("/whmcs/v1/FormatHardDisk", json={})
    assert response.status_code == 404 and response.json["code"] == "unknown_function"


def test_read_only_credentials_cannot_register(factory):
    api = factory.api(scopes=["domains:read"])
    response = api.post("/whmcs/v1/RegisterDomain", json={"sld": "x", "tld": "fi"})
    assert response.status_code == 403 and "error" in response.json


def test_another_resellers_domain_is_not_found(owned, factory):
    stranger = factory.api()
    response = stranger.post("/whmcs/v1/GetNameservers", json={"sld": "oma", "tld": "fi"})
    assert response.status_code == 404 and "error" in response.json
    assert stranger.post("/whmcs/v1/SaveRegistrarLock",
                         json={"sld": "oma", "tld": "fi", "lockenabled": "locked"}
                         ).status_code == 404


def test_a_malformed_premium_cost_or_contact_is_refused_by_field_and_orders_nothing(owned):
    """WHMCS input is checked by the domains' own rules (``domains.services``): the
    premium consent as a decimal string, the contact as the API's contact."""
    from reseller.domains.models import Contact, Order

    reseller, api = owned
    register = {"sld": "uusi-asiakas", "tld": "fi", "regperiod": 1, "premiumEnabled": "1",
                "firstname": "Maija", "lastname": "Meikäläinen", "email": CONTACT["email"],
                "address1": "Katu 1", "city": "Helsinki", "postcode": "00100",
                "countrycode": "FI", "fullphonenumber": "+358.401234567"}
    orders = Order.query.filter_by(reseller_id=reseller.id).count()
    contacts = Contact.query.filter_by(reseller_id=reseller.id).count()
    price = api.post("/whmcs/v1/RegisterDomain", json={**register, "premiumCost": "1e3"})
    assert price.status_code == 422 and price.json["code"] == "validation_failed"
    assert price.json["error"].startswith("premiumCost: ")
    contact = api.post("/whmcs/v1/RegisterDomain", json={**register, "countrycode": "XX"})
    assert contact.status_code == 422 and contact.json["error"].startswith("country: ")
    unparsable = api.post("/whmcs/v1/TransferSync", json={"sld": "-bad-", "tld": "fi"})
    assert unparsable.status_code == 422 and "error" in unparsable.json
    assert Order.query.filter_by(reseller_id=reseller.id).count() == orders
    assert Contact.query.filter_by(reseller_id=reseller.id).count() == contacts
