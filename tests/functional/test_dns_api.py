"""The DNS API on the embedded default (sandbox publisher): validation, tenancy, templates,
zone files, URL forwarding."""

from __future__ import annotations

import itertools

import pytest

_seq = itertools.count(1)


def zone_name() -> str:
    return f"z{next(_seq)}-api.example"


def hosting(factory, reseller=None, **kwargs):
    """An API client of a reseller that holds a fresh domain, and that domain's name (a
    reseller hosts the zones of its own domains at once)."""
    reseller = reseller or factory.reseller()
    zone = zone_name()
    factory.domain(reseller, zone)
    return factory.api(reseller, **kwargs), zone


@pytest.mark.smoke
def test_default_template_zone_is_published_to_the_sandbox(factory, jobs, app):
    api, zone = hosting(factory)
    response = api.put(f"/api/v1/domains/{zone}/dns", json={"template": "default"})
    assert response.status_code == 201
    body = response.get_json()
    assert {(r["name"], r["type"]) for r in body["records"]} == {
        ("@", "TXT"), ("_dmarc", "TXT"), ("@", "CAA")}
    assert body["nameservers"] == app.config["DNS_NAMESERVERS"]
    jobs.run_all()
    assert api.get(f"/api/v1/domains/{zone}/dns").get_json()["published"] is True
    served = app.extensions["tunnus.dns_publisher"].transfer(zone)
    assert ("@", "TXT", 3600, '"v=spf1 -all"') in served


@pytest.mark.parametrize("record, field, fragment", [
    ({"type": "A", "value": "300.1.1.1"}, "value", "IPv4 address"),
    ({"type": "AAAA", "value": "192.0.2.1"}, "value", "AAAA"),
    ({"type": "A", "value": "192.0.2.1", "ttl": 5}, "ttl", "60"),
    ({"type": "A", "value": "192.0.2.1", "ttl": "300"}, "ttl", ""),
    ({"type": "SPF", "value": "x"}, "type", ""),
    ({"type": "MX", "value": "10 192.0.2.1"}, "value", "IP address"),
    ({"type": "MX", "value": "mail.example.org."}, "value", "MX"),
    ({"type": "SRV", "value": "10 5 5060"}, "value", "SRV"),
    ({"type": "CAA", "value": '0 issuer "ca.example"'}, "value", "CAA tag"),
    ({"type": "CAA", "value": '0 iodef "ftp://x.example"'}, "value", "iodef"),
    ({"type": "CNAME", "name": "@", "value": "example.org."}, "name", "apex"),
    ({"type": "NS", "name": "@", "value": "ns.example.org."}, "name", "managed for you"),
    ({"type": "A", "name": "www.other.example.", "value": "192.0.2.1"}, "name", "inside"),
    ({"type": "A", "name": "bad name", "value": "192.0.2.1"}, "name", ""),
])
def test_invalid_records_are_clear_422s(factory, jobs, record, field, fragment):
    api, zone = hosting(factory)
    response = api.put(f"/api/v1/domains/{zone}/dns", json={"records": [record]})
    assert response.status_code == 422, response.get_json()
    problem = response.get_json()
    assert response.mimetype == "application/problem+json"
    messages = problem["errors"]["records"]["0"][field]
    assert fragment in " ".join(messages)
    assert jobs.jobs == []


def test_zone_rules_between_records(factory):
    api, zone = hosting(factory)
    records = [
        {"name": "mail", "type": "CNAME", "value": "mx.example.org."},
        {"name": "@", "type": "MX", "value": "10 mail"},
        {"name": "sub", "type": "NS", "value": "ns1.elsewhere.example."},
        {"name": "x.sub", "type": "A", "value": "192.0.2.1"},
        {"name": "t", "type": "TXT", "ttl": 300, "value": "a"},
        {"name": "t", "type": "TXT", "ttl": 600, "value": "b"},
    ]
    errors = api.put(f"/api/v1/domains/{zone}/dns",
                     json={"records": records}).get_json()["errors"]["records"]
    assert "CNAME" in errors["1"]["value"][0]
    assert "delegated" in errors["3"]["name"][0]
    assert "one TTL" in errors["4"]["ttl"][0]


def test_another_resellers_zone_is_404_and_cannot_be_taken(factory):
    (owner, zone), other = hosting(factory), factory.api()
    owner.put(f"/api/v1/domains/{zone}/dns", json={"template": "default"})
    for call in (other.get(f"/api/v1/domains/{zone}/dns"),
                 other.patch(f"/api/v1/domains/{zone}/dns", json={"add": []}),
                 other.delete(f"/api/v1/domains/{zone}/dns"),
                 other.get(f"/api/v1/domains/{zone}/dns/zonefile"),
                 other.post(f"/api/v1/domains/{zone}/dns/acme-keys"),
                 other.get(f"/api/v1/domains/{zone}/forwarding")):
        assert call.status_code == 404
        assert call.get_json()["code"] == "zone_not_found"
    taken = other.put(f"/api/v1/domains/{zone}/dns", json={"records": []})
    assert taken.status_code == 403 and taken.get_json()["code"] == "zone_held_elsewhere"


def test_read_scope_cannot_write(factory):
    api, zone = hosting(factory, scopes=["dns:read"])
    response = api.put(f"/api/v1/domains/{zone}/dns", json={"template": "default"})
    assert response.status_code == 403


def test_patch_removes_then_adds(factory):
    api, zone = hosting(factory)
    api.put(f"/api/v1/domains/{zone}/dns", json={"records": [
        {"name": "www", "type": "A", "value": "192.0.2.1"},
        {"name": "www", "type": "A", "value": "192.0.2.2"}]})
    body = api.patch(f"/api/v1/domains/{zone}/dns", json={
        "remove": [{"name": "www", "type": "A"}],
        "add": [{"name": "www", "type": "CNAME", "value": "@"}]}).get_json()
    assert body["records"] == [{"name": "www", "type": "CNAME", "ttl": 3600,
                                "value": f"{zone}."}]


@pytest.mark.smoke
def test_zone_file_round_trip(factory):
    reseller = factory.reseller()
    api, zone = hosting(factory, reseller)
    copy = hosting(factory, reseller)[1]
    api.put(f"/api/v1/domains/{zone}/dns", json={"records": [
        {"name": "@", "type": "A", "value": "192.0.2.1"},
        {"name": "@", "type": "MX", "value": "10 mail"},
        {"name": "mail", "type": "A", "value": "192.0.2.25"},
        {"name": "@", "type": "TXT", "value": "hello \"world\""}]})
    text = api.get(f"/api/v1/domains/{zone}/dns/zonefile").get_data(as_text=True)
    assert "SOA" in text and f"$ORIGIN {zone}." in text
    imported = api.put(f"/api/v1/domains/{copy}/dns/zonefile",
                       data=text.replace(zone, copy), headers={"Content-Type": "text/dns"})
    assert imported.status_code == 200, imported.get_json()
    original = api.get(f"/api/v1/domains/{zone}/dns").get_json()["records"]
    assert [{**r, "value": r["value"].replace(zone, copy)} for r in original] == \
        imported.get_json()["records"]


def test_broken_zone_file_is_a_422(factory):
    api, zone = hosting(factory)
    api.put(f"/api/v1/domains/{zone}/dns", json={"records": []})
    response = api.put(f"/api/v1/domains/{zone}/dns/zonefile", data="@ IN A not-an-ip\n")
    assert response.status_code == 422
    assert "zonefile" in response.get_json()["errors"]


@pytest.mark.smoke
def test_url_forwarding_points_the_zone_and_redirects_by_host(factory, client, app):
    api, zone = hosting(factory)
    api.put(f"/api/v1/domains/{zone}/dns", json={"records": [
        {"name": "www", "type": "CNAME", "value": "elsewhere.example."}]})
    response = api.put(f"/api/v1/domains/{zone}/forwarding", json={
        "host": "www", "target": "https://shop.example.org/base", "status": 302})
    assert response.status_code == 200, response.get_json()
    records = api.get(f"/api/v1/domains/{zone}/dns").get_json()["records"]
    assert {"name": "www", "type": "A", "ttl": 3600,
            "value": app.config["FORWARDING_IPV4"]} in records
    assert not any(r["type"] == "CNAME" for r in records)

    redirect = client.get("/products/1?colour=red", headers={"Host": f"www.{zone}"})
    assert redirect.status_code == 302
    assert redirect.headers["Location"] == "https://shop.example.org/base/products/1?colour=red"

    api.put(f"/api/v1/domains/{zone}/forwarding", json={
        "host": "www", "target": "https://shop.example.org/", "preserve_path": False,
        "preserve_query": False})
    redirect = client.get("/products/1?colour=red", headers={"Host": f"www.{zone}"})
    assert redirect.status_code == 301 and redirect.headers["Location"] == "https://shop.example.org/"

    assert api.delete(f"/api/v1/domains/{zone}/forwarding/www").status_code == 204
    records = api.get(f"/api/v1/domains/{zone}/dns").get_json()["records"]
    assert not any(r["name"] == "www" for r in records)
    assert client.get("/", headers={"Host": f"www.{zone}"}).status_code != 301


def test_forwarding_refuses_bad_targets(factory):
    api, zone = hosting(factory)
    api.put(f"/api/v1/domains/{zone}/dns", json={"records": []})
    for target in ("ftp://x.example", "not a url", f"https://{zone}/loop"):
        response = api.put(f"/api/v1/domains/{zone}/forwarding",
                           json={"host": "@", "target": target})
        assert response.status_code == 422, target


def test_httpreq_needs_a_token_with_dns_write(factory, client):
    import base64

    reseller = factory.reseller()
    factory.domain(reseller, "acme-test.example")
    factory.api(reseller).put("/api/v1/domains/acme-test.example/dns", json={"records": []})
    challenge = {"fqdn": "_acme-challenge.acme-test.example.", "value": "abc"}
    assert client.post("/acme/httpreq/present", json=challenge).status_code == 401
    weak = factory.token(reseller, scopes=["dns:read"])
    header = {"Authorization": "Basic " + base64.b64encode(f"u:{weak}".encode()).decode()}
    assert client.post("/acme/httpreq/present", json=challenge, headers=header).status_code == 403
    other = factory.token(factory.reseller(), scopes=["dns:write"])
    header = {"Authorization": "Basic " + base64.b64encode(f"u:{other}".encode()).decode()}
    response = client.post("/acme/httpreq/present", json=challenge, headers=header)
    assert response.status_code == 404
    bad = {"fqdn": "www.acme-test.example.", "value": "abc"}
    mine = factory.token(reseller, scopes=["dns:write"])
    header = {"Authorization": "Basic " + base64.b64encode(f"u:{mine}".encode()).decode()}
    assert client.post("/acme/httpreq/present", json=bad, headers=header).status_code == 422


def test_a_domain_registered_without_nameservers_uses_tunnus_dns_and_gets_a_zone(factory,
                                                                                  jobs, app):
    from tests.support.domains import CONTACT, fund, install_catalogue

    install_catalogue()
    reseller = factory.reseller()
    fund(reseller, "200.00")
    api = factory.api(reseller)
    contact = api.post("/api/v1/contacts", json=CONTACT).get_json()
    ordered = api.post("/api/v1/domains", json={
        "name": "hosted-by-default.fi", "period": 1, "contacts": {"registrant": contact["id"]}})
    assert ordered.status_code in (201, 202), ordered.get_json()
    jobs.run_all()
    domain = api.get("/api/v1/domains/hosted-by-default.fi").get_json()
    assert domain["nameservers"] == app.config["DNS_NAMESERVERS"]
    zone = api.get("/api/v1/domains/hosted-by-default.fi/dns").get_json()
    assert zone["nameservers"] == app.config["DNS_NAMESERVERS"]
    assert zone["published"] is True


def test_forward_and_acme_key_lists_are_pages(factory):
    api, zone = hosting(factory)
    api.put(f"/api/v1/domains/{zone}/dns", json={"records": []})
    for host in ("a", "b", "c"):
        api.put(f"/api/v1/domains/{zone}/forwarding",
                json={"host": host, "target": "https://example.org/"})
    first = api.get(f"/api/v1/domains/{zone}/forwarding?limit=2").get_json()
    assert [f["host"] for f in first["items"]] == ["a", "b"] and first["next"]
    second = api.get(first["next"]).get_json()
    assert [f["host"] for f in second["items"]] == ["c"] and second["next"] is None
    api.post(f"/api/v1/domains/{zone}/dns/acme-keys")
    keys = api.get(f"/api/v1/domains/{zone}/dns/acme-keys").get_json()
    assert len(keys["items"]) == 1 and keys["next"] is None
    assert "secret" not in keys["items"][0]
