"""Requests that change a domain at the registry ask it with no database transaction open
(issue 31, point 3): the change is journaled first (``Domain.pending_change`` with a lease,
committed), the registry asked with none open, the answer recorded after. A crash mid-call
leaves the change leased, sent again by nobody until the lease ends; a second writer
meanwhile gets 409/412 and sends nothing; a refusal after the first commit leaves the
record as it was and the Idempotency-Key free for a retry. Contact updates ask with none
open and converge on our record when edits overlap."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.events import Event
from reseller.core.extensions import db
from reseller.core.jobs import run
from reseller.domains import orders, pending
from reseller.domains.models import Domain
from reseller.registry.sandbox import SimulatedCrash
from reseller.registry.sandbox_models import SandboxContact, SandboxDomain, SandboxTransaction
from tests.support.domains import CONTACT, fund, install_catalogue, make_contact, sandbox
from tests.support.outside_calls import spy_on_registry

DS = {"key_tag": 12345, "algorithm": 13, "digest_type": 2, "digest": "AB" * 32}
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _clean_faults(app):
    yield
    app.extensions["tunnus.registry"].clear_faults()


@pytest.fixture
def owner(factory, jobs):
    """(reseller, its API client, the domain komento.fi registered for it)."""
    install_catalogue()
    reseller = factory.reseller()
    fund(reseller, "100.00")
    contact = make_contact(reseller)
    with unit_of_work():
        orders.order_register(reseller_id=reseller.id, name="komento.fi", period=1,
                              contacts={"registrant": contact.id}, idempotency_key="komento")
    jobs.run_all()
    jobs.jobs.clear()
    api = factory.api(reseller)
    # The token's last use is written once a minute, by the first request that commits.
    assert api.post("/api/v1/contacts", json=CONTACT).status_code == 201
    return reseller, api, db.session.scalar(sa.select(Domain).where(Domain.name == "komento.fi"))


def fresh(domain_id: int) -> Domain:
    db.session.expire_all()
    return db.session.get(Domain, domain_id)


def every_command(api, contact_id):
    """Each management command once through the API, with its expected status."""
    base = "/api/v1/domains/komento.fi"
    answers = [
        ("check", api.get("/api/v1/domains/check?names=uusi-nimi.fi,komento.fi"), 200),
        ("nameservers", api.put(f"{base}/nameservers", json={
            "nameservers": ["ns1.komento.example", "ns2.komento.example"]}), 200),
        ("dnssec", api.put(f"{base}/dnssec", json={"ds": [DS]}), 200),
        ("host_set", api.put(f"{base}/hosts/ns1.komento.fi",
                             json={"addresses": ["192.0.2.53"]}), 200),
        ("host_delete", api.delete(f"{base}/hosts/ns1.komento.fi"), 204),
        ("contacts", api.put(f"{base}/contacts", json={"admin": contact_id,
                                                       "tech": contact_id}), 200),
        ("lock", api.put(f"{base}/lock", json={"locked": True}), 200),
        ("unlock", api.put(f"{base}/lock", json={"locked": False}), 200),
        ("auth_code", api.post(f"{base}/auth-code"), 200),
    ]
    sandbox().simulate_transfer_out(name="komento.fi",
                                    auth_code=answers[-1][1].json["auth_code"])
    answers.append(("transfer_out", api.post(f"{base}/transfer-out",
                                             json={"approve": False}), 200))
    answers.append(("delete", api.delete(base), 200))
    for what, answer, status in answers:
        assert answer.status_code == status, (what, answer.json)
    return answers


@pytest.mark.smoke
def test_every_management_command_asks_the_registry_with_no_transaction_open(owner, app):
    reseller, api, domain = owner
    contact_id = make_contact(reseller).id
    with spy_on_registry(app) as spy:
        every_command(api, contact_id)
    called = {name for name, _ in spy.calls}
    assert {"check", "update", "host_set", "host_delete", "auth_code", "transfer_answer",
            "delete"} <= called
    asked = [call for call in spy.in_transaction() if not call.startswith("simulate_")]
    assert asked == [], spy.calls  # the test's own setup call aside
    shown = fresh(domain.id)
    assert shown.nameservers == ["ns1.komento.example", "ns2.komento.example"]
    assert shown.ds[0]["key_tag"] == 12345 and shown.hosts == []
    assert shown.admin_id == contact_id and not shown.locked
    assert shown.pending_change is None and not shown.transfer_out_pending
    assert shown.status != "active"  # deleted: redemption (or gone) as at the registry


@pytest.mark.postgres_only
def test_at_each_registry_call_no_backend_holds_a_transaction(app, committed_db):
    """Real commits: at each call another connection sees no backend of this database in
    a transaction (pg_stat_activity: every one idle, no backend_xmin)."""
    from tests.integration.test_registry_calls_outside_transactions import (
        registered_for_writers,
    )
    headers, domain_id, contact_id = registered_for_writers(app, committed_db, "komento.fi")
    registry = app.extensions["tunnus.registry"]
    seen = []

    class Probe:
        def __getattr__(self, name):
            attr = getattr(registry, name)
            if name.startswith("_") or not callable(attr):
                return attr

            def call(*args, **kwargs):
                with committed_db.engine.connect() as other:
                    seen.append((name, other.execute(sa.text(
                        "SELECT state, backend_xmin IS NOT NULL FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                        "AND (state <> 'idle' OR backend_xmin IS NOT NULL)")).all()))
                    other.rollback()
                return attr(*args, **kwargs)

            return call

    class Api:  # the API client shape every_command uses, on real commits
        def __init__(self):
            self.client = app.test_client()

        def __getattr__(self, method):
            def send(path, **kwargs):
                return getattr(self.client, method)(path, headers=headers, **kwargs)
            return send

    app.extensions["tunnus.registry"] = Probe()
    try:
        every_command(Api(), contact_id)
    finally:
        app.extensions["tunnus.registry"] = registry
    seen = [(name, busy) for name, busy in seen if not name.startswith("simulate_")]
    assert {name for name, _ in seen} >= {"check", "update", "host_set", "host_delete",
                                          "auth_code", "transfer_answer", "delete"}
    assert [(name, busy) for name, busy in seen if busy] == []


@pytest.mark.smoke
def test_a_client_area_form_asks_the_registry_with_no_transaction_open(client, factory, jobs,
                                                                       app):
    install_catalogue()
    user = factory.user(role="owner")
    fund(user.reseller, "100.00")
    contact = make_contact(user.reseller)
    with unit_of_work():
        orders.order_register(reseller_id=user.reseller.id, name="lomake-ei.fi", period=1,
                              contacts={"registrant": contact.id}, idempotency_key="lomake")
    jobs.run_all()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    with spy_on_registry(app) as spy:
        changed = client.post("/domains/lomake-ei.fi/nameservers",
                              data={"nameservers": "ns1.a.example\nns2.b.example"})
        locked = client.post("/domains/lomake-ei.fi/lock", data={"locked": "1"},
                             follow_redirects=True)
    assert changed.status_code == 302
    assert locked.status_code == 200
    assert spy.made("update") == [False, False]
    assert sandbox().info("lomake-ei.fi").nameservers == ("ns1.a.example", "ns2.b.example")
    domain = db.session.scalar(sa.select(Domain).where(Domain.name == "lomake-ei.fi"))
    assert fresh(domain.id).locked and fresh(domain.id).pending_change is None
    # A change being sent when the form is posted: the page says so, nothing is sent.
    sandbox().inject("update", "crash_after")
    with pytest.raises(SimulatedCrash):
        client.post("/domains/lomake-ei.fi/lock", data={"locked": "0"})
    with spy_on_registry(app) as spy:
        waiting = client.post("/domains/lomake-ei.fi/nameservers",
                              data={"nameservers": "ns1.c.example\nns2.d.example"},
                              follow_redirects=True)
    assert waiting.status_code == 200 and spy.made("update") == []
    assert str(pending.change_pending(fresh(domain.id)).detail) in \
        waiting.get_data(as_text=True).replace("&#39;", "'")
    assert sandbox().info("lomake-ei.fi").nameservers == ("ns1.a.example", "ns2.b.example")


@pytest.mark.smoke
def test_a_crash_mid_call_leaves_the_change_leased_then_resolved_once(owner, app):
    reseller, api, domain = owner
    sandbox().inject("update", "crash_after")
    with pytest.raises(SimulatedCrash):
        api.put("/api/v1/domains/komento.fi/lock", json={"locked": True})
    change = fresh(domain.id).pending_change
    assert change["operation"] == "lock" and change["sending_until"]
    assert not fresh(domain.id).locked  # the registry locked it; we never heard
    with spy_on_registry(app) as spy:
        assert run("reseller.domains.tasks.resolve_changes") == {
            "applied": 0, "refused": 0, "pending": 0}
        run("reseller.domains.tasks.resolve_change", domain.id)
        waiting = api.put("/api/v1/domains/komento.fi/nameservers", json={
            "nameservers": ["ns1.odota.example", "ns2.odota.example"]})
    assert spy.calls == []  # nobody sends it again while the lease runs
    assert waiting.status_code == 409 and waiting.json["code"] == "change_pending"
    assert waiting.headers["Retry-After"] == str(pending.SENDING_RETRY_AFTER)
    assert fresh(domain.id).pending_change["transaction_id"] == change["transaction_id"]
    clock.set_offset(pending.LEASE + timedelta(seconds=1))
    with spy_on_registry(app) as spy:
        assert run("reseller.domains.tasks.resolve_changes") == {
            "applied": 1, "refused": 0, "pending": 0}
    assert spy.made("update") == [False]
    resolved = fresh(domain.id)
    assert resolved.locked and resolved.pending_change is None
    updates = db.session.scalars(sa.select(SandboxTransaction).where(
        SandboxTransaction.operation == "update",
        SandboxTransaction.name == "komento.fi")).all()
    # One registry effect: the resend was answered from the record of the first.
    assert [row.id for row in updates] == [change["transaction_id"]]


def test_a_second_writer_during_the_call_sends_nothing(owner, app, monkeypatch):
    reseller, api, domain = owner
    path = "/api/v1/domains/komento.fi"
    etag = api.get(path).headers["ETag"]
    registry = app.extensions["tunnus.registry"]
    real_update, meanwhile = registry.update, []

    def second_writer(**kwargs):  # another request arrives while the command is out
        if not meanwhile:
            meanwhile.append("out")  # the writers below run while this one is out
            meanwhile.append(api.put(f"{path}/nameservers", json={
                "nameservers": ["ns1.toinen.example", "ns2.toinen.example"]}))
            meanwhile.append(api.put(f"{path}/lock", json={"locked": False},
                                     headers={"If-Match": etag}))
            meanwhile.append(api.get(path))
        return real_update(**kwargs)

    monkeypatch.setattr(registry, "update", second_writer)
    with spy_on_registry(app) as spy:
        first = api.put(f"{path}/lock", json={"locked": True}, headers={"If-Match": etag})
    assert first.status_code == 200 and first.json["locked"], first.json
    _, plain, matched, shown = meanwhile
    assert plain.status_code == 409 and plain.json["code"] == "change_pending"
    assert plain.json["pending_change"]["operation"] == "lock"
    assert matched.status_code == 412
    assert shown.json["pending_change"]["operation"] == "lock"  # the change being sent
    assert spy.made("update") == [False]
    assert first.json["pending_change"] is None
    assert list(sandbox().info("komento.fi").nameservers) != ["ns1.toinen.example",
                                                              "ns2.toinen.example"]


@pytest.mark.smoke
def test_a_refusal_after_the_journal_commit_changes_nothing(owner, app):
    reseller, api, domain = owner
    before = list(fresh(domain.id).nameservers)
    with unit_of_work():  # the registry forbids updates of this name (a server status)
        db.session.get(SandboxDomain, "komento.fi").server_statuses = ["serverUpdateProhibited"]
    refused = api.put("/api/v1/domains/komento.fi/nameservers", json={
        "nameservers": ["ns1.kielletty.example", "ns2.kielletty.example"]})
    assert refused.status_code == 409 and refused.json["code"] == "registry_refused"
    row = fresh(domain.id)
    assert row.nameservers == before and row.pending_change is None
    sandbox().inject("update", "unavailable")
    down = api.put("/api/v1/domains/komento.fi/lock", json={"locked": True})
    assert down.status_code == 503
    assert fresh(domain.id).pending_change is None and not fresh(domain.id).locked


def test_an_idempotency_key_refused_after_its_commit_is_judged_afresh(owner, app):
    """The auth code is asked with no transaction open, so the key's claim was committed
    before the registry refused: the claim goes, and the retry runs (not a replay, not
    ``idempotency_key_unanswered``)."""
    reseller, api, domain = owner
    with unit_of_work():  # locked at the registry, not in our record (drift)
        db.session.get(SandboxDomain, "komento.fi").locked = True
    headers = {"Idempotency-Key": "koodi-1"}
    refused = api.post("/api/v1/domains/komento.fi/auth-code", headers=headers)
    assert refused.status_code == 409 and refused.json["code"] == "registry_refused"
    with unit_of_work():
        db.session.get(SandboxDomain, "komento.fi").locked = False
    retried = api.post("/api/v1/domains/komento.fi/auth-code", headers=headers)
    assert retried.status_code == 200, retried.json
    assert "Idempotent-Replayed" not in retried.headers
    replayed = api.post("/api/v1/domains/komento.fi/auth-code", headers=headers)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json == retried.json  # the answer stored with the final commit


def test_the_same_key_during_the_call_is_in_use_not_unanswered(owner, app, monkeypatch):
    reseller, api, domain = owner
    monkeypatch.setitem(app.config, "IDEMPOTENCY_WAIT_SECONDS", 0.2)
    registry = app.extensions["tunnus.registry"]
    real, meanwhile = registry.auth_code, []
    headers = {"Idempotency-Key": "koodi-2"}

    def retried_meanwhile(**kwargs):
        if not meanwhile:  # the client retries once while the first is out
            meanwhile.append(None)
            meanwhile[0] = api.post("/api/v1/domains/komento.fi/auth-code", headers=headers)
        return real(**kwargs)

    monkeypatch.setattr(registry, "auth_code", retried_meanwhile)
    first = api.post("/api/v1/domains/komento.fi/auth-code", headers=headers)
    assert first.status_code == 200
    [during] = meanwhile
    assert during.status_code == 409 and during.json["code"] == "idempotency_key_in_use"
    assert during.headers["Retry-After"]
    again = api.post("/api/v1/domains/komento.fi/auth-code", headers=headers)
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"


@pytest.mark.smoke
def test_a_lost_answer_keeps_the_change_pending_without_its_lease(owner, app, jobs):
    reseller, api, domain = owner
    sandbox().inject("update", "timeout")
    lost = api.put("/api/v1/domains/komento.fi/lock", json={"locked": True})
    assert lost.status_code == 202 and lost.json["pending_change"]["operation"] == "lock"
    change = fresh(domain.id).pending_change
    assert "sending_until" not in change  # resolvable at once
    assert pending.domains_with_pending_changes() == [domain.id]
    jobs.run_all()  # the resolve job queued with the 202
    assert fresh(domain.id).locked and fresh(domain.id).pending_change is None


def test_the_next_command_resolves_a_lost_change_with_no_transaction_open(owner, app):
    reseller, api, domain = owner
    sandbox().inject("update", "timeout")
    assert api.put("/api/v1/domains/komento.fi/lock", json={"locked": True}).status_code == 202
    with spy_on_registry(app) as spy:
        changed = api.put("/api/v1/domains/komento.fi/nameservers", json={
            "nameservers": ["ns1.seuraava.example", "ns2.seuraava.example"]})
    assert changed.status_code == 200, changed.json
    assert spy.made("update") == [False, False]  # the lost lock resent, then the new change
    assert changed.json["locked"] and changed.json["pending_change"] is None
    assert changed.json["nameservers"] == ["ns1.seuraava.example", "ns2.seuraava.example"]


def test_the_lease_outlasts_the_longest_registry_command():
    from reseller.registry.epp.router import MAX_TIMEOUT

    # a pooled session, the connection and login, the command, the info resolving it
    assert pending.LEASE > 4 * timedelta(seconds=MAX_TIMEOUT)


# -- contacts: their registries are asked with no transaction open too -------------------------

def test_a_contact_in_use_is_sent_with_no_transaction_open_then_recorded(owner, app):
    reseller, api, domain = owner
    path = f"/api/v1/contacts/{domain.registrant_id}"
    before = api.get(path)
    with spy_on_registry(app) as spy:
        changed = api.put(path, json={**CONTACT, "email": "uusi@komento.example"},
                          headers={"If-Match": before.headers["ETag"]})
    assert changed.status_code == 200 and changed.json["email"] == "uusi@komento.example"
    assert spy.made("contact_set") == [False]
    handle = before.json["handle"]
    assert sandbox().contact_info(handle).data["email"] == "uusi@komento.example"
    [event] = db.session.scalars(sa.select(Event).where(
        Event.type == "contact.changed", Event.reseller_id == reseller.id)).all()
    assert event.data["previous_email"] == before.json["email"]
    assert event.data["contact"]["email"] == "uusi@komento.example"


def test_a_refused_or_failed_contact_update_changes_nothing(owner, app):
    reseller, api, domain = owner
    path = f"/api/v1/contacts/{domain.registrant_id}"
    before = api.get(path)
    handle = before.json["handle"]
    sandbox().inject("contact_set", "unavailable")
    down = api.put(path, json={**CONTACT, "email": "alas@komento.example"})
    assert down.status_code == 503
    with unit_of_work():  # the registry no longer lets us change it (another sponsor)
        db.session.get(SandboxContact, handle).sponsor = "muu"
    refused = api.put(path, json={**CONTACT, "email": "kielletty@komento.example"})
    assert refused.status_code == 409 and refused.json["code"] == "registry_refused"
    after = api.get(path)
    assert after.json == before.json  # details and version as they were
    assert after.headers["ETag"] == before.headers["ETag"]


def test_contact_updates_overlapping_the_call_converge_on_our_record(owner, app, jobs,
                                                                     monkeypatch):
    reseller, api, domain = owner
    path = f"/api/v1/contacts/{domain.registrant_id}"
    etag = api.get(path).headers["ETag"]
    registry = app.extensions["tunnus.registry"]
    real, meanwhile = registry.contact_set, []

    def another_edit(**kwargs):  # this one reached the registry; before it is recorded,
        answer = real(**kwargs)  # a second edit is sent and recorded
        if not meanwhile:
            meanwhile.append("out")
            meanwhile.append(api.put(path, json={**CONTACT, "email": "vanha@komento.example"},
                                     headers={"If-Match": etag}))
            meanwhile.append(api.put(path, json={**CONTACT, "email": "toinen@komento.example"}))
        return answer

    monkeypatch.setattr(registry, "contact_set", another_edit)
    jobs.jobs.clear()
    first = api.put(path, json={**CONTACT, "email": "ensimmainen@komento.example"})
    _, stale, second = meanwhile
    assert stale.status_code == 412  # the version moved on when the first was journaled
    assert second.status_code == 200 and first.status_code == 200
    handle = first.json["handle"]
    ours = api.get(path).json["email"]
    assert ours == "ensimmainen@komento.example"  # recorded last
    assert sandbox().contact_info(handle).data["email"] == "toinen@komento.example"  # sent last
    assert ("reseller.domains.tasks.push_contact", (domain.registrant_id,)) in jobs.jobs
    jobs.run_all()  # sent again: whatever order the registry saw, it ends with ours
    assert sandbox().contact_info(handle).data["email"] == ours
