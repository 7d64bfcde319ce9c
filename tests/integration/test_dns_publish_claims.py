"""Jobs that talk to the DNS server hold no transaction open across the call (a claim on
the zone orders them instead); a claimed zone is published later, and a publish cut short
after the server call converges on the next run (issue 31, point 3)."""

from __future__ import annotations

import base64
import itertools
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from reseller.core import jobs as job_runner
from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.dns import claims, ownership, tasks
from reseller.dns.models import Zone, ZoneChange
from reseller.dns.publishers import SandboxPublisher
from reseller.dns.records import RR

_seq = itertools.count(1)
PUBLISH = "reseller.dns.tasks.publish_zone"
CALLS = ("ensure_zone", "remove_zone", "update", "serial", "transfer", "install_key",
         "remove_key")


class Spy(SandboxPublisher):
    """The sandbox publisher, noting for every call whether a transaction was open (and
    running ``during`` first, or failing right after the call, when a test asks)."""

    def __init__(self, served: SandboxPublisher) -> None:
        self.__dict__.update(served.__dict__)  # the zones already served stay served
        self.calls: list[tuple[str, bool]] = []
        self.windows: list[tuple[int, float, float]] = []  # thread, start, end of each call
        self.during: dict = {}
        self.fail_after: str | None = None

    def __getattribute__(self, name: str):
        found = super().__getattribute__(name)
        if name not in CALLS:
            return found

        def call(*args, **kwargs):
            self.calls.append((name, db.session().in_transaction()))
            if name in self.during:
                self.during.pop(name)()
            start = time.monotonic()
            result = found(*args, **kwargs)
            self.windows.append((threading.get_ident(), start, time.monotonic()))
            if self.fail_after == name:
                self.fail_after = None
                raise RuntimeError(f"worker died after {name}")
            return result

        return call


@pytest.fixture
def spy(app, monkeypatch):
    spy = Spy(app.extensions["tunnus.dns_publisher"])
    monkeypatch.setitem(app.extensions, "tunnus.dns_publisher", spy)
    return spy


def hosted(factory, jobs):
    reseller = factory.reseller()
    name = f"c{next(_seq)}-claims.example"
    factory.domain(reseller, name)
    api = factory.api(reseller)
    assert api.put(f"/api/v1/domains/{name}/dns", json={"template": "default"}).status_code == 201
    return api, name, db.session.scalar(sa.select(Zone.id).where(Zone.name == name))


def run_queued(jobs) -> list[str]:
    """Run what is queued, each job once, through ``reseller.core.jobs.run``."""
    ran, queued = [], list(jobs.jobs)
    jobs.jobs.clear()
    for path, args in queued:
        job_runner.run(path, *args)
        ran.append(path)
    return ran


def add_www(api, name: str, address: str = "192.0.2.7") -> None:
    response = api.patch(f"/api/v1/domains/{name}/dns", json={
        "add": [{"name": "www", "type": "A", "ttl": 300, "value": address}]})
    assert response.status_code == 200, response.get_json()


def unpublished(zone_id: int) -> list[int]:
    return list(db.session.scalars(sa.select(ZoneChange.id).where(
        ZoneChange.zone_id == zone_id, ZoneChange.published_at.is_(None))))


def test_publish_keys_sync_and_unpublish_call_the_server_outside_any_transaction(
        factory, jobs, spy):
    api, name, zone_id = hosted(factory, jobs)
    run_queued(jobs)                                     # created on the server
    key = api.post(f"/api/v1/domains/{name}/dns/keys", json={"scope": "acme"}).get_json()
    add_www(api, name)
    run_queued(jobs)                                     # key installed, change replayed
    assert spy.keys[key["name"]] == name
    # Drift on the server: the sync reads it back and repairs it.
    with spy._lock:
        spy.zones[name].add(RR("stray", "A", 300, "192.0.2.66"))
    assert job_runner.run("reseller.dns.tasks.sync_zone", zone_id) == "repaired"
    assert RR("stray", "A", 300, "192.0.2.66") not in spy.zones[name]
    assert api.delete(f"/api/v1/domains/{name}/dns/keys/{key['id']}").status_code == 204
    run_queued(jobs)                                     # key removed
    with unit_of_work():
        ownership.unpublish(db.session.get(Zone, zone_id), reason=ownership.DOMAIN_LEFT)
    run_queued(jobs)                                     # taken off, with its keys
    assert name not in spy.zones
    called = {method for method, _ in spy.calls}
    assert called >= {"ensure_zone", "update", "serial", "transfer", "install_key",
                      "remove_key", "remove_zone"}
    assert [call for call in spy.calls if call[1]] == []
    zone = db.session.get(Zone, zone_id, populate_existing=True)
    assert zone.publish_claim is None and zone.on_server is False


def test_a_zone_another_job_holds_is_published_once_it_is_free(factory, jobs, spy):
    api, name, zone_id = hosted(factory, jobs)
    run_queued(jobs)
    add_www(api, name)
    with unit_of_work():
        assert claims.take(zone_id) is not None          # another worker is publishing
    spy.calls.clear()
    assert run_queued(jobs) == [PUBLISH]
    assert spy.calls == [] and unpublished(zone_id)      # nothing sent, nothing lost
    assert jobs.jobs == [(PUBLISH, (zone_id,))]          # it runs again shortly
    assert run_queued(jobs) == [PUBLISH] and jobs.jobs == [(PUBLISH, (zone_id,))]
    with unit_of_work():                                 # the other worker's lease ran out
        db.session.execute(sa.update(Zone).where(Zone.id == zone_id).values(
            publishing_until=clock.now() - timedelta(seconds=1)))
    run_queued(jobs)
    assert unpublished(zone_id) == [] and jobs.jobs == []
    assert ("www", "A", 300, "192.0.2.7") in spy.zones[name]
    assert db.session.get(Zone, zone_id, populate_existing=True).publish_claim is None


def test_a_second_publish_while_the_first_talks_to_the_server_sends_nothing(
        factory, jobs, spy, app):
    api, name, zone_id = hosted(factory, jobs)
    run_queued(jobs)
    add_www(api, name)
    jobs.jobs.clear()

    def second_worker():
        with app.app_context():                          # its own session
            job_runner.run(PUBLISH, zone_id)

    spy.during["update"] = second_worker
    spy.calls.clear()
    job_runner.run(PUBLISH, zone_id)
    assert [method for method, _ in spy.calls].count("update") == 1
    assert jobs.jobs == [(PUBLISH, (zone_id,))]          # the second runs again later
    run_queued(jobs)
    assert [method for method, _ in spy.calls].count("update") == 1  # nothing left to send
    assert unpublished(zone_id) == []


def test_a_publish_cut_short_after_the_server_call_converges_on_the_next_run(
        factory, jobs, spy):
    api, name, zone_id = hosted(factory, jobs)
    run_queued(jobs)
    add_www(api, name)
    jobs.jobs.clear()
    spy.fail_after = "update"
    with pytest.raises(RuntimeError):
        job_runner.run(PUBLISH, zone_id)
    assert ("www", "A", 300, "192.0.2.7") in spy.zones[name]  # the server has it …
    assert unpublished(zone_id)                               # … the database not yet
    job_runner.run(PUBLISH, zone_id)                          # the job's retry
    zone = db.session.get(Zone, zone_id, populate_existing=True)
    assert unpublished(zone_id) == [] and zone.publish_claim is None
    assert zone.published_serial == spy.serial(name) and zone.serial >= zone.published_serial
    assert ("www", "A", 300, "192.0.2.7") in spy.zones[name]


def test_a_worker_killed_mid_publish_leaves_a_lease_the_sweep_takes_over(
        factory, jobs, spy, monkeypatch):
    api, name, zone_id = hosted(factory, jobs)
    run_queued(jobs)
    add_www(api, name, "192.0.2.8")
    jobs.jobs.clear()
    spy.fail_after = "update"
    monkeypatch.setattr(claims, "release_now", lambda *args: None)  # killed: no clean-up
    with pytest.raises(RuntimeError):
        job_runner.run(PUBLISH, zone_id)
    monkeypatch.undo()
    assert db.session.get(Zone, zone_id, populate_existing=True).publish_claim is not None
    job_runner.run(PUBLISH, zone_id)                          # held: queued again
    assert unpublished(zone_id) and jobs.jobs == [(PUBLISH, (zone_id,))]
    jobs.jobs.clear()                                         # … and that job lost too
    with unit_of_work():
        tasks.republish(clock.now() + timedelta(minutes=1))  # lease still running
    assert jobs.jobs == []
    with unit_of_work():
        db.session.execute(sa.update(Zone).where(Zone.id == zone_id).values(
            publishing_until=clock.now() - timedelta(seconds=1)))
        tasks.republish(clock.now() + timedelta(minutes=1))
    assert jobs.jobs == [(PUBLISH, (zone_id,))]
    run_queued(jobs)
    assert unpublished(zone_id) == []
    assert ("www", "A", 300, "192.0.2.8") in spy.zones[name]
    assert [call for call in spy.calls if call[1]] == []


def test_requests_ask_the_server_and_the_resolver_outside_the_transaction(
        factory, jobs, spy, client, app, monkeypatch):
    from reseller.dns import vanity, verification
    from tests.functional.test_client_area import login

    user = factory.user(role="technical")
    name = f"c{next(_seq)}-claims.example"
    factory.domain(user.reseller, name)
    api = factory.api(user.reseller)
    assert api.put(f"/api/v1/domains/{name}/dns", json={"template": "default"}).status_code == 201
    run_queued(jobs)
    spy.calls.clear()
    looked_up = []

    def txt(self, owner):
        looked_up.append(("txt", db.session().in_transaction()))
        return []

    def resolver_for(settings):
        def resolve(host, rtype):
            looked_up.append((rtype, db.session().in_transaction()))
            return list(settings.nameserver_addresses[:1]) if rtype == "A" else []
        return resolve

    monkeypatch.setattr(verification.DnsLookup, "txt", txt)
    monkeypatch.setattr(vanity, "resolver_for", resolver_for)
    body = api.get(f"/api/v1/domains/{name}/dns").get_json()
    assert body["server_serial"] == body["published_serial"] == spy.serial(name)
    add_www(api, name)
    token = factory.token(user.reseller, scopes=["dns:write"])
    lego = {"Authorization": "Basic " + base64.b64encode(f"lego:{token}".encode()).decode()}
    assert client.post("/acme/httpreq/present", headers=lego, json={
        "fqdn": f"_acme-challenge.{name}.", "value": "token-1"}).status_code == 200
    login(client, user)
    assert client.get(f"/dns/{name}").status_code == 200
    external = f"x{next(_seq)}-external.org"
    assert api.put(f"/api/v1/domains/{external}/dns", json={"template": "default"}
                   ).get_json()["status"] == "pending"
    assert api.post(f"/api/v1/domains/{external}/dns/verify").get_json()["status"] == "pending"
    assert client.post(f"/dns/{external}", data={"action": "verify"}).status_code == 302
    job_runner.run("reseller.dns.tasks.verify_pending_zones")
    assert api.put("/api/v1/nameservers", json={"hostnames": [f"ns1.{name}", f"ns2.{name}"]}
                   ).status_code == 200
    assert api.post("/api/v1/nameservers/verify").get_json()["verified"] is True
    assert [method for method, _ in spy.calls].count("serial") >= 3
    assert [kind for kind, _ in looked_up].count("txt") == 3
    assert {"A", "AAAA"} <= {kind for kind, _ in looked_up}
    assert [call for call in spy.calls + looked_up if call[1]] == []


def test_a_publish_stops_before_its_lease_runs_out_and_queues_the_rest(
        factory, jobs, spy, monkeypatch):
    api, name, zone_id = hosted(factory, jobs)
    run_queued(jobs)
    add_www(api, name)
    jobs.jobs.clear()
    monkeypatch.setattr(claims, "LEASE", timedelta(0))    # the lease is already spent
    job_runner.run(PUBLISH, zone_id)
    assert unpublished(zone_id) and jobs.jobs == [(PUBLISH, (zone_id,))]
    assert db.session.get(Zone, zone_id, populate_existing=True).publish_claim is None
    monkeypatch.undo()
    run_queued(jobs)
    assert unpublished(zone_id) == [] and jobs.jobs == []
    assert ("www", "A", 300, "192.0.2.7") in spy.zones[name]


@pytest.mark.postgres_only
def test_concurrent_publishers_of_one_zone_never_talk_to_the_server_at_once(app, committed_db):
    """Four workers publish one zone at the same moment, each with its own connection and
    real commits: one sends the change; the others find the zone claimed (or find nothing
    left once it is free), and no two talk to the server at the same time."""
    from tests.support.factories import Factory

    spy = Spy(app.extensions["tunnus.dns_publisher"])
    app.extensions["tunnus.dns_publisher"], original = spy, app.extensions["tunnus.dns_publisher"]
    update = SandboxPublisher.update

    def slow_update(self, *args):
        time.sleep(0.2)  # a slow server: the others arrive meanwhile
        return update(self, *args)

    try:
        factory = Factory(app)
        reseller = factory.reseller()
        name = f"c{next(_seq)}-claims.example"
        factory.domain(reseller, name)
        api = factory.api(reseller)
        assert api.put(f"/api/v1/domains/{name}/dns", json={"template": "default"}
                       ).status_code == 201
        jobs = app.extensions["tunnus.jobs"]
        jobs.run_all()
        add_www(api, name)
        jobs.jobs.clear()
        zone_id = db.session.scalar(sa.select(Zone.id).where(Zone.name == name))
        db.session.remove()
        spy.calls.clear()
        spy.windows.clear()
        barrier = threading.Barrier(4)

        def worker() -> None:
            with app.app_context():
                barrier.wait()
                job_runner.run(PUBLISH, zone_id)

        SandboxPublisher.update = slow_update
        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        SandboxPublisher.update = update
        app.extensions["tunnus.dns_publisher"] = original
        app.extensions["tunnus.jobs"].jobs.clear()
    assert [method for method, _ in spy.calls].count("update") == 1  # sent once
    for (one, start, end), (other, start2, end2) in itertools.combinations(spy.windows, 2):
        assert one == other or end <= start2 or end2 <= start  # never two at once
    assert [call for call in spy.calls if call[1]] == []
    with app.app_context():
        assert unpublished(zone_id) == []
        assert db.session.get(Zone, zone_id).publish_claim is None


def test_a_change_goes_out_above_a_serial_a_zone_key_reached_and_notes_it(factory, jobs, spy):
    from reseller.dns import sync

    api, name, zone_id = hosted(factory, jobs)
    run_queued(jobs)
    zone = db.session.get(Zone, zone_id)
    ahead = zone.serial + 50  # a zone key wrote meanwhile; nobody has read it back yet
    spy.update(name, [], [], sync.soa(zone, ahead))
    add_www(api, name)
    planned = db.session.scalar(sa.select(ZoneChange.serial).where(
        ZoneChange.zone_id == zone_id).order_by(ZoneChange.id.desc()))
    assert planned < ahead
    run_queued(jobs)
    change = db.session.scalar(sa.select(ZoneChange).where(ZoneChange.zone_id == zone_id)
                               .order_by(ZoneChange.id.desc())
                               .execution_options(populate_existing=True))
    zone = db.session.get(Zone, zone_id, populate_existing=True)
    assert change.serial == ahead + 1 == spy.serial(name)
    assert zone.serial == zone.published_serial == ahead + 1


# -- a batch of zones (a batch of registrations hosted them): one claim, one record ----------

def test_zones_published_together_are_claimed_read_and_recorded_once(factory, jobs, spy,
                                                                     app):
    zones = [hosted(factory, jobs) for _ in range(3)]
    jobs.jobs.clear()
    statements: list[str] = []

    def note(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", note)
    try:
        tasks.publish_zones([(zone_id,) for _, _, zone_id in zones])
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", note)
    db.session.expire_all()
    for _, name, zone_id in zones:
        zone = db.session.get(Zone, zone_id)
        assert zone.on_server and zone.publish_claim is None and zone.published_serial
        assert name in spy.zones
    assert [c for c in spy.calls if c[1]] == []  # no transaction open at any server call
    claims_taken = [s for s in statements if s.startswith("UPDATE dns_zones SET publish_claim")]
    locked = [s for s in statements if s.startswith("SELECT dns_zones") and "FOR UPDATE" in s
              or s.startswith("SELECT dns_zones") and "IN (" in s]
    assert len(claims_taken) == 1 and len(locked) >= 1
    assert sum(s.startswith("SELECT dns_records") for s in statements) == 1


def test_a_zone_the_server_fails_lets_the_unsent_go_and_keeps_the_sent(factory, jobs, spy):
    zones = [hosted(factory, jobs) for _ in range(3)]
    jobs.jobs.clear()
    # the first zone goes through (its last call reads the serial); the second's creation
    # then fails after reaching the server
    spy.during["serial"] = lambda: setattr(spy, "fail_after", "ensure_zone")
    first, second, third = (zone_id for _, _, zone_id in zones)
    with pytest.raises(RuntimeError):
        tasks.publish_zones([(first,), (second,), (third,)])
    db.session.expire_all()
    claimed = {zone_id: db.session.get(Zone, zone_id).publish_claim
               for zone_id in (first, second, third)}
    assert claimed == {first: None, second: None, third: None}  # let go: retries need not wait
    assert [db.session.get(Zone, zone_id).on_server for zone_id in (first, second, third)] \
        == [True, False, False]  # the one sent is recorded
    assert [name for name, _ in spy.calls].count("ensure_zone") == 2  # the third never sent
    # the retry publishes them all
    tasks.publish_zones([(first,), (second,), (third,)])
    db.session.expire_all()
    assert all(db.session.get(Zone, zone_id).on_server for zone_id in (first, second, third))
