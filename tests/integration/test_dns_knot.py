"""Publishing to a real Knot server: create, change, delete, drift repair, ACME keys.

What the API shows is read back from Knot with dnspython (AXFR, queries) and ``dig``.
"""

from __future__ import annotations

import dataclasses
import itertools
import subprocess
import time

import dns.message
import dns.query
import dns.rcode
import dns.tsig
import dns.tsigkeyring
import dns.update
import dns.zone
import pytest

from reseller.core.db import unit_of_work
from reseller.dns import services, tasks, vanity
from reseller.dns.publishers import rrs_of
from reseller.dns.settings import dns_settings

_seq = itertools.count(1)

RECORDS = [
    {"name": "@", "type": "A", "ttl": 300, "value": "192.0.2.10"},
    {"name": "www", "type": "A", "ttl": 300, "value": "192.0.2.11"},
    {"name": "@", "type": "AAAA", "ttl": 300, "value": "2001:db8::10"},
    {"name": "@", "type": "MX", "ttl": 3600, "value": "10 mail"},
    {"name": "mail", "type": "A", "ttl": 3600, "value": "192.0.2.25"},
    {"name": "@", "type": "TXT", "ttl": 3600, "value": "v=spf1 mx -all"},
    {"name": "_sip._tcp", "type": "SRV", "ttl": 3600, "value": "10 60 5060 sip.example.org."},
    {"name": "@", "type": "CAA", "ttl": 3600, "value": '0 issue "letsencrypt.org"'},
    {"name": "lab", "type": "NS", "ttl": 3600, "value": "ns1.lab-hosting.example."},
]


def zone_name() -> str:
    return f"t{next(_seq)}-knot.example"


def hosting(factory, reseller=None):
    """An API client of a reseller that holds a fresh domain, and the domain's name."""
    reseller = reseller or factory.reseller()
    zone = zone_name()
    factory.domain(reseller, zone)
    return factory.api(reseller), zone


def axfr(server, zone: str) -> list:
    keyring = dns.tsigkeyring.from_text({server.key_name: server.key_secret})
    xfr = dns.query.xfr("127.0.0.1", zone, port=server.port, keyring=keyring,
                        keyname=server.key_name, keyalgorithm=dns.tsig.HMAC_SHA256)
    return rrs_of(dns.zone.from_xfr(xfr, relativize=True), zone)


def dig(server, name: str, rtype: str) -> list[str]:
    done = subprocess.run(["dig", "@127.0.0.1", "-p", str(server.port), name, rtype, "+short",
                           "+tcp", "+norecurse"], capture_output=True, text=True, check=True)
    return sorted(line for line in done.stdout.splitlines() if line)


def served_as_api(server, zone: str) -> list[dict]:
    """Knot's records in the API's shape (without the SOA and apex NS Tunnus manages)."""
    return sorted((rr.as_dict() for rr in axfr(server, zone)
                   if rr.type != "SOA" and not (rr.type == "NS" and rr.name == "@")),
                  key=lambda r: (r["name"], r["type"], r["value"]))


def api_records(body: dict) -> list[dict]:
    return sorted(body["records"], key=lambda r: (r["name"], r["type"], r["value"]))


@pytest.mark.smoke
def test_new_zone_is_published_and_reads_back_exactly(factory, jobs, knot):
    api, zone = hosting(factory)
    response = api.put(f"/api/v1/domains/{zone}/dns", json={"records": RECORDS})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["published"] is False
    jobs.run_all()
    body = api.get(f"/api/v1/domains/{zone}/dns").get_json()
    assert body["published"] is True
    assert served_as_api(knot, zone) == api_records(body)
    assert dig(knot, zone, "A") == ["192.0.2.10"]
    assert dig(knot, f"www.{zone}", "A") == ["192.0.2.11"]
    assert dig(knot, zone, "MX") == [f"10 mail.{zone}."]
    assert dig(knot, zone, "TXT") == ['"v=spf1 mx -all"']
    assert dig(knot, zone, "NS") == sorted(ns + "." for ns in body["nameservers"])
    soa = dig(knot, zone, "SOA")[0].split()
    assert int(soa[2]) == body["serial"] == body["published_serial"]
    assert soa[0] == body["nameservers"][0] + "."


def test_changes_and_deletes_reach_knot_in_order(factory, jobs, knot):
    api, zone = hosting(factory)
    api.put(f"/api/v1/domains/{zone}/dns", json={"records": RECORDS})
    jobs.run_all()
    # Replacing an A with a CNAME only works if the delete reaches the server first.
    response = api.patch(f"/api/v1/domains/{zone}/dns", json={
        "remove": [{"name": "www", "type": "A"}],
        "add": [{"name": "www", "type": "CNAME", "value": f"{zone}."}]})
    assert response.status_code == 200, response.get_json()
    api.patch(f"/api/v1/domains/{zone}/dns", json={
        "remove": [{"name": "@", "type": "A", "value": "192.0.2.10"}],
        "add": [{"name": "@", "type": "A", "ttl": 300, "value": "192.0.2.99"}]})
    first_serial = api.get(f"/api/v1/domains/{zone}/dns").get_json()["published_serial"]
    jobs.run_all()
    body = api.get(f"/api/v1/domains/{zone}/dns").get_json()
    assert dig(knot, f"www.{zone}", "CNAME") == [f"{zone}."]
    assert dig(knot, zone, "A") == ["192.0.2.99"]
    assert served_as_api(knot, zone) == api_records(body)
    assert body["published_serial"] > first_serial

    assert api.delete(f"/api/v1/domains/{zone}/dns").status_code == 204
    jobs.run_all()
    query = dns.message.make_query(zone, "SOA")
    answer = dns.query.tcp(query, "127.0.0.1", port=knot.port, timeout=5)
    assert answer.rcode() == dns.rcode.REFUSED
    assert api.get(f"/api/v1/domains/{zone}/dns").status_code == 404


def test_cname_clash_is_refused_before_anything_is_sent(factory, jobs, knot):
    api, zone = hosting(factory)
    clash = [{"name": "www", "type": "A", "value": "192.0.2.1"},
             {"name": "www", "type": "CNAME", "value": "example.org."}]
    response = api.put(f"/api/v1/domains/{zone}/dns", json={"records": clash})
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["code"] == "validation_failed"
    assert "CNAME" in problem["errors"]["records"]["1"]["name"][0]
    assert jobs.jobs == []
    answer = dns.query.tcp(dns.message.make_query(zone, "SOA"), "127.0.0.1", port=knot.port,
                           timeout=5)
    assert answer.rcode() == dns.rcode.REFUSED  # nothing reached the server


def test_exported_zone_passes_kzonecheck(factory, jobs, knot, tmp_path):
    api, zone = hosting(factory)
    api.put(f"/api/v1/domains/{zone}/dns", json={"records": RECORDS})
    response = api.get(f"/api/v1/domains/{zone}/dns/zonefile")
    assert response.status_code == 200
    assert response.mimetype == "text/dns"
    path = tmp_path / f"{zone}.zone"
    path.write_text(response.get_data(as_text=True))
    check = subprocess.run(["kzonecheck", "-o", zone, str(path)], capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def _rogue_update(server, zone: str, build) -> None:
    keyring = dns.tsigkeyring.from_text({server.key_name: server.key_secret})
    update = dns.update.UpdateMessage(zone, keyring=keyring, keyname=server.key_name,
                                      keyalgorithm=dns.tsig.HMAC_SHA256)
    build(update)
    assert dns.query.tcp(update, "127.0.0.1", port=server.port).rcode() == dns.rcode.NOERROR


def test_drift_without_a_key_of_the_zone_is_repaired(factory, jobs, knot):
    """Made with the operator's key (no zone key could have): everything is reverted,
    a challenge TXT too (before zone keys, those were left for ACME clients; now an ACME
    key's writes are adopted instead: test_zone_keys_knot.py)."""
    api, zone = hosting(factory)
    api.put(f"/api/v1/domains/{zone}/dns", json={"records": RECORDS})
    jobs.run_all()

    def drift(update):
        update.delete("www", "A")
        update.add("evil", 300, "A", "203.0.2.66")
        update.add("_acme-challenge", 60, "TXT", '"from-certbot"')

    _rogue_update(knot, zone, drift)
    assert dig(knot, f"evil.{zone}", "A") == ["203.0.2.66"]
    with unit_of_work():
        tasks.repair_drift()
    body = api.get(f"/api/v1/domains/{zone}/dns").get_json()
    assert dig(knot, f"evil.{zone}", "A") == []
    assert dig(knot, f"www.{zone}", "A") == ["192.0.2.11"]
    assert dig(knot, f"_acme-challenge.{zone}", "TXT") == []
    assert int(dig(knot, zone, "SOA")[0].split()[2]) == body["serial"]
    assert body["serial"] == body["published_serial"] == body["server_serial"]
    assert body["serials_agree"] is True
    assert body["last_sync"]["outcome"] == "repaired"
    assert served_as_api(knot, zone) == api_records(body)


def test_acme_key_may_write_only_challenge_txt(factory, jobs, knot):
    api, zone = hosting(factory)
    api.put(f"/api/v1/domains/{zone}/dns", json={"template": "default"})
    jobs.run_all()
    created = api.post(f"/api/v1/domains/{zone}/dns/acme-keys")
    assert created.status_code == 201
    key = created.get_json()
    assert "dns_rfc2136_secret = " + key["secret"] in key["certbot_ini"]
    jobs.run_all()
    keyring = dns.tsigkeyring.from_text({key["key_name"]: key["secret"]})

    def send(name: str, rtype: str, value: str) -> int:
        update = dns.update.UpdateMessage(zone, keyring=keyring, keyname=key["key_name"],
                                          keyalgorithm=dns.tsig.HMAC_SHA256)
        update.add(name, 60, rtype, value)
        try:
            return dns.query.tcp(update, "127.0.0.1", port=knot.port, timeout=5).rcode()
        except dns.tsig.PeerError:  # Knot answers a refused key with a TSIG error
            return dns.rcode.NOTAUTH

    # knotd applies committed configuration asynchronously: allow it a moment.
    deadline = time.monotonic() + 5
    while send("_acme-challenge", "TXT", '"token-1"') != dns.rcode.NOERROR:
        assert time.monotonic() < deadline, "the ACME key was never accepted"
        time.sleep(0.1)
    assert send("_acme-challenge.www", "TXT", '"token-2"') == dns.rcode.NOERROR
    # Any name at or below the apex, whether the host exists or not (issue 32).
    assert send("_acme-challenge.nohost.deep", "TXT", '"token-3"') == dns.rcode.NOERROR
    assert send("www", "A", "203.0.2.66") != dns.rcode.NOERROR
    assert send("_acme-challenge", "A", "203.0.2.66") != dns.rcode.NOERROR
    # Knot 3.2 has no owner patterns: it lets the key write TXT anywhere in the zone, and
    # the sync reverts what is outside _acme-challenge names (3.3+ refuses it outright).
    outside = send("www", "TXT", '"not-a-challenge"')
    assert dig(knot, f"_acme-challenge.{zone}", "TXT") == ['"token-1"']
    assert dig(knot, f"www.{zone}", "A") == []
    with unit_of_work():
        tasks.sync_changed_zones()
    assert dig(knot, f"www.{zone}", "TXT") == []
    body = api.get(f"/api/v1/domains/{zone}/dns").get_json()
    challenges = {(r["name"], r["value"]) for r in body["records"] if r["type"] == "TXT"}
    assert {("_acme-challenge", '"token-1"'), ("_acme-challenge.www", '"token-2"'),
            ("_acme-challenge.nohost.deep", '"token-3"')} <= challenges
    assert ("www", '"not-a-challenge"') not in challenges
    assert body["last_sync"]["outcome"] == ("adopted+repaired" if outside == dns.rcode.NOERROR
                                            else "adopted")
    # ACME writes move the API's serial too: it is what the server serves.
    assert body["serial"] == body["published_serial"] == body["server_serial"]
    assert int(dig(knot, zone, "SOA")[0].split()[2]) == body["serial"]

    listed = api.get(f"/api/v1/domains/{zone}/dns/acme-keys").get_json()["items"]
    assert [k["key_name"] for k in listed] == [key["key_name"]] and "secret" not in listed[0]
    assert api.delete(f"/api/v1/domains/{zone}/dns/acme-keys/{key['id']}").status_code == 204
    jobs.run_all()
    time.sleep(0.5)
    assert send("_acme-challenge", "TXT", '"token-4"') != dns.rcode.NOERROR


@pytest.mark.smoke
def test_lego_httpreq_present_and_cleanup_write_the_txt_record(factory, jobs, knot, client):
    reseller = factory.reseller()
    api, zone = hosting(factory, reseller)
    api.put(f"/api/v1/domains/{zone}/dns", json={"template": "default"})
    jobs.run_all()
    token = factory.token(reseller, scopes=["dns:write"])
    auth = {"Authorization": "Basic " + __import__("base64").b64encode(
        f"lego:{token}".encode()).decode()}
    challenge = {"fqdn": f"_acme-challenge.www.{zone}.", "value": "LHDhK3oGRvkiefQnx7OOczTY"}
    response = client.post("/acme/httpreq/present", json=challenge, headers=auth)
    assert response.status_code == 200, response.get_json()
    jobs.run_all()
    assert dig(knot, f"_acme-challenge.www.{zone}", "TXT") == ['"LHDhK3oGRvkiefQnx7OOczTY"']
    assert client.post("/acme/httpreq/cleanup", json=challenge, headers=auth).status_code == 200
    jobs.run_all()
    assert dig(knot, f"_acme-challenge.www.{zone}", "TXT") == []


def test_verified_vanity_nameservers_go_into_ns_and_soa(factory, jobs, knot, app):
    reseller = factory.reseller()
    api, own = hosting(factory, reseller)
    hosted = hosting(factory, reseller)[1]
    settings = dns_settings()
    glue = [{"name": ns, "type": "A", "value": settings.nameserver_addresses[0]}
            for ns in ("ns1", "ns2")]
    api.put(f"/api/v1/domains/{own}/dns", json={"records": glue})
    api.put(f"/api/v1/domains/{hosted}/dns", json={"template": "default"})
    jobs.run_all()
    response = api.put("/api/v1/nameservers", json={"hostnames": [f"ns1.{own}", f"ns2.{own}"]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["verified"] is False
    assert {g["hostname"] for g in response.get_json()["glue"]} == {f"ns1.{own}", f"ns2.{own}"}
    with unit_of_work():  # resolve through the Knot server itself
        checked = vanity.verify_vanity(
            reseller_id=reseller.id,
            settings=dataclasses.replace(settings, verify_resolver=f"127.0.0.1:{knot.port}"))
        assert checked.verified_at is not None
    jobs.run_all()
    assert dig(knot, hosted, "NS") == [f"ns1.{own}.", f"ns2.{own}."]
    assert dig(knot, hosted, "SOA")[0].split()[0] == f"ns1.{own}."
    body = api.get(f"/api/v1/domains/{hosted}/dns").get_json()
    assert body["nameservers"] == [f"ns1.{own}", f"ns2.{own}"]
    assert services.nameservers_for(reseller.id, settings) == body["nameservers"]


@pytest.mark.parametrize("hostname", ["ns1.nimipalvelu.example", "ns1.dns-hosting.example",
                                      "ns.nimipalvelu-dns.fi"])
def test_vanity_names_never_carry_the_operators_brand(factory, hostname):
    api = factory.api()
    response = api.put("/api/v1/nameservers", json={"hostnames": [hostname, "ns2.agency.fi"]})
    assert response.status_code == 422
    assert response.get_json()["code"] == "vanity_nameservers_refused"


def test_a_zone_the_server_lost_is_recreated_by_drift_repair(factory, jobs, knot):
    api, zone = hosting(factory)
    api.put(f"/api/v1/domains/{zone}/dns", json={"records": RECORDS})
    jobs.run_all()
    conf = ["knotc", "-c", str(knot.conf)]
    for step in (["conf-begin"], ["conf-unset", f"zone[{zone}]"], ["conf-commit"]):
        subprocess.run([*conf, *step], check=True, capture_output=True)
    deadline = time.monotonic() + 5
    while dig(knot, zone, "SOA") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert dig(knot, zone, "SOA") == []
    with unit_of_work():
        tasks.repair_drift()
    body = api.get(f"/api/v1/domains/{zone}/dns").get_json()
    assert served_as_api(knot, zone) == api_records(body)
    assert dig(knot, f"www.{zone}", "A") == ["192.0.2.11"]
