"""RDAP and WHOIS served for real: whoisit (with a bootstrap pointing at the test server),
Debian ``whois`` and python-whois read the reseller, the registrar and the expiry; privacy
leaves no registrant personal data in either."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server
from whois.parser import WhoisEntry

from reseller.core.clock import clock
from reseller.core.extensions import db
from reseller.core.text import has_control_characters
from reseller.whois.server import WhoisServer
from tests.support.servers import free_port

# Registration data comes from the domains package (branch ``domains``).
domain_models = pytest.importorskip("reseller.domains.models")
Contact, Domain = domain_models.Contact, domain_models.Domain

_seq = itertools.count(1)
REGISTRANT = {"name": "Maija Meikäläinen", "email": "maija@koti.example",
              "phone": "+358.401234567", "street": "Kotikatu 5 B 12", "city": "Tampere",
              "postal_code": "33100"}


def register(reseller, *, privacy: bool, name: str | None = None,
             nameservers: list[str] | None = None, contact: dict | None = None):
    """A live domain inserted directly: ``contact`` (registrant fields) and ``nameservers``
    may hold what the input rules refuse today (data stored before them)."""
    n = next(_seq)
    name = name or f"rdap-test-{n}.com"
    contact = Contact(reseller_id=reseller.id, handle=f"TC{n:06d}", **{
        "organization": None, "country": "FI", "language": "fi", **REGISTRANT,
        **(contact or {})})
    db.session.add(contact)
    db.session.flush()
    now = clock.now()
    domain = Domain(reseller_id=reseller.id, name=name, live_name=name, unicode_name=name,
                    tld=name.rsplit(".", 1)[1], status="active",
                    created_at=now - timedelta(days=100), expires_at=now + timedelta(days=265),
                    updated_at=now - timedelta(days=3), privacy=privacy, locked=True,
                    nameservers=nameservers or ["ns1.agency.example", "ns2.agency.example"],
                    ds=[],
                    registrant_id=contact.id)
    db.session.add(domain)
    db.session.commit()
    return domain


@pytest.fixture
def web(app, db_session):
    """The app on a real HTTP port (requests share the test's rolled-back transaction)."""
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever,
                              kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def whois_port(app, db_session):
    server = WhoisServer(app, "127.0.0.1", free_port(), per_minute=1000)
    thread = threading.Thread(target=server.serve_forever,
                              kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def whoisit_bootstrapped(web):
    import whoisit

    whoisit.clear_bootstrapping()
    service = [[["com", "fi"], [f"{web}/rdap/"]]]
    whoisit.load_bootstrap_data(json.dumps({
        "timestamp": 1_700_000_000,
        "asn": {"services": [[["1-2"], [f"{web}/rdap/"]]]},
        "dns": {"services": service},
        "ipv4": {"services": [[["192.0.2.0/24"], [f"{web}/rdap/"]]]},
        "ipv6": {"services": [[["2001:db8::/32"], [f"{web}/rdap/"]]]},
        "object": {"services": [[["x@example"], ["TEST"], [f"{web}/rdap/"]]]},
    }), allow_insecure=True)
    yield whoisit
    whoisit.clear_bootstrapping()


def test_whoisit_parses_reseller_registrar_and_expiry(factory, whoisit_bootstrapped, app):
    reseller = factory.reseller(company_name="Verkkotoimisto Oy",
                                website="https://verkkotoimisto.example")
    domain = register(reseller, privacy=False)
    parsed = whoisit_bootstrapped.domain(domain.name, follow_related=False)
    assert parsed["name"] == domain.name
    assert parsed["entities"]["reseller"][0]["name"] == "Verkkotoimisto Oy"
    assert parsed["entities"]["registrar"][0]["name"] == app.config["OPERATOR_NAME"]
    assert parsed["entities"]["registrar"][0]["handle"] == app.config["OPERATOR_IANA_ID"]
    assert parsed["expiration_date"].date() == domain.expires_at.date()
    assert parsed["entities"]["registrant"][0]["email"] == REGISTRANT["email"]
    assert sorted(parsed["nameservers"]) == ["ns1.agency.example", "ns2.agency.example"]


def test_privacy_leaves_no_registrant_data_in_rdap_or_whois(factory, client, whois_port):
    domain = register(factory.reseller(), privacy=True)
    rdap = client.get(f"/rdap/domain/{domain.name}")
    assert rdap.status_code == 200
    answer = subprocess.run(["whois", "-h", "127.0.0.1", "-p", str(whois_port), domain.name],
                            capture_output=True, text=True, timeout=20).stdout
    for text in (rdap.get_data(as_text=True), answer):
        for value in REGISTRANT.values():
            assert value not in text and json.dumps(value)[1:-1] not in text
    assert {r["name"]["type"] for r in rdap.get_json()["redacted"]} >= {
        "Registrant Name", "Registrant Email", "Registrant Phone", "Registrant Street"}
    assert "Registrant Name: REDACTED FOR PRIVACY" in answer


@pytest.mark.skipif(shutil.which("whois") is None, reason="Debian whois is not installed")
def test_debian_whois_and_python_whois_read_the_answer(factory, whois_port, app):
    reseller = factory.reseller(company_name="Verkkotoimisto Oy",
                                website="https://verkkotoimisto.example")
    domain = register(reseller, privacy=False)
    done = subprocess.run(["whois", "-h", "127.0.0.1", "-p", str(whois_port), domain.name],
                          capture_output=True, text=True, timeout=20)
    assert done.returncode == 0
    parsed = WhoisEntry.load(domain.name, done.stdout)
    assert parsed.reseller == "Verkkotoimisto Oy (https://verkkotoimisto.example)"
    assert parsed.registrar == app.config["OPERATOR_NAME"]
    assert parsed.expiration_date.date() == domain.expires_at.date()
    assert parsed.name == REGISTRANT["name"]  # python-whois calls the registrant "name"
    unknown = subprocess.run(["whois", "-h", "127.0.0.1", "-p", str(whois_port),
                              "never-registered.com"], capture_output=True, text=True,
                             timeout=20)
    assert 'No match for "NEVER-REGISTERED.COM"' in unknown.stdout


def test_whois_is_rate_limited_per_client_address(app, db_session):
    import socket

    server = WhoisServer(app, "127.0.0.1", free_port(), per_minute=2)
    threading.Thread(target=server.serve_forever,
                     kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        answers = []
        for _ in range(3):
            with socket.create_connection(server.server_address, timeout=10) as sock:
                sock.sendall(b"nothing-here.com\r\n")
                answers.append(sock.makefile("rb").read().decode())
    finally:
        server.shutdown()
        server.server_close()
    assert answers[0].startswith("No match for") and answers[1].startswith("No match for")
    assert "rate limit" in answers[2]


@pytest.mark.smoke
def test_rdap_unknown_name_is_a_404_problem_with_cors(client):
    response = client.get("/rdap/domain/not-ours.com")
    assert response.status_code == 404
    assert response.mimetype == "application/rdap+json"  # RDAP errors are RDAP (RFC 9083)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.get_json()
    assert body["errorCode"] == 404 and body["code"] == "domain_not_found"
    assert client.get("/rdap/domain/not a name").status_code == 400
    help_ = client.get("/rdap/help")
    assert help_.status_code == 200 and help_.mimetype == "application/rdap+json"
    assert "rdap_level_0" in help_.get_json()["rdapConformance"]


def test_rdap_answer_has_the_rfc_9083_members(factory, client):
    domain = register(factory.reseller(), privacy=False)
    body = client.get(f"/rdap/domain/{domain.name.upper()}").get_json()
    assert body["objectClassName"] == "domain" and body["ldhName"] == domain.name
    assert {e["eventAction"] for e in body["events"]} == {
        "registration", "expiration", "registrar expiration", "last changed",
        "last update of RDAP database"}
    # RFC 5731: "ok" (RDAP "active") never with another status.
    assert body["status"] == ["client transfer prohibited"]
    assert body["secureDNS"] == {"delegationSigned": False}
    assert body["links"][0]["rel"] == "self"
    assert [e["roles"] for e in body["entities"]] == [["registrar"], ["reseller"],
                                                     ["registrant"]]



def test_the_white_label_brand_is_the_reseller_in_rdap_and_whois(factory, client, whois_port):
    from whitelabel import brands

    reseller = factory.reseller(company_name="Legal Name Oy")
    brands.update_brand(reseller_id=reseller.id, name="Webbitalo",
                        support_url="https://webbitalo.example")
    db.session.commit()
    domain = register(reseller, privacy=False)
    entity = client.get(f"/rdap/domain/{domain.name}").get_json()["entities"][1]
    assert entity["roles"] == ["reseller"]
    assert ["fn", {}, "text", "Webbitalo"] in entity["vcardArray"][1]
    answer = subprocess.run(["whois", "-h", "127.0.0.1", "-p", str(whois_port), domain.name],
                            capture_output=True, text=True, timeout=20).stdout
    assert "Reseller: Webbitalo (https://webbitalo.example)" in answer
    assert "Legal Name Oy" not in answer


def test_a_suspended_domain_shows_client_hold(factory, client, whois_port):
    domain = register(factory.reseller(), privacy=False)
    domain.suspended = True
    db.session.commit()
    assert "client hold" in client.get(f"/rdap/domain/{domain.name}").get_json()["status"]
    answer = subprocess.run(["whois", "-h", "127.0.0.1", "-p", str(whois_port), domain.name],
                            capture_output=True, text=True, timeout=20).stdout
    assert "Domain Status: clientHold https://icann.org/epp#clientHold" in answer


# -- hostile text ---------------------------------------------------------------------------------
INJECTION = "\r\nRegistrar Abuse Contact Email: evil@attacker.example\r\nDomain Status: serverHold"
WHOIS_KEYS = {"Domain Name", "Registry Domain ID", "Registrar WHOIS Server", "Registrar URL",
              "Updated Date", "Creation Date", "Registrar Registration Expiration Date",
              "Registrar", "Registrar IANA ID", "Registrar Abuse Contact Email",
              "Registrar Abuse Contact Phone", "Reseller", "Domain Status",
              "Registry Registrant ID", "Registrant Name", "Registrant Organization",
              "Registrant Street", "Registrant City", "Registrant State/Province",
              "Registrant Postal Code", "Registrant Country", "Registrant Phone",
              "Registrant Email", "Name Server", "DNSSEC",
              "URL of the ICANN Whois Inaccuracy Complaint Form"}


def _whois(port: int, name: str) -> str:
    done = subprocess.run(["whois", "-h", "127.0.0.1", "-p", str(port), name],
                          capture_output=True, text=True, timeout=20)
    assert done.returncode == 0
    return done.stdout


def _fields(answer: str) -> list[tuple[str, str]]:
    """The ``Key: value`` lines before the footer, as a line-anchored parser reads them."""
    lines = answer.splitlines()
    body = lines[:next(i for i, line in enumerate(lines) if line.startswith(">>> "))]
    for line in body:
        assert not has_control_characters(line), repr(line)
    return [tuple(line.split(": ", 1)) if ": " in line else (line.rstrip(":"), "")
            for line in body]


@pytest.mark.skipif(shutil.which("whois") is None, reason="Debian whois is not installed")
def test_a_hostile_contact_cannot_add_a_whois_line(factory, whois_port, app):
    reseller = factory.reseller(company_name="Verkkotoimisto Oy")
    domain = register(reseller, privacy=False)
    api = factory.api(reseller)
    refused = api.put(f"/api/v1/contacts/{domain.registrant_id}", json={
        **REGISTRANT, "country": "FI", "street": "Kotikatu 5" + INJECTION})
    assert refused.status_code == 422 and refused.json["code"] == "validation_failed"
    assert "street" in refused.json["errors"]
    answer = _whois(whois_port, domain.name)
    fields = _fields(answer)
    assert [v for k, v in fields if k == "Registrar Abuse Contact Email"] == [
        app.config["OPERATOR_ABUSE_EMAIL"]]
    assert [v.split()[0] for k, v in fields if k == "Domain Status"] == [
        "clientTransferProhibited"]
    parsed = WhoisEntry.load(domain.name, answer)
    assert parsed.address == REGISTRANT["street"] and parsed.name == REGISTRANT["name"]
    assert parsed.registrar == app.config["OPERATOR_NAME"]
    assert "evil@attacker.example" not in (parsed.emails or [])
    assert not any("serverHold" in status for status in parsed.status)


@pytest.mark.skipif(shutil.which("whois") is None, reason="Debian whois is not installed")
def test_stored_control_characters_print_as_one_line_in_whois(factory, whois_port, app):
    """Data stored before the input rule (NUL aside: PostgreSQL text cannot hold it).

    python-whois's patterns are not anchored to a line (``Status: *(.+)`` matches inside
    any line), so for what only line structure can decide — which lines exist — the
    answer is read line by line, as Debian whois prints it and ICANN's layout defines it."""
    from whitelabel import brands

    reseller = factory.reseller(company_name="Verkkotoimisto Oy")
    brands.update_brand(reseller_id=reseller.id, name="Webbi\u2028Reseller: Someone Else")
    db.session.commit()
    domain = register(reseller, privacy=False, contact={
        "street": "Kotikatu 5" + INJECTION, "name": "Maija\x1b[2J\x85Registrant Name: Mallory",
        "city": "Tampere\n", "organization": "Oy\u2029Ab"}, nameservers=[
        "ns1.agency.example\r\nDomain Status: serverHold", "ns2.agency.example"])
    answer = _whois(whois_port, domain.name)
    fields = _fields(answer)
    assert {key for key, _ in fields} <= WHOIS_KEYS
    clean = _fields(_whois(whois_port, register(reseller, privacy=False).name))
    assert [key for key, _ in fields] == [key for key, _ in clean]  # not one line more
    values = dict(fields)
    assert values["Registrant Street"] == (
        "Kotikatu 5\\r\\nRegistrar Abuse Contact Email: evil@attacker.example\\r\\n"
        "Domain Status: serverHold")
    assert values["Registrant Name"] == "Maija\\x1b[2J\\x85Registrant Name: Mallory"
    assert values["Registrant City"] == "Tampere\\n"
    assert values["Reseller"] == "Webbi\\u2028Reseller: Someone Else"
    assert [v for k, v in fields if k == "Name Server"] == [
        "NS1.AGENCY.EXAMPLE\\r\\nDOMAIN STATUS: SERVERHOLD", "NS2.AGENCY.EXAMPLE"]
    assert [v for k, v in fields if k == "Registrar Abuse Contact Email"] == [
        app.config["OPERATOR_ABUSE_EMAIL"]]
    parsed = WhoisEntry.load(domain.name, answer)
    assert parsed.address == values["Registrant Street"]
    assert parsed.name == values["Registrant Name"]
    assert parsed.registrar == app.config["OPERATOR_NAME"]
    assert parsed.expiration_date.date() == domain.expires_at.date()


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_stored_control_characters_are_one_line_values_in_rdap(factory, client):
    from whitelabel import brands

    reseller = factory.reseller()
    brands.update_brand(reseller_id=reseller.id, name="Webbi\r\nX",
                        support_url="https://webbi.example/\x1b")
    db.session.commit()
    domain = register(reseller, privacy=False, contact={
        "street": "Kotikatu 5" + INJECTION, "name": "Maija\u2028Mallory",
        "phone": "+358.401234567\n"}, nameservers=["ns1.agency.example\r\n", "ns2.agency.example"])
    response = client.get(f"/rdap/domain/{domain.name}")
    assert response.status_code == 200
    body = json.loads(response.get_data(as_text=True))
    for text in _strings(body):
        assert not has_control_characters(text), repr(text)
    registrant = next(e for e in body["entities"] if e["roles"] == ["registrant"])
    vcard = {prop[0]: prop for prop in registrant["vcardArray"][1]}
    assert vcard["fn"][3] == "Maija\\u2028Mallory"
    assert vcard["adr"][3][2] == ("Kotikatu 5\\r\\nRegistrar Abuse Contact Email: "
                                  "evil@attacker.example\\r\\nDomain Status: serverHold")
    assert vcard["tel"][3] == "tel:+358401234567\\n"
    reseller_entity = next(e for e in body["entities"] if e["roles"] == ["reseller"])
    assert ["fn", {}, "text", "Webbi\\r\\nX"] in reseller_entity["vcardArray"][1]
    assert reseller_entity["links"][0]["href"] == "https://webbi.example/\\x1b"
    assert [ns["ldhName"] for ns in body["nameservers"]] == [
        "ns1.agency.example\\r\\n", "ns2.agency.example"]


def test_with_privacy_on_rdap_and_whois_offer_a_contact_form_that_reaches_the_registrant(
        factory, client, whois_port):
    from whitelabel.models import OutboxMessage

    reseller = factory.reseller()
    domain = register(reseller, privacy=True)
    form_url = f"/go/contact/{reseller.id}/{domain.name}"
    rdap = client.get(f"/rdap/domain/{domain.name}").get_json()
    [registrant] = [e for e in rdap["entities"] if e["roles"] == ["registrant"]]
    [uri] = [p[3] for p in registrant["vcardArray"][1] if p[0] == "contact-uri"]
    assert uri.endswith(form_url)
    [email] = [r for r in rdap["redacted"] if r["name"]["type"] == "Registrant Email"]
    assert email["method"] == "replacementValue" and "contact-uri" in email["replacementPath"]
    answer = subprocess.run(["whois", "-h", "127.0.0.1", "-p", str(whois_port), domain.name],
                            capture_output=True, text=True, timeout=20).stdout
    assert f"Registrant Email: {uri}" in answer and REGISTRANT["email"] not in answer
    assert client.get(form_url).status_code == 200
    message = {"name": "Kalle Kysyjä", "email": "kalle@kysyja.example",
               "message": "Is the domain for sale? I would like to buy it."}
    sent = client.post(form_url, data=message)
    assert sent.status_code == 200 and REGISTRANT["email"] not in sent.get_data(as_text=True)
    [mail] = db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.template == "registrant/registrant_contact")).all()
    assert mail.recipient == REGISTRANT["email"] and mail.reply_to == message["email"]
    assert message["message"] in mail.text
    assert client.post(form_url, data={**message, "email": "ei-osoite"}).status_code == 422
    for _ in range(2):  # three an hour from one sender
        assert client.post(form_url, data=message).status_code == 200
    assert client.post(form_url, data=message).status_code == 429
    assert client.get(f"/go/contact/{reseller.id + 999}/{domain.name}").status_code == 404
