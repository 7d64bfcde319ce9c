"""WHOIS and RDAP renderings of registration data (no database): python-whois reads the
WHOIS text, and privacy leaves no personal data in either."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from whois.parser import WhoisEntry

from reseller.rdap.models import Brand, Person, Registrar, RegistrationData
from reseller.whois.answer import format_answer, no_match

PERSON = Person(handle="C1001", name="Maija Meikäläinen", organization=None,
                email="maija@private.example", phone="+358.401234567",
                street="Kotikatu 5 B 12", city="Tampere", postal_code="33100", country="FI")


def data(privacy: bool) -> RegistrationData:
    return RegistrationData(
        handle="D42", ldh_name="xn--tht-bla.com", unicode_name="täht.com",
        status=["active", "client transfer prohibited"],
        created_at=datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
        expires_at=datetime(2027, 3, 1, 12, 0, tzinfo=UTC),
        updated_at=datetime(2026, 1, 5, 8, 30, tzinfo=UTC),
        nameservers=["ns1.agency.fi", "ns2.agency.fi"],
        ds=[{"key_tag": 12345, "algorithm": 13, "digest_type": 2, "digest": "AB" * 32}],
        privacy=privacy, registrant=None if privacy else PERSON, registrant_country="FI",
        reseller=Brand(name="Demo Agency", url="https://demoagency.example"),
        registrar=Registrar(name="Registrar Oy", iana_id="9999",
                            abuse_email="abuse@registrar.example",
                            abuse_phone="+358.201234567", url="https://registrar.example"),
        locked=True)


PERSONAL = [PERSON.name, PERSON.email, PERSON.street, PERSON.city, PERSON.postal_code,
            "401234567", PERSON.handle]


def test_python_whois_reads_the_answer_including_the_reseller():
    text = format_answer(data(privacy=False), whois_server="whois.example",
                         now=datetime(2026, 2, 1, tzinfo=UTC))
    parsed = WhoisEntry.load("xn--tht-bla.com", text)
    assert parsed.domain_name.lower() == "xn--tht-bla.com"
    assert parsed.registrar == "Registrar Oy"
    assert parsed.reseller == "Demo Agency (https://demoagency.example)"
    assert parsed.expiration_date.replace(tzinfo=None) == datetime(2027, 3, 1, 12, 0)
    assert [ns.lower() for ns in parsed.name_servers] == ["ns1.agency.fi", "ns2.agency.fi"]
    assert parsed.dnssec == "signedDelegation"
    assert "Registrant Name: Maija Meikäläinen" in text
    assert "Domain Status: clientTransferProhibited" in text


def test_privacy_leaves_no_personal_data_in_whois():
    text = format_answer(data(privacy=True), whois_server="whois.example",
                         now=datetime(2026, 2, 1, tzinfo=UTC))
    for value in PERSONAL:
        assert value not in text
    assert "Registrant Name: REDACTED FOR PRIVACY" in text
    assert "Registrant Country: FI" in text
    assert "Reseller: Demo Agency" in text


def test_unknown_name_says_no_match():
    assert no_match("nothing.fi").startswith('No match for "NOTHING.FI".')


@pytest.mark.parametrize("privacy", [True, False])
def test_rdap_object_redacts_only_with_privacy(app, privacy):
    from reseller.rdap.views import domain_object

    with app.test_request_context():
        body = domain_object(data(privacy))
    text = json.dumps(body, ensure_ascii=False)
    roles = [entity["roles"][0] for entity in body["entities"]]
    assert roles == ["registrar", "reseller", "registrant"]
    assert body["unicodeName"] == "täht.com"
    assert body["secureDNS"]["delegationSigned"] is True
    if privacy:
        assert all(value not in text for value in PERSONAL)
        assert {r["name"]["type"] for r in body["redacted"]} >= {"Registrant Name",
                                                                  "Registrant Email"}
        assert "redacted" in body["rdapConformance"]
    else:
        assert PERSON.email in text and "redacted" not in body
