"""Lost updates and secrets: ETag on a zone, a contact and a domain's settings with
If-Match answering 412 when stale (RFC 9110 §13.1.1); Cache-Control: no-store on every
response carrying a secret."""

from __future__ import annotations

import base64
import itertools

import pytest

from reseller.accounts import services as accounts
from reseller.core.web.helpers import if_match_holds
from tests.support.domains import CONTACT, fund, install_catalogue

_seq = itertools.count(1)


def zone_name() -> str:
    return f"z{next(_seq)}-etag.fi"


def held_zone(factory) -> tuple:
    """An API client of a reseller holding a fresh domain (only held names are hosted at
    once), and that domain's zone path."""
    reseller = factory.reseller()
    name = zone_name()
    factory.domain(reseller, name)
    return factory.api(reseller), f"/api/v1/domains/{name}/dns"


# -- If-Match semantics ------------------------------------------------------------------------

@pytest.mark.parametrize("header, current, holds", [
    ('"a"', '"a"', True),
    ('"b", "a"', '"a"', True),
    ('W/"a"', '"a"', False),  # If-Match compares strongly: a weak tag never matches
    ('"b"', '"a"', False),
    ("*", '"a"', True),
    ("*", None, False),  # no current representation
    ('"a"', None, False),
    ("a", '"a"', False),  # not an entity tag
    ('"a" "b"', '"a"', False),
])
def test_if_match_follows_rfc_9110(header, current, holds):
    assert if_match_holds(header, current) is holds


# -- zones -----------------------------------------------------------------------------------

A_RECORD = {"name": "www", "type": "A", "value": "192.0.2.10", "ttl": 300}


@pytest.mark.smoke
def test_stale_if_match_on_a_zone_is_412_and_changes_nothing(factory):
    api, path = held_zone(factory)
    created = api.put(path, json={"records": [A_RECORD]})
    assert created.status_code == 201
    read = api.get(path)
    etag = read.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert created.headers["ETag"] == etag  # the write answers with the version it made
    # Someone else changes the zone in between.
    other = api.patch(path, json={"add": [{**A_RECORD, "name": "api"}]})
    assert other.status_code == 200 and other.headers["ETag"] != etag
    stale = api.put(path, json={"records": [A_RECORD]}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert stale.mimetype == "application/problem+json"
    assert stale.json["code"] == "precondition_failed"
    assert {r["name"] for r in api.get(path).json["records"]} == {"www", "api"}
    fresh = api.get(path).headers["ETag"]
    assert fresh == other.headers["ETag"]
    ok = api.put(path, json={"records": [A_RECORD]}, headers={"If-Match": fresh})
    assert ok.status_code == 200 and ok.headers["ETag"] not in (etag, fresh)


def test_zone_patch_honours_if_match_and_a_list_of_tags(factory):
    api, path = held_zone(factory)
    etag = api.put(path, json={"records": [A_RECORD]}).headers["ETag"]
    add = {"add": [{**A_RECORD, "name": "mail"}]}
    assert api.patch(path, json=add, headers={"If-Match": '"nope"'}).status_code == 412
    assert api.patch(path, json=add, headers={"If-Match": f'"nope", {etag}'}).status_code == 200
    assert api.patch(path, json=add, headers={"If-Match": etag}).status_code == 412
    assert api.patch(path, json=add, headers={"If-Match": "*"}).status_code == 200


def test_if_match_on_a_zone_not_yet_hosted_fails(factory):
    api, path = held_zone(factory)
    assert api.put(path, json={"records": [A_RECORD]},
                   headers={"If-Match": "*"}).status_code == 412
    assert api.put(path, json={"records": [A_RECORD]},
                   headers={"If-Match": '"x"'}).status_code == 412
    assert api.put(path, json={"records": [A_RECORD]}).status_code == 201


def test_writes_without_if_match_keep_working(factory):
    api, path = held_zone(factory)
    assert api.put(path, json={"records": [A_RECORD]}).status_code == 201
    assert api.put(path, json={"records": [A_RECORD]}).status_code == 200
    assert api.patch(path, json={"remove": [{"name": "www", "type": "A"}]}).status_code == 200


def test_another_resellers_zone_is_404_not_412(factory):
    owner, path = held_zone(factory)
    etag = owner.put(path, json={"records": [A_RECORD]}).headers["ETag"]
    stranger = factory.api()
    assert stranger.patch(path, json={"add": [A_RECORD]},
                          headers={"If-Match": etag}).status_code == 404


# -- contacts --------------------------------------------------------------------------------

def test_stale_if_match_on_a_contact_is_412(factory):
    api = factory.api()
    contact = api.post("/api/v1/contacts", json=CONTACT)
    path = f"/api/v1/contacts/{contact.json['id']}"
    etag = api.get(path).headers["ETag"]
    assert api.put(path, json={**CONTACT, "city": "Espoo"},
                   headers={"If-Match": etag}).status_code == 200
    stale = api.put(path, json={**CONTACT, "city": "Vantaa"}, headers={"If-Match": etag})
    assert stale.status_code == 412 and stale.json["code"] == "precondition_failed"
    assert api.get(path).json["city"] == "Espoo"
    assert api.put(path, json={**CONTACT, "city": "Vantaa"}).status_code == 200  # no If-Match
    # A contact that does not exist is 404, whatever If-Match says.
    assert api.put("/api/v1/contacts/999999", json=CONTACT,
                   headers={"If-Match": "*"}).status_code == 404


# -- a domain's settings -------------------------------------------------------------------------

@pytest.fixture
def domain(factory, jobs):
    install_catalogue()
    reseller = factory.reseller()
    fund(reseller, "200.00")
    api = factory.api(reseller)
    contact = api.post("/api/v1/contacts", json=CONTACT).json
    order = api.post("/api/v1/domains", json={
        "name": f"etag-{next(_seq)}.fi", "period": 1, "contacts": {"registrant": contact["id"]}})
    assert order.status_code == 202, order.json
    jobs.run_all()
    return api, order.json["domain"]


@pytest.mark.parametrize("setting, body", [
    ("auto-renew", {"auto_renew": False}),
    ("privacy", {"privacy": True}),
    ("lock", {"locked": True}),
    ("nameservers", {"nameservers": ["ns1.example.net", "ns2.example.net"]}),
])
def test_domain_settings_refuse_a_stale_if_match(domain, setting, body):
    api, name = domain
    path = f"/api/v1/domains/{name}"
    etag = api.get(path).headers["ETag"]
    changed = api.put(f"{path}/{setting}", json=body, headers={"If-Match": etag})
    assert changed.status_code == 200, changed.json
    assert changed.headers["ETag"] == api.get(path).headers["ETag"] != etag
    stale = api.put(f"{path}/{setting}", json=body, headers={"If-Match": etag})
    assert stale.status_code == 412 and stale.json["code"] == "precondition_failed"
    assert api.put(f"{path}/{setting}", json=body).status_code == 200


def test_the_openapi_document_names_etag_if_match_and_412(client):
    spec = client.get("/api/v1/openapi.json").json
    zone = spec["paths"]["/api/v1/domains/{name}/dns"]
    assert "ETag" in zone["get"]["responses"]["200"]["headers"]
    for method in ("put", "patch"):
        assert "If-Match" in {p["name"] for p in zone[method]["parameters"]}
        assert "412" in zone[method]["responses"]
    contact = spec["paths"]["/api/v1/contacts/{contact_id}"]
    assert "If-Match" in {p["name"] for p in contact["put"]["parameters"]}
    assert "412" in spec["paths"]["/api/v1/domains/{name}/lock"]["put"]["responses"]
    assert "WWW-Authenticate" in zone["get"]["responses"]["401"]["headers"]
    tokens = spec["paths"]["/api/v1/tokens"]["post"]["responses"]["201"]["headers"]
    assert "Cache-Control" in tokens


# -- no-store on secrets ------------------------------------------------------------------

def _no_store(response):
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    return response


def test_token_creation_is_never_cached(factory):
    api = factory.api()
    created = _no_store(api.post("/api/v1/tokens", json={"name": "ci",
                                                          "scopes": ["account:read"]}))
    assert created.json["token"]
    assert "Cache-Control" not in api.get("/api/v1/tokens").headers


def test_a_replayed_token_creation_is_not_cached_and_not_stored_in_the_clear(factory):
    from reseller.core.extensions import db
    from reseller.core.web.idempotency import IdempotencyRecord

    api = factory.api()
    body, key = {"name": "ci", "scopes": ["account:read"]}, {"Idempotency-Key": "tok-1"}
    first = _no_store(api.post("/api/v1/tokens", json=body, headers=key))
    replay = _no_store(api.post("/api/v1/tokens", json=body, headers=key))
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json["token"] == first.json["token"]
    stored = db.session.query(IdempotencyRecord).filter_by(key="tok-1").one()
    assert first.json["token"] not in stored.response_body


def test_oauth_token_response_is_never_cached(client, factory):
    reseller = factory.reseller()
    oauth_client, secret = accounts.create_oauth_client(
        reseller_id=reseller.id, actor=factory.user(reseller), name="x", scopes=["account:read"])
    basic = base64.b64encode(f"{oauth_client.client_id}:{secret}".encode()).decode()
    _no_store(client.post("/oauth/token", data={"grant_type": "client_credentials"},
                          headers={"Authorization": f"Basic {basic}"}))


def test_webhook_secrets_are_never_cached(factory):
    api = factory.api()
    created = _no_store(api.post("/api/v1/webhooks/endpoints",
                                 json={"url": "https://hooks.example.com/x"}))
    path = f"/api/v1/webhooks/endpoints/{created.json['id']}"
    _no_store(api.get(path))
    _no_store(api.post(f"{path}/rotate-secret"))


def test_acme_key_creation_is_never_cached(factory):
    api, path = held_zone(factory)
    zone = path.split("/")[4]
    api.put(f"/api/v1/domains/{zone}/dns", json={"template": "default"})
    created = _no_store(api.post(f"/api/v1/domains/{zone}/dns/acme-keys"))
    assert created.json["secret"]


def test_auth_codes_are_never_cached(domain, client):
    api, name = domain
    _no_store(api.post(f"/api/v1/domains/{name}/auth-code"))
    whmcs = api.post("/whmcs/v1/GetEPPCode", json={"domainname": name})
    assert _no_store(whmcs).json["eppcode"]


def test_client_area_pages_with_secrets_are_never_cached(client, factory):
    user = factory.user()
    client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    created = client.post("/credentials", data={"action": "create_token", "name": "t",
                                                "scopes": ["account:read"]})
    _no_store(created)
    _no_store(client.post("/settings", data={"action": "totp_start"}))


@pytest.mark.postgres_only
def test_of_two_writers_with_one_etag_exactly_one_succeeds(app, committed_db):
    """The If-Match check and the write share a transaction holding the row lock: the
    second writer waits, then finds a new version and gets 412 (no lost update)."""
    import threading

    from tests.support.factories import Factory

    factory = Factory(app)
    token = factory.token(factory.reseller())
    committed_db.session.remove()
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    contact_id = client.post("/api/v1/contacts", json=CONTACT, headers=headers).json["id"]
    path = f"/api/v1/contacts/{contact_id}"
    etag = client.get(path, headers=headers).headers["ETag"]
    threads, results = 4, []
    barrier = threading.Barrier(threads)

    def write(city: str) -> None:
        own = app.test_client()
        barrier.wait()
        results.append((city, own.put(path, json={**CONTACT, "city": city},
                                      headers={**headers, "If-Match": etag}).status_code))

    workers = [threading.Thread(target=write, args=(f"City {n}",)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    statuses = sorted(status for _, status in results)
    assert statuses == [200] + [412] * (threads - 1)
    [winner] = [city for city, status in results if status == 200]
    assert client.get(path, headers=headers).json["city"] == winner
