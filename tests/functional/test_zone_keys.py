"""Zone keys through the API on the embedded default (sandbox publisher): scopes, shown
once, encrypted at rest, revocable, only for active zones of one's own, clear 4xx for bad
input; and the zone's serials and change log."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from reseller.core.extensions import db
from reseller.dns.models import ZoneKey

_seq = itertools.count(1)


def hosted(factory, jobs, reseller=None):
    reseller = reseller or factory.reseller()
    zone = f"k{next(_seq)}-keys.example"
    factory.domain(reseller, zone)
    api = factory.api(reseller)
    assert api.put(f"/api/v1/domains/{zone}/dns", json={"template": "default"}).status_code == 201
    jobs.run_all()
    return api, zone


@pytest.mark.smoke
@pytest.mark.parametrize("scope", ["acme", "records", "read"])
def test_a_key_is_shown_once_listed_without_secret_and_revoked(factory, jobs, app, scope):
    api, zone = hosted(factory, jobs)
    created = api.post(f"/api/v1/domains/{zone}/dns/keys", json={"scope": scope})
    assert created.status_code == 201, created.get_json()
    key = created.get_json()
    assert key["scope"] == scope and key["algorithm"] == "hmac-sha256"
    assert key["name"].startswith(f"{scope}-") and len(key["secret"]) == 44
    assert key["server"] == app.config["DNS_SERVER"]  # host:port
    assert created.headers["Cache-Control"].startswith("no-store")
    jobs.run_all()
    listed = api.get(f"/api/v1/domains/{zone}/dns/keys").get_json()["items"]
    assert [(k["name"], k["scope"], k["installed"]) for k in listed] == [
        (key["name"], scope, True)]
    assert "secret" not in listed[0]
    served = app.extensions["tunnus.dns_publisher"]
    assert served.keys[key["name"]] == zone
    # At rest the secret is a Fernet token, not the secret.
    raw = db.session.execute(sa.text("SELECT secret FROM dns_acme_keys WHERE id = :id"),
                             {"id": key["id"]}).scalar_one()
    assert key["secret"] not in raw
    assert api.delete(f"/api/v1/domains/{zone}/dns/keys/{key['id']}").status_code == 204
    jobs.run_all()
    assert key["name"] not in served.keys
    assert api.get(f"/api/v1/domains/{zone}/dns/keys").get_json()["items"] == []
    gone = api.delete(f"/api/v1/domains/{zone}/dns/keys/{key['id']}")
    assert gone.status_code == 404 and gone.get_json()["code"] == "zone_key_not_found"


@pytest.mark.parametrize("body", [{}, {"scope": "admin"}, {"scope": 1}, {"scope": "READ"},
                                  {"scope": "read", "extra": True}])
def test_bad_scopes_are_clear_422s(factory, jobs, body):
    api, zone = hosted(factory, jobs)
    response = api.post(f"/api/v1/domains/{zone}/dns/keys", json=body)
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "validation_failed"
    assert db.session.query(ZoneKey).count() == 0


def test_acme_keys_and_zone_keys_are_one_kind(factory, jobs):
    api, zone = hosted(factory, jobs)
    acme = api.post(f"/api/v1/domains/{zone}/dns/acme-keys").get_json()
    records = api.post(f"/api/v1/domains/{zone}/dns/keys", json={"scope": "records"}).get_json()
    listed = api.get(f"/api/v1/domains/{zone}/dns/keys").get_json()["items"]
    assert [(k["id"], k["scope"]) for k in listed] == [(acme["id"], "acme"),
                                                        (records["id"], "records")]
    only_acme = api.get(f"/api/v1/domains/{zone}/dns/acme-keys").get_json()["items"]
    assert [k["id"] for k in only_acme] == [acme["id"]]
    # acme-keys manages ACME keys only.
    other = api.delete(f"/api/v1/domains/{zone}/dns/acme-keys/{records['id']}")
    assert other.status_code == 404 and other.get_json()["code"] == "acme_key_not_found"


def test_keys_only_for_active_zones_and_never_another_zones_key(factory, jobs):
    reseller = factory.reseller()
    api, zone = hosted(factory, jobs, reseller)
    _, second = hosted(factory, jobs, reseller)
    key = api.post(f"/api/v1/domains/{zone}/dns/keys", json={"scope": "records"}).get_json()
    wrong = api.delete(f"/api/v1/domains/{second}/dns/keys/{key['id']}")
    assert wrong.status_code == 404
    pending = f"k{next(_seq)}-external.org"
    assert api.put(f"/api/v1/domains/{pending}/dns",
                   json={"template": "default"}).get_json()["status"] == "pending"
    refused = api.post(f"/api/v1/domains/{pending}/dns/keys", json={"scope": "records"})
    assert refused.status_code == 409 and refused.get_json()["code"] == "zone_pending"


def test_a_zone_has_at_most_twenty_keys(factory, jobs):
    api, zone = hosted(factory, jobs)
    for _ in range(20):
        assert api.post(f"/api/v1/domains/{zone}/dns/keys",
                        json={"scope": "read"}).status_code == 201
    refused = api.post(f"/api/v1/domains/{zone}/dns/keys", json={"scope": "read"})
    assert refused.status_code == 409 and refused.get_json()["code"] == "zone_key_limit"


def test_the_change_log_and_serials_are_shown(factory, jobs):
    api, zone = hosted(factory, jobs)
    changed = api.patch(f"/api/v1/domains/{zone}/dns", json={"add": [
        {"name": "www", "type": "A", "value": "192.0.2.7"}]}).get_json()
    jobs.run_all()
    body = api.get(f"/api/v1/domains/{zone}/dns").get_json()
    # The serial a change answers with is the one the server publishes.
    assert changed["serial"] == body["published_serial"] == body["server_serial"]
    assert body["serials_agree"] is True
    changes = api.get(f"/api/v1/domains/{zone}/dns/changes").get_json()["items"]
    assert changes[0]["serial"] == changed["serial"] and changes[0]["origin"] == "tunnus"
    assert changes[0]["adds"] == [{"name": "www", "type": "A", "ttl": 3600,
                                   "value": "192.0.2.7"}]
    assert changes[0]["keys"] == [] and changes[0]["published_at"]
