"""Contact identity (.fi, .se, .nu): validated with python-stdnum, encrypted at rest, masked
in the API, sent to the registry when an order first needs the contact, and never shown in
RDAP, WHOIS, events or logs."""

import logging

import pytest
import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.events import Event
from reseller.core.extensions import db
from reseller.domains.models import Contact
from reseller.rdap.services import lookup
from reseller.registry.epp import commands as cmd
from reseller.registry.epp import schema, wire
from reseller.registry.epp.profiles import IIS_URI, PROFILES
from reseller.registry.epp.wire import NS
from reseller.registry.sandbox_models import SandboxContact
from reseller.whois.answer import format_answer
from tests.support.domains import CONTACT, available, fund, install_catalogue, sandbox
from wallet.money import Money

HETU, YTUNNUS = "131052-308T", "2464491-9"
PERSONNUMMER, ORGNR = "880320-0016", "802405-0190"
PERSON = {**CONTACT, "organization": None, "registration_number": None,
          "entity_type": "person", "personal_id": HETU}
SWEDE = {**CONTACT, "organization": None, "registration_number": None, "country": "SE",
         "city": "Stockholm", "postal_code": "11122", "language": "sv",
         "entity_type": "person", "personal_id": "8803200016"}


@pytest.fixture
def api(factory):
    install_catalogue()
    reseller = factory.reseller()
    fund(reseller, "100.00")
    return reseller, factory.api(reseller)


def raw(column: str, contact_id: int) -> str:
    return db.session.execute(sa.text(f"SELECT CAST({column} AS TEXT) FROM contacts "  # noqa: S608
                                      "WHERE id = :id"), {"id": contact_id}).scalar()


def register(api, contact_id, name):
    return api.post("/api/v1/domains", json={"name": name, "period": 1,
                                             "contacts": {"registrant": contact_id}})


@pytest.mark.smoke
def test_identity_is_validated_normalised_encrypted_and_masked(api):
    _reseller, client = api
    created = client.post("/api/v1/contacts", json=SWEDE)
    assert created.status_code == 201, created.json
    body = created.json
    assert body["entity_type"] == "person"
    assert body["personal_id"] == "******-0016" and body["registration_number"] is None
    contact = db.session.get(Contact, body["id"])
    assert contact.personal_id == PERSONNUMMER  # stdnum's written form
    assert raw("personal_id", contact.id).startswith("fernet:")
    assert PERSONNUMMER not in raw("personal_id", contact.id)
    assert client.get(f"/api/v1/contacts/{contact.id}").json["personal_id"] == "******-0016"
    company = client.post("/api/v1/contacts", json={**CONTACT, "registration_number": "24644919"})
    assert company.json["entity_type"] == "company"
    assert company.json["registration_number"] == "*****91-9"
    assert db.session.get(Contact, company.json["id"]).registration_number == YTUNNUS


@pytest.mark.parametrize("fields, field", [
    ({"personal_id": "131052-308X"}, "personal_id"),  # wrong check character
    ({"country": "SE", "personal_id": "880320-0015"}, "personal_id"),
    ({"organization": "Yhdistys ry", "entity_type": "association", "personal_id": None,
      "registration_number": "2464491-8"}, "registration_number"),
    ({"entity_type": "person", "registration_number": YTUNNUS}, "registration_number"),
    ({"entity_type": "company", "organization": "Oy", "personal_id": HETU}, "personal_id"),
    ({"entity_type": "sole_trader"}, "entity_type"),
])
def test_a_wrong_number_or_type_is_a_422_naming_the_field(api, fields, field):
    _reseller, client = api
    response = client.post("/api/v1/contacts", json={**PERSON, **fields})
    assert response.status_code == 422
    assert response.json["code"] == "validation_failed" and field in response.json["errors"]


def test_a_masked_number_sent_back_keeps_the_one_on_file(api):
    _reseller, client = api
    contact = client.post("/api/v1/contacts", json=PERSON).json
    kept = client.put(f"/api/v1/contacts/{contact['id']}", json={**contact_fields(contact),
                                                                "city": "Espoo"})
    assert kept.status_code == 200, kept.json
    assert db.session.get(Contact, contact["id"]).personal_id == HETU
    wrong = client.put(f"/api/v1/contacts/{contact['id']}",
                       json={**contact_fields(contact), "personal_id": "******-1234"})
    assert wrong.status_code == 422 and "personal_id" in wrong.json["errors"]


def contact_fields(body):
    keep = set(PERSON)
    return {k: v for k, v in body.items() if k in keep}


def test_a_fi_registration_needs_the_registrants_identity_and_holds_nothing_without(api, jobs):
    reseller, client = api
    bare = client.post("/api/v1/contacts", json={**PERSON, "personal_id": None}).json
    refused = register(client, bare["id"], "henkilo.fi")
    assert refused.status_code == 422 and refused.json["code"] == "identity_required"
    assert available(reseller) == Money.of("100.00") and jobs.jobs == []
    # A .com registrant needs none.
    assert register(client, bare["id"], "henkilo.com").status_code == 202


def test_a_contact_reaches_the_registry_when_an_order_first_uses_it(api, jobs):
    reseller, client = api
    sandbox().inject("contact_set", "unavailable")
    created = client.post("/api/v1/contacts", json=PERSON)  # the registry is not asked
    assert created.status_code == 201
    handle = created.json["handle"]
    assert db.session.get(SandboxContact, handle) is None
    sandbox().clear_faults()
    assert register(client, created.json["id"], "henkilo.fi").status_code == 202
    jobs.run_all()
    assert client.get("/api/v1/domains/henkilo.fi").json["status"] == "active"
    held = db.session.get(SandboxContact, handle)
    assert held.data["name"] == PERSON["name"] and "personal_id" not in held.data
    assert sandbox().contact_identity(handle) == {"personal_id": HETU}
    assert HETU not in db.session.execute(sa.text(
        "SELECT CAST(identity AS TEXT) FROM sandbox_registry_contacts WHERE handle = :h"),
        {"h": handle}).scalar()


def test_editing_a_contact_in_use_with_the_registry_down_is_a_503_and_changes_nothing(api, jobs):
    reseller, client = api
    contact = client.post("/api/v1/contacts", json=PERSON).json
    register(client, contact["id"], "muokkaus.fi")
    jobs.run_all()
    sandbox().inject("contact_set", "unavailable")
    response = client.put(f"/api/v1/contacts/{contact['id']}",
                          json={**contact_fields(contact), "city": "Turku"})
    assert response.status_code == 503 and response.json["code"] == "registry_unavailable"
    db.session.expire_all()
    assert db.session.get(Contact, contact["id"]).city == PERSON["city"]
    locked = client.put(f"/api/v1/contacts/{contact['id']}",
                        json={**contact_fields(contact), "personal_id": "010101-123N"})
    assert locked.status_code == 409 and locked.json["code"] == "identity_locked"


def test_identity_never_appears_in_rdap_whois_events_or_logs(api, jobs, client, app, caplog):
    reseller, api_client = api
    caplog.set_level(logging.DEBUG)
    contact = api_client.post("/api/v1/contacts", json=PERSON).json
    register(api_client, contact["id"], "julkinen.fi")
    jobs.run_all()
    api_client.put(f"/api/v1/contacts/{contact['id']}",
                   json={**contact_fields(contact), "city": "Vantaa"})
    rdap = client.get("/rdap/domain/julkinen.fi").get_data(as_text=True)
    whois = format_answer(lookup("julkinen.fi", app.config), whois_server="whois.test",
                          now=clock.now())
    events = [repr(e.data) for e in db.session.scalars(
        sa.select(Event).where(Event.reseller_id == reseller.id))]
    assert "julkinen.fi" in rdap and "JULKINEN.FI" in whois and events
    for text in [rdap, whois, caplog.text, *events]:
        for form in (HETU, HETU.replace("-", ""), "308T"):
            assert form not in text


# -- the registries' frames ------------------------------------------------------------------
def _data(**fields):
    from reseller.domains.contacts import registry_data

    return registry_data(Contact(**{**CONTACT, "registration_number": None, **fields}))


def test_the_se_profile_sends_the_personnummer_or_orgno_as_iis_orgno(app):
    with app.app_context():
        person = _data(country="SE", organization=None, entity_type="person",
                       personal_id=PERSONNUMMER)
        company = _data(country="SE", organization="Exempel AB", entity_type="company",
                        registration_number=ORGNR)
    for data, orgno in ((person, "[SE]880320-0016"), (company, "[SE]802405-0190")):
        extension = PROFILES["se"].contact_extension(data, create=True)
        assert extension.tag == f"{{{IIS_URI}}}create"
        assert extension.findtext(f"{{{IIS_URI}}}orgno") == orgno
        frame = cmd.command(cmd.contact_create("TNSE1", data, "Koodi-123"), "T-1")
        schema.assert_valid(wire.serialize(frame))  # the IETF part of the frame
    # An update never sends the orgno: IIS does not let it change.
    assert PROFILES["se"].contact_extension(person, create=False) is None


def test_the_fi_profile_sends_a_persons_henkilotunnus_and_a_companys_y_tunnus(app):
    with app.app_context():
        person = _data(organization=None, entity_type="person", personal_id=HETU)
        company = _data(entity_type="company", registration_number=YTUNNUS)
    for data, kind, tag, value in ((person, "0", "identity", HETU),
                                   (company, "1", "registernumber", YTUNNUS)):
        body = cmd.contact_create("TNFI1", data, "Koodi-123")
        PROFILES["fi"].contact_create(body[0], data)
        assert body[0].findtext("contact:type", namespaces=NS) == kind
        postal = body[0].find("contact:postalInfo", NS)
        assert postal.findtext(f"contact:{tag}", namespaces=NS) == value
        other = "registernumber" if tag == "identity" else "identity"
        assert postal.find(f"contact:{other}", NS) is None
