"""Who may host a zone (issue 22, point 1), on the embedded default (sandbox publisher):
a reseller hosts its own domains; never another account's name, a zone inside it, or a
public suffix; an external name waits, unpublished, for proof of control; a refusal
changes no DNS; a domain that leaves takes its zone, forwards and ACME keys with it; the
same rules hold for ACME keys, lego's httpreq, URL forwarding, WHMCS SaveDNS and the
client area; the migration's repair lets the holder win and reports the rest."""

from __future__ import annotations

import base64
import importlib.util
import itertools
import re
from pathlib import Path

import pytest

from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.dns import tasks
from reseller.dns.models import AcmeKey, Zone
from reseller.domains import services as domains
from tests.functional.test_client_area import login
from tests.support import counting

_seq = itertools.count(1)


def fresh(label: str = "own", tld: str = "fi") -> str:
    return f"{label}{next(_seq)}-zones.{tld}"


def served(app) -> dict:
    return app.extensions["tunnus.dns_publisher"].zones


def basic(token: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"lego:{token}".encode()).decode()}


@pytest.fixture
def a_and_b(factory):
    """Reseller A holds a domain; reseller B is a stranger to it."""
    a, b = factory.reseller(), factory.reseller()
    name = fresh()
    factory.domain(a, name)
    return (a, factory.api(a)), (b, factory.api(b)), name


@pytest.mark.smoke
def test_b_cannot_host_as_domain_and_nothing_is_published_or_queued(a_and_b, jobs, app):
    (_a, api_a), (_b, api_b), name = a_and_b
    refused = api_b.put(f"/api/v1/domains/{name}/dns", json={"records": [
        {"name": "@", "type": "A", "value": "203.0.113.66"}]})
    assert refused.status_code == 403
    problem = refused.get_json()
    assert problem["code"] == "zone_held_elsewhere"
    assert refused.mimetype == "application/problem+json"
    told = {key: value for key, value in problem.items() if key != "request_id"}
    # the holder's id as a number of its own (not a digit of "status": 403)
    assert not re.search(rf"\b{_a.id}\b", str(told)) and _a.company_name not in str(told)
    assert jobs.jobs == []  # nothing queued, nothing published
    assert db.session.query(Zone).filter_by(name=name).count() == 0
    assert api_b.get(f"/api/v1/domains/{name}/dns").status_code == 404

    hosted = api_a.put(f"/api/v1/domains/{name}/dns", json={"template": "default"})
    assert hosted.status_code == 201, hosted.get_json()
    assert hosted.get_json()["status"] == "active"
    assert hosted.get_json()["verification"] is None
    jobs.run_all()
    assert name in served(app)
    assert api_a.get(f"/api/v1/domains/{name}/dns").get_json()["published"] is True


def test_b_cannot_host_a_sub_zone_of_as_domain_or_write_its_challenges(a_and_b, client,
                                                                       factory, jobs):
    (_a, _api_a), (b, api_b), name = a_and_b
    for sub in (f"www.{name}", f"_acme-challenge.www.{name}", f"deep.www.{name}"):
        response = api_b.put(f"/api/v1/domains/{sub}/dns", json={"records": []})
        assert response.status_code in (403, 422), (sub, response.get_json())
        if response.status_code == 403:
            assert response.get_json()["code"] == "zone_held_elsewhere"
    challenge = {"fqdn": f"_acme-challenge.{name}.", "value": "token"}
    token = factory.token(b, scopes=["dns:write"])
    assert client.post("/acme/httpreq/present", json=challenge,
                       headers=basic(token)).status_code == 404
    assert jobs.jobs == []


@pytest.mark.parametrize("name, code", [
    ("co.uk", "public_suffix"), ("github.io", "public_suffix"), ("aland.fi", "public_suffix"),
    ("in-addr.arpa", "public_suffix"), ("nobody-registers-this.example", "zone_not_allowed"),
    ("ns1.dns-hosting.example", "zone_not_allowed"), ("nimipalvelu.example", "zone_not_allowed"),
])
def test_public_suffixes_and_unregistrable_names_are_refused(factory, jobs, name, code):
    response = factory.api().put(f"/api/v1/domains/{name}/dns", json={"template": "default"})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["code"] == code
    assert jobs.jobs == []


def test_an_external_name_waits_unpublished_with_the_txt_record_to_publish(factory, jobs,
                                                                          app, client):
    reseller = factory.reseller()
    api = factory.api(reseller)
    name = fresh("ext", "org")
    created = api.put(f"/api/v1/domains/{name}/dns", json={"template": "default"})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "pending" and body["published"] is False
    txt = body["verification"]["txt"]
    assert txt["name"] == f"_dns-hosting-challenge.{name}" and txt["type"] == "TXT"
    assert txt["value"].startswith("dns-hosting-verification=") and len(txt["value"]) > 40
    assert body["verification"]["nameservers"] == []  # no vanity names: only TXT counts
    assert not [job for job in jobs.jobs if job[0].startswith("reseller.dns.tasks")]
    jobs.run_all()
    assert name not in served(app)

    # Editing a pending zone stores records but publishes nothing.
    api.patch(f"/api/v1/domains/{name}/dns", json={"add": [
        {"name": "www", "type": "A", "value": "192.0.2.8"}]})
    jobs.run_all()
    assert name not in served(app)

    # Nothing that serves or signs works before the proof.
    key = api.post(f"/api/v1/domains/{name}/dns/acme-keys")
    assert key.status_code == 409 and key.get_json()["code"] == "zone_pending"
    forward = api.put(f"/api/v1/domains/{name}/forwarding",
                      json={"host": "@", "target": "https://example.net/"})
    assert forward.status_code == 409 and forward.get_json()["code"] == "zone_pending"
    token = factory.token(reseller, scopes=["dns:write"])
    present = client.post("/acme/httpreq/present", headers=basic(token),
                          json={"fqdn": f"_acme-challenge.{name}.", "value": "v"})
    assert present.status_code == 409 and present.get_json()["code"] == "zone_pending"
    assert db.session.query(AcmeKey).count() == 0


def test_another_resellers_pending_claim_neither_blocks_nor_shows_to_the_holder(factory, jobs,
                                                                                app):
    squatter, holder = factory.reseller(), factory.reseller()
    name = fresh()
    claim = factory.api(squatter).put(f"/api/v1/domains/{name}/dns", json={"records": []})
    assert claim.get_json()["status"] == "pending"
    factory.domain(holder, name)
    api = factory.api(holder)
    hosted = api.put(f"/api/v1/domains/{name}/dns", json={"template": "default"})
    assert hosted.status_code == 201 and hosted.get_json()["status"] == "active"
    jobs.run_all()
    assert name in served(app)
    verify = factory.api(squatter).post(f"/api/v1/domains/{name}/dns/verify")
    assert verify.status_code == 403 and verify.get_json()["code"] == "zone_held_elsewhere"


def test_a_domain_that_leaves_takes_its_zone_forwards_and_acme_keys(a_and_b, jobs, app,
                                                                    client):
    (a, api_a), _b, name = a_and_b
    api_a.put(f"/api/v1/domains/{name}/dns", json={"template": "default"})
    api_a.put(f"/api/v1/domains/{name}/forwarding",
              json={"host": "www", "target": "https://shop.example.net/"})
    key = api_a.post(f"/api/v1/domains/{name}/dns/acme-keys").get_json()
    jobs.run_all()
    publisher = app.extensions["tunnus.dns_publisher"]
    assert name in served(app) and key["key_name"] in publisher.keys
    assert client.get("/", headers={"Host": f"www.{name}"}).status_code == 301

    with unit_of_work():
        domains.mark_transferred_out(domains.get_domain(reseller_id=a.id, name=name))
    body = api_a.get(f"/api/v1/domains/{name}/dns").get_json()
    assert body["status"] == "pending" and body["unpublished_reason"] == "domain_left"
    assert client.get("/", headers={"Host": f"www.{name}"}).status_code != 301
    assert db.session.query(AcmeKey).count() == 0
    jobs.run_all()
    assert name not in served(app) and key["key_name"] not in publisher.keys
    again = api_a.post(f"/api/v1/domains/{name}/dns/acme-keys")
    assert again.status_code == 409


def test_a_transfer_merely_requested_leaves_the_zone_alone(a_and_b, jobs, app):
    from reseller.core.events import record_event

    (a, api_a), _b, name = a_and_b
    api_a.put(f"/api/v1/domains/{name}/dns", json={"template": "default"})
    with unit_of_work():
        record_event(reseller_id=a.id, type="domain.transferred_out",
                     data={"domain": name, "status": "pending"})
    assert api_a.get(f"/api/v1/domains/{name}/dns").get_json()["status"] == "active"


def test_whmcs_savedns_obeys_the_same_rules(a_and_b, factory, jobs, app):
    (_a, api_a), (_b, api_b), name = a_and_b
    sld, tld = name.split(".", 1)
    records = {"dnsrecords": [{"hostname": "@", "type": "A", "address": "203.0.113.9"}]}
    refused = api_b.post("/whmcs/v1/SaveDNS", json={"sld": sld, "tld": tld, **records})
    assert "error" in refused.get_json() and refused.status_code == 404
    assert db.session.query(Zone).filter_by(name=name).count() == 0
    assert jobs.jobs == []
    saved = api_a.post("/whmcs/v1/SaveDNS", json={"sld": sld, "tld": tld, **records})
    assert saved.get_json() == {"success": True}
    jobs.run_all()
    assert ("@", "A", 3600, "203.0.113.9") in served(app)[name]


def test_client_area_refuses_and_verifies_by_the_same_rules(client, factory, jobs):
    holder, stranger = factory.user(), factory.user(role="technical")
    name = fresh()
    factory.domain(holder.reseller, name)
    login(client, stranger)
    refused = client.post("/dns", data={"name": name})
    assert refused.status_code == 422
    assert "another account" in refused.get_data(as_text=True)
    assert client.post("/dns", data={"name": "co.uk"}).status_code == 422
    external = fresh("ext", "org")
    assert client.post("/dns", data={"name": external}).status_code == 302
    page = client.get(f"/dns/{external}").get_data(as_text=True)
    assert f"_dns-hosting-challenge.{external}" in page and "dns-hosting-verification=" in page
    assert 'value="verify"' in page
    assert jobs.jobs == []


def _migration():
    path = next(Path("reseller/migrations/versions").glob("*_zone_ownership.py"))
    spec = importlib.util.spec_from_file_location("zone_ownership_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _legacy_zone(reseller, name: str) -> Zone:
    """A zone as it was before the rules: active, published, no proof recorded."""
    zone = Zone(reseller_id=reseller.id, name=name, status="active", serial=1,
                on_server=True, published_serial=1)
    db.session.add(zone)
    db.session.flush()
    return zone


def test_migration_lets_the_holder_win_and_reports_the_rest(factory, jobs, app, client):
    a, b, c = factory.reseller(), factory.reseller(), factory.reseller()
    held, outer, external = fresh(), fresh("outer", "org"), fresh("ext", "org")
    factory.domain(a, held)
    with unit_of_work():
        taken = _legacy_zone(b, held)          # B took A's domain (the bug)
        suffix = _legacy_zone(b, "co.uk")
        _legacy_zone(c, outer)                 # C hosts an external name …
        inside = _legacy_zone(b, f"shop.{outer}")  # … and B a zone inside it
        kept = _legacy_zone(c, external)
        db.session.add(AcmeKey(reseller_id=b.id, zone_id=taken.id, key_name=f"acme-{taken.id}",
                               secret="c2VjcmV0"))
        for zone in (taken, suffix, inside, kept):
            app.extensions["tunnus.dns_publisher"].ensure_zone(
                zone.name, "@ 3600 IN SOA ns1.x. h.x. 1 2 3 4 5\n@ 3600 IN NS ns1.x.\n")
        _migration().resolve_existing_zones(db.session.connection())
    db.session.expire_all()
    status = {z.name: (z.status, z.unpublished_reason, z.proof)
              for z in db.session.query(Zone).filter(Zone.reseller_id.in_([b.id, c.id]))}
    assert status[held] == ("pending", "zone_held_elsewhere", None)
    assert status["co.uk"] == ("pending", "public_suffix", None)
    # External names never proven wait for proof like any new one (no zone is served on
    # a reseller's word alone).
    assert status[f"shop.{outer}"] == status[outer] == status[external] \
        == ("pending", "zone_unverified", None)

    # The holder can now host its domain; the periodic repair takes the rest off the server.
    hosted = factory.api(a).put(f"/api/v1/domains/{held}/dns", json={"template": "default"})
    assert hosted.status_code == 201 and hosted.get_json()["status"] == "active"
    with unit_of_work():
        tasks.repair_drift()
    jobs.run_all()
    assert "co.uk" not in served(app) and f"shop.{outer}" not in served(app)
    assert db.session.query(AcmeKey).filter_by(zone_id=taken.id).count() == 0
    assert not db.session.get(Zone, kept.id).active and external not in served(app)

    login(client, factory.operator(), "operator password")
    page = client.get("/console/dns").get_data(as_text=True)
    for name in (held, "co.uk", f"shop.{outer}", outer, external):
        assert name in page
    assert "zone_held_elsewhere" in page and "zone_unverified" in page


def test_console_report_is_for_operators_only(client, factory):
    login(client, factory.user())
    assert client.get("/console/dns").status_code in (302, 403, 404)


def test_a_zone_that_loses_the_race_for_its_name_is_refused_and_the_transaction_goes_on(
        factory, monkeypatch):
    """A new zone goes live in one INSERT … ON CONFLICT DO NOTHING (no savepoint): when
    another account's zone of the name went active after the eviction looked (a race,
    forced here by skipping the eviction), the insert does nothing and the creation is a
    refusal, while the rest of the transaction stays usable."""
    from reseller.dns import ownership
    from reseller.dns import services as dns
    from reseller.dns.errors import ZoneHeldElsewhere
    from reseller.dns.settings import dns_settings

    a, b = factory.reseller(), factory.reseller()
    name = fresh()
    with unit_of_work():
        db.session.add(Zone(reseller_id=a.id, name=name, status="active", proof="txt"))
    factory.domain(b, name)
    monkeypatch.setattr(ownership, "evict", lambda **_kwargs: [])
    with unit_of_work():
        with pytest.raises(ZoneHeldElsewhere):
            dns.create_zone(reseller_id=b.id, name=name, settings=dns_settings())
        assert db.session.query(Zone).filter_by(name=name).count() == 1  # still usable
    [zone] = db.session.query(Zone).filter_by(name=name).all()
    assert (zone.reseller_id, zone.status) == (a.id, "active")


@pytest.mark.postgres_only  # SQLite's driver inserts the records one statement each
def test_a_zone_hosted_for_a_held_name_is_stored_with_its_records_in_two_inserts(factory):

    from reseller.dns import services as dns
    from reseller.dns.settings import dns_settings

    reseller = factory.reseller()
    name = fresh()
    factory.domain(reseller, name)
    with counting.statements() as statements, unit_of_work():
        zone = dns.create_zone(reseller_id=reseller.id, name=name, settings=dns_settings())
        records = {(r.name, r.type) for r in zone.records}
    assert records == {("@", "TXT"), ("_dmarc", "TXT"), ("@", "CAA")}
    assert len([s for s in statements if s.startswith("INSERT INTO DNS_ZONES")]) == 1
    assert len([s for s in statements if s.startswith("INSERT INTO DNS_RECORDS")]) == 1
    assert not [s for s in statements if s.startswith("SELECT DNS_RECORDS")]  # none read back
    assert len([s for s in statements if s.startswith("INSERT INTO EVENTS")]) == 1  # both
    stored = db.session.query(Zone).filter_by(name=name).one()
    assert stored.status == "active" and len(stored.records) == 3


def test_zones_at_or_inside_a_name_are_found_by_label_not_by_suffix_and_by_index(factory):
    """``ownership.at_or_inside``: the zone itself and zones under it, never a name that
    merely ends in the same letters (``x-owned.fi``); on PostgreSQL read from the index of
    reversed names, not by scanning every zone (issue 31)."""
    import sqlalchemy as sa

    from reseller.dns import ownership

    reseller = factory.reseller()
    base = fresh("rev")
    for name in (base, f"a.{base}", f"b.a.{base}", f"x-{base}", f"{base}.evil.fi",
                 f"x{base}"):
        _legacy_zone(reseller, name)
    found = set(db.session.scalars(sa.select(Zone.name).where(ownership.at_or_inside(base))))
    assert found == {base, f"a.{base}", f"b.a.{base}"}
    assert set(db.session.scalars(sa.select(Zone.name).where(
        ownership.at_or_inside(f"a.{base}")))) == {f"a.{base}", f"b.a.{base}"}
    if db.engine.dialect.name != "postgresql":
        return
    db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    query = sa.select(Zone.id).where(ownership.at_or_inside(base))
    plan = "\n".join(db.session.scalars(sa.text("EXPLAIN " + str(query.compile(
        dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})))))
    assert "ix_dns_zones_name_reversed" in plan, plan


def test_the_prebuilt_at_or_inside_reads_what_the_built_one_reads(factory, app):
    """The statements every registration runs (built once, with bound parameters) match
    the same zones as ``at_or_inside`` built for the call: the name, names inside it, and
    nothing that merely ends alike (``x-name``) or uses LIKE's wildcards in a label."""
    import sqlalchemy as sa

    from reseller.core.db import is_sqlite
    from reseller.dns import ownership

    reseller = factory.reseller()
    base = fresh("pre")
    names = [base, f"a.{base}", f"b.a.{base}", f"x-{base}", f"x_{base}",
             base.replace("-", "_"), f"{base}.other", f"_dmarc.{base}"]
    with unit_of_work():
        for name in names:
            db.session.add(Zone(reseller_id=reseller.id, name=name, status="pending",
                                serial=1, verification_token="t"))
    for name in (base, f"a.{base}", base.replace("-", "_")):
        built = set(db.session.scalars(sa.select(Zone.name).where(
            Zone.reseller_id == reseller.id, ownership.at_or_inside(name))))
        bound = {zone.name for zone in db.session.scalars(
            ownership._arrived_statement(is_sqlite()),
            {"reseller_id": reseller.id, **ownership._inside(name)})}
        assert bound == built
        assert name in bound and not any(n.startswith("x") for n in bound)
    assert built == {base.replace("-", "_")}  # "_" is no wildcard


# -- the zones of a batch of new domains, together (``create_zones``) -------------------------

def test_the_zones_of_a_batch_of_new_domains_are_made_together_as_one_by_one(factory, jobs):
    """The dispatch job's batch of registrations: their zones are what ``create_zone``
    makes for each (live, the default records, both events, a publish job each), in a few
    statements for them all; another account's zone of one name comes off, and a zone
    the reseller already has is left as it is."""
    import sqlalchemy as sa

    from reseller.core.events import Event
    from reseller.dns import ownership
    from reseller.dns import services as dns
    from reseller.dns.settings import dns_settings

    a, b = factory.reseller(), factory.reseller()
    names = [fresh("batch") for _ in range(5)]
    for name in names:
        factory.domain(a, name)
    with unit_of_work():  # B hosted names[1] before A registered it; A made names[2] itself
        db.session.add(Zone(reseller_id=b.id, name=names[1], status="active", proof="txt"))
        kept = Zone(reseller_id=a.id, name=names[2], status="active", proof="domain", serial=7)
        db.session.add(kept)
    jobs.jobs.clear()
    a_id = a.id
    with counting.statements() as statements, unit_of_work():
        zones = dns.create_zones([(a_id, name) for name in names], settings=dns_settings())
    assert [zone.name for zone in zones] == names
    assert zones[2].id == kept.id and zones[2].serial == 7  # left as it was
    for zone in zones[:2] + zones[3:]:
        assert (zone.reseller_id, zone.status, zone.proof) == (a.id, "active", "domain")
        assert {(r.name, r.type) for r in zone.records} == \
            {("@", "TXT"), ("_dmarc", "TXT"), ("@", "CAA")}
    evicted = db.session.query(Zone).filter_by(name=names[1], reseller_id=b.id).one()
    assert (evicted.status, evicted.unpublished_reason) == ("pending", ownership.HELD_ELSEWHERE)
    made = [zones[i].name for i in (0, 1, 3, 4)]
    recorded = db.session.execute(sa.select(Event.type, Event.data).where(
        Event.type.in_(("dns.zone_created", "dns.zone_verified")),
        Event.reseller_id == a.id)).all()
    assert sorted((t, d["zone"]) for t, d in recorded) == sorted(
        [("dns.zone_created", n) for n in made] + [("dns.zone_verified", n) for n in made])
    assert sorted(args[0] for path, args in jobs.jobs
                  if path == "reseller.dns.tasks.publish_zone") == \
        sorted(zones[i].id for i in (0, 1, 3, 4))
    if db.engine.dialect.name == "postgresql":  # SQLite's driver inserts rows one by one
        assert len([s for s in statements if s.startswith("INSERT INTO DNS_ZONES")]) == 1
        assert len([s for s in statements if s.startswith("INSERT INTO DNS_RECORDS")]) == 1
        writes = ("INSERT INTO DNS_ZONES", "INSERT INTO DNS_RECORDS", "INSERT INTO EVENTS")
        # four zones: reads and writes for them all, plus the eviction's own (one zone)
        evicting = [s for s in statements if not s.startswith(("SELECT", *writes))]
        assert len([s for s in statements if s.startswith(writes)]) <= 4
        assert len([s for s in statements if s.startswith("SELECT")]) <= 5, \
            "\n".join(s[:150] for s in statements)
        assert len(evicting) <= 4, evicting
    # the accounts' own zones of the names are read by account and name (the unique index),
    # not by name alone (a scan of every account's zones)
    own = [s for s in statements if s.startswith("SELECT") and "DNS_ZONES.NAME IN" in s]
    assert own and all("DNS_ZONES.RESELLER_ID IN" in s for s in own), own


def test_the_default_records_validated_once_are_those_of_any_zone(app):
    from reseller.dns import services as dns
    from reseller.dns.records import validate_records

    with app.app_context():
        for name in ("esimerkki.fi", "a.b.example.co.uk", "xn--kkj-qoa.fi"):
            assert list(dns.default_records()) == validate_records(dns.DEFAULT_TEMPLATE, name)


def test_names_at_or_inside_one_another_are_made_one_after_the_other(factory, jobs):
    from reseller.dns import ownership
    from reseller.dns import services as dns
    from reseller.dns.settings import dns_settings

    reseller = factory.reseller()
    name = fresh("nest")
    factory.domain(reseller, name)
    assert ownership.overlapping([f"www.{name}", name])
    assert ownership.overlapping([name, name])
    assert not ownership.overlapping([name, fresh("nest")])
    with unit_of_work():
        outer, inner = dns.create_zones([(reseller.id, name), (reseller.id, f"www.{name}")],
                                        settings=dns_settings())
    assert (outer.name, outer.status, outer.proof) == (name, "active", "domain")
    assert (inner.name, inner.status) == (f"www.{name}", "active")


def test_a_refusal_of_one_zone_in_a_batch_stores_none_of_them(factory, jobs):
    from reseller.dns import services as dns
    from reseller.dns.errors import ZoneHeldElsewhere
    from reseller.dns.settings import dns_settings

    a, b = factory.reseller(), factory.reseller()
    own, theirs = fresh("mine"), fresh("theirs")
    factory.domain(a, own)
    factory.domain(b, theirs)
    jobs.jobs.clear()
    with pytest.raises(ZoneHeldElsewhere), unit_of_work():
        dns.create_zones([(a.id, own), (a.id, theirs)], settings=dns_settings())
    assert db.session.query(Zone).filter(Zone.name.in_([own, theirs])).count() == 0
    assert jobs.jobs == []
