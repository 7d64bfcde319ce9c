"""Proof of control against the real Knot server: an external name is published only once
its TXT record (or its delegation to the reseller's own nameservers) is found; the holder
of a domain wins over a zone someone else verified; a domain that leaves takes its zone
and ACME keys off the server. The Knot server also plays "the DNS where the name is served
today" (zones added to it directly, not through Tunnus) and is the verification resolver."""

from __future__ import annotations

import dataclasses
import itertools
import subprocess
import time

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.tsig
import dns.tsigkeyring
import dns.update
import pytest

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.dns import tasks
from reseller.dns.models import VanityNameservers
from reseller.domains import services as domains
from tests.integration.test_dns_knot import dig

_seq = itertools.count(1)


@pytest.fixture
def verifying(app, knot):
    """Verification resolves through the test's Knot server (and asks it as the parent's
    authoritative server)."""
    original = app.extensions["tunnus.dns"]
    app.extensions["tunnus.dns"] = dataclasses.replace(
        original, verify_resolver=f"127.0.0.1:{knot.port}", verify_authoritative_port=knot.port)
    yield knot
    app.extensions["tunnus.dns"] = original


def foreign_zone(knot, name: str, records: str) -> None:
    """A zone served by 'another provider' (added to Knot directly, not by Tunnus)."""
    (knot.storage / f"{name}.zone").write_text(
        f"$ORIGIN {name}.\n$TTL 300\n@ SOA ns.{name}. hostmaster.{name}. 1 3600 600 86400 300\n"
        f"@ NS ns.{name}.\nns A 127.0.0.1\n{records}\n")
    conf = ["knotc", "-c", str(knot.conf)]
    if subprocess.run([*conf, "conf-read", f"zone[{name}]"], capture_output=True).returncode:
        steps = (["conf-begin"], ["conf-set", f"zone[{name}]"],
                 ["conf-set", f"zone[{name}].acl", "tunnus"], ["conf-commit"])
    else:
        steps = (["zone-reload", name],)
    for step in steps:
        subprocess.run([*conf, *step], check=True, capture_output=True)
    deadline = time.monotonic() + 5
    while not dig(knot, name, "SOA"):
        assert time.monotonic() < deadline, f"Knot never served {name}"
        time.sleep(0.05)


def refused(knot, name: str) -> bool:
    answer = dns.query.tcp(dns.message.make_query(name, "SOA"), "127.0.0.1", port=knot.port,
                           timeout=5)
    return answer.rcode() == dns.rcode.REFUSED


def acme_write(knot, zone: str, key: dict, value: str) -> int:
    keyring = dns.tsigkeyring.from_text({key["key_name"]: key["secret"]})
    update = dns.update.UpdateMessage(zone, keyring=keyring, keyname=key["key_name"],
                                      keyalgorithm=dns.tsig.HMAC_SHA256)
    update.add("_acme-challenge", 60, "TXT", f'"{value}"')
    try:
        return dns.query.tcp(update, "127.0.0.1", port=knot.port, timeout=5).rcode()
    except (dns.tsig.PeerError, dns.exception.FormError):  # refused, unsigned answer
        return dns.rcode.NOTAUTH


def wait_for_acme(knot, zone: str, key: dict, accepted: bool) -> None:
    deadline = time.monotonic() + 5  # knotd applies configuration asynchronously
    while (acme_write(knot, zone, key, "probe") == dns.rcode.NOERROR) != accepted:
        assert time.monotonic() < deadline, f"ACME key never became accepted={accepted}"
        time.sleep(0.1)


@pytest.mark.smoke
def test_an_external_name_is_published_only_once_its_txt_record_is_found(factory, jobs,
                                                                         verifying):
    knot = verifying
    api = factory.api()
    name = f"ext{next(_seq)}-knot.org"
    body = api.put(f"/api/v1/domains/{name}/dns", json={"records": [
        {"name": "www", "type": "A", "value": "192.0.2.44"}]}).get_json()
    assert body["status"] == "pending"
    jobs.run_all()
    assert refused(knot, name)

    # Not yet: the TXT record is nowhere.
    checked = api.post(f"/api/v1/domains/{name}/dns/verify")
    assert checked.status_code == 200
    assert checked.get_json()["status"] == "pending"
    assert "_dns-hosting-challenge" in " ".join(checked.get_json()["verification"]["problems"])
    jobs.run_all()
    assert refused(knot, name)

    # A wrong value is not enough either.
    txt = body["verification"]["txt"]
    foreign_zone(knot, name, '_dns-hosting-challenge TXT "dns-hosting-verification=wrong"\n'
                             'www A 198.51.100.1')
    assert api.post(f"/api/v1/domains/{name}/dns/verify").get_json()["status"] == "pending"
    jobs.run_all()
    assert dig(knot, f"www.{name}", "A") == ["198.51.100.1"]  # still the old provider's

    foreign_zone(knot, name, f'_dns-hosting-challenge TXT "{txt["value"]}"\n'
                             'www A 198.51.100.1')
    deadline = time.monotonic() + 5
    while not any(txt["value"] in line for line in
                  dig(knot, f"_dns-hosting-challenge.{name}", "TXT")):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    verified = api.post(f"/api/v1/domains/{name}/dns/verify").get_json()
    assert verified["status"] == "active" and verified["verification"] is None
    jobs.run_all()
    assert dig(knot, f"www.{name}", "A") == ["192.0.2.44"]  # Tunnus's records now


def test_the_periodic_job_publishes_a_delegated_sub_zone_of_vanity_nameservers(factory, jobs,
                                                                               verifying):
    knot = verifying
    n = next(_seq)
    parent, agency = f"parent{n}-knot.org", f"agency{n}-knot.fi"
    vanity = [f"ns1.{agency}", f"ns2.{agency}"]
    reseller, stranger = factory.reseller(), factory.reseller()
    db.session.add(VanityNameservers(reseller_id=reseller.id, hostnames=vanity,
                                     verified_at=clock.now()))
    db.session.commit()
    name = f"shop.{parent}"
    api = factory.api(reseller)
    body = api.put(f"/api/v1/domains/{name}/dns", json={"template": "default"}).get_json()
    assert body["status"] == "pending" and body["verification"]["nameservers"] == vanity
    claim = factory.api(stranger).put(f"/api/v1/domains/{name}/dns", json={"records": []})
    assert claim.get_json()["status"] == "pending"  # the stranger's claim is its own

    with unit_of_work():
        tasks.verify_pending_zones()
    assert api.get(f"/api/v1/domains/{name}/dns").get_json()["status"] == "pending"

    foreign_zone(knot, parent, "\n".join(f"shop NS {ns}." for ns in vanity))
    with unit_of_work():
        tasks.verify_pending_zones()
    assert api.get(f"/api/v1/domains/{name}/dns").get_json()["status"] == "active"
    jobs.run_all()
    assert dig(knot, name, "TXT") == ['"v=spf1 -all"']
    # Delegation to the reseller's names proves nothing for another reseller.
    late = factory.api(stranger).post(f"/api/v1/domains/{name}/dns/verify")
    assert late.status_code == 403 and late.get_json()["code"] == "zone_held_elsewhere"


def test_the_holder_wins_over_a_zone_someone_else_verified(factory, jobs, verifying, app):
    from tests.support.domains import CONTACT, fund, install_catalogue

    knot = verifying
    name = f"own{next(_seq)}-knot.fi"
    squatter = factory.api()
    body = squatter.put(f"/api/v1/domains/{name}/dns", json={"records": [
        {"name": "www", "type": "A", "value": "203.0.113.66"}]}).get_json()
    foreign_zone(knot, name, f'_dns-hosting-challenge TXT "{body["verification"]["txt"]["value"]}"')
    assert squatter.post(f"/api/v1/domains/{name}/dns/verify").get_json()["status"] == "active"
    key = squatter.post(f"/api/v1/domains/{name}/dns/acme-keys").get_json()
    jobs.run_all()
    assert dig(knot, f"www.{name}", "A") == ["203.0.113.66"]
    wait_for_acme(knot, name, key, accepted=True)

    install_catalogue()
    holder = factory.reseller()
    fund(holder, "200.00")
    api = factory.api(holder)
    contact = api.post("/api/v1/contacts", json=CONTACT).get_json()
    ordered = api.post("/api/v1/domains", json={
        "name": name, "period": 1, "contacts": {"registrant": contact["id"]}})
    assert ordered.status_code in (201, 202), ordered.get_json()
    jobs.run_all()
    mine = api.get(f"/api/v1/domains/{name}/dns").get_json()
    assert mine["status"] == "active" and mine["published"] is True
    theirs = squatter.get(f"/api/v1/domains/{name}/dns").get_json()
    assert theirs["status"] == "pending"
    assert theirs["unpublished_reason"] == "zone_held_elsewhere"
    assert dig(knot, f"www.{name}", "A") == []
    assert dig(knot, name, "TXT") == ['"v=spf1 -all"']
    wait_for_acme(knot, name, key, accepted=False)


def test_a_transferred_out_domain_stops_serving_and_signing(factory, jobs, knot):
    reseller = factory.reseller()
    name = f"leaving{next(_seq)}-knot.fi"
    factory.domain(reseller, name)
    api = factory.api(reseller)
    api.put(f"/api/v1/domains/{name}/dns", json={"template": "default"})
    key = api.post(f"/api/v1/domains/{name}/dns/acme-keys").get_json()
    jobs.run_all()
    wait_for_acme(knot, name, key, accepted=True)

    with unit_of_work():
        domains.mark_transferred_out(domains.get_domain(reseller_id=reseller.id, name=name))
    jobs.run_all()
    assert refused(knot, name)
    wait_for_acme(knot, name, key, accepted=False)
    body = api.get(f"/api/v1/domains/{name}/dns").get_json()
    assert body["status"] == "pending" and body["unpublished_reason"] == "domain_left"
