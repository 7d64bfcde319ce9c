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
from werkzeug.serving import make_server
from whois.parser import WhoisEntry

from reseller.core.clock import clock
from reseller.core.extensions import db
from reseller.whois.server import WhoisServer
from tests.support.servers import free_port

# Registration data comes from the domains package (branch ``domains``).
domain_models = pytest.importorskip("reseller.domains.models")
Contact, Domain = domain_models.Contact, domain_models.Domain

_seq = itertools.count(1)
REGISTRANT = {"name": "Maija Meikäläinen", "email": "maija@koti.example",
              "phone": "+358.401234567", "street": "Kotikatu 5 B 12", "city": "Tampere",
              "postal_code": "33100"}


def register(reseller, *, privacy: bool, name: str | None = None):
    n = next(_seq)
    name = name or f"rdap-test-{n}.com"
    contact = Contact(reseller_id=reseller.id, handle=f"TC{n:06d}", organization=None,
                      country="FI", language="fi", **REGISTRANT)
    db.session.add(contact)
    db.session.flush()
    now = clock.now()
    domain = Domain(reseller_id=reseller.id, name=name, live_name=name, unicode_name=name,
                    tld=name.rsplit(".", 1)[1], status="active",
                    created_at=now - timedelta(days=100), expires_at=now + timedelta(days=265),
                    updated_at=now - timedelta(days=3), privacy=privacy, locked=True,
                    nameservers=["ns1.agency.example", "ns2.agency.example"], ds=[],
                    registrant_id=contact.id)
    db.session.add(domain)
    db.session.commit()
    return domain


@pytest.fixture
def web(app, db_session):
    """The app on a real HTTP port (requests share the test's rolled-back transaction)."""
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def whois_port(app, db_session):
    server = WhoisServer(app, "127.0.0.1", free_port(), per_minute=1000)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
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
    threading.Thread(target=server.serve_forever, daemon=True).start()
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
    assert response.mimetype == "application/problem+json"
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
        "registration", "expiration", "last changed", "last update of RDAP database"}
    assert body["status"] == ["active", "client transfer prohibited"]
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
