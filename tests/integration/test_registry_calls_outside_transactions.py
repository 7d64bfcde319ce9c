"""Jobs ask the registry with no database transaction open (issue 31, point 3): a job
waiting on a slow registry holds no row lock and no transaction id, so no reseller's
event feed stalls behind it. A crash between the call and its outcome converges on the
next run without a second effect."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.events import Event
from reseller.core.extensions import db
from reseller.core.jobs import run
from reseller.domains import orders, pending, services
from reseller.domains.models import Domain, Order
from reseller.registry.sandbox import SimulatedCrash
from reseller.registry.sandbox_models import SandboxDomain, SandboxTransaction
from tests.support.domains import CONTACT, fund, install_catalogue, make_contact, sandbox
from tests.support.outside_calls import idle_probe, spy_on_registry
from wallet import services as wallet


@pytest.fixture
def reseller(factory):
    install_catalogue()
    reseller = factory.reseller()
    fund(reseller, "100.00")
    return reseller


@pytest.fixture(autouse=True)
def _clean_faults(app):
    yield
    app.extensions["tunnus.registry"].clear_faults()


def owned(reseller, jobs, name, *, auto_renew=False):
    contact = make_contact(reseller)
    with unit_of_work():
        orders.order_register(reseller_id=reseller.id, name=name, period=1,
                              contacts={"registrant": contact.id}, idempotency_key=name)
    jobs.run_all()
    with unit_of_work():
        services.set_auto_renew(reseller_id=reseller.id, name=name, auto_renew=auto_renew)
    return db.session.scalar(sa.select(Domain).where(Domain.name == name))


def status(domain_id):
    db.session.expire_all()
    return db.session.get(Domain, domain_id).status


def test_the_expiry_delete_is_sent_with_no_transaction_open(reseller, jobs, app):
    domain = owned(reseller, jobs, "poistuva.com")
    clock.set_offset(timedelta(days=366 + 45))
    with spy_on_registry(app) as spy:
        run("reseller.domains.tasks.run_lifecycle")
    assert spy.made("delete") == [False]
    assert spy.in_transaction() == []
    assert status(domain.id) == "redemption"


def test_a_crash_after_the_expiry_delete_converges_with_one_delete(reseller, jobs, app):
    domain = owned(reseller, jobs, "kaatuva.com")
    clock.set_offset(timedelta(days=366 + 45))
    sandbox().inject("delete", "crash_after")
    with pytest.raises(SimulatedCrash):
        run("reseller.domains.tasks.run_lifecycle")
    assert status(domain.id) == "expired"  # the registry deleted it; we never heard
    assert "redemptionPeriod" in sandbox().info("kaatuva.com").statuses
    with spy_on_registry(app) as spy:
        run("reseller.domains.tasks.run_lifecycle")  # the next run repeats the same delete
    assert spy.made("delete") == [False]
    assert status(domain.id) == "redemption"
    deletes = db.session.scalars(sa.select(SandboxTransaction).where(
        SandboxTransaction.operation == "delete", SandboxTransaction.name == "kaatuva.com"))
    assert len(deletes.all()) == 1  # answered from the registry's record the second time
    run("reseller.domains.tasks.run_lifecycle")
    assert status(domain.id) == "redemption"


def test_a_domain_renewed_during_the_delete_is_not_marked_deleted(reseller, jobs, app,
                                                                   monkeypatch):
    domain = owned(reseller, jobs, "pelastettu.com")
    clock.set_offset(timedelta(days=366 + 45))
    registry = app.extensions["tunnus.registry"]
    real_delete = registry.delete

    def renewed_meanwhile(**kwargs):
        with unit_of_work():  # another worker renews the name while the delete is out
            db.session.get(Domain, domain.id).expires_at += timedelta(days=365)
        return real_delete(**kwargs)

    monkeypatch.setattr(registry, "delete", renewed_meanwhile)
    run("reseller.domains.tasks.run_lifecycle")
    assert status(domain.id) == "expired"  # our record is left for the next run to read


def test_transfer_out_requests_are_read_and_acknowledged_outside_transactions(
        reseller, jobs, app):
    domain = owned(reseller, jobs, "lahtija.fi", auto_renew=True)
    with unit_of_work():
        code = services.request_auth_code(reseller_id=reseller.id, name="lahtija.fi")
    sandbox().simulate_transfer_out(name="lahtija.fi", auth_code=code)
    with spy_on_registry(app) as spy:
        run("reseller.domains.tasks.check_transfers")
    assert spy.made("transfer_query") == [False]
    assert spy.made("ack") == [False]
    assert spy.in_transaction() == []
    db.session.expire_all()
    assert db.session.get(Domain, domain.id).transfer_out_pending
    with spy_on_registry(app) as spy:
        run("reseller.domains.tasks.check_transfers")  # acknowledged: not handled again
    assert spy.made("transfer_query") == []


def place_transfer(reseller, jobs, name):
    sandbox().seed_foreign(name=name, auth_code="Siirto-koodi-1")
    with unit_of_work():
        order = orders.order_transfer(reseller_id=reseller.id, name=name,
                                      auth_code="Siirto-koodi-1", idempotency_key=name)
    jobs.run_all()
    db.session.expire_all()
    assert db.session.get(Order, order.id).registry_status == "pending_transfer"
    return order


def test_a_transfer_in_is_settled_from_the_poll_queue_outside_transactions(
        reseller, jobs, app):
    order = place_transfer(reseller, jobs, "tulija.fi")
    sandbox().simulate_losing_answer(name="tulija.fi", approve=True)
    with spy_on_registry(app) as spy:
        run("reseller.domains.tasks.check_transfers")
    assert spy.made("transfer_query") and spy.made("info")
    assert spy.in_transaction() == []
    db.session.expire_all()
    assert db.session.get(Order, order.id).state == "completed"
    assert wallet.get_hold(reference=order.reference).state == "captured"
    completed = db.session.scalars(sa.select(Event).where(Event.type == "order.completed"))
    assert [e.data["order_id"] for e in completed].count(order.id) == 1


def test_recovery_asks_the_registry_outside_transactions(reseller, jobs, app):
    contact = make_contact(reseller)
    with unit_of_work():
        order = orders.order_register(reseller_id=reseller.id, name="toipuja.fi", period=1,
                                      contacts={"registrant": contact.id},
                                      idempotency_key="toipuja")
    sandbox().inject("create", "crash_after")
    with pytest.raises(SimulatedCrash):
        jobs.run_all()
    clock.set_offset(timedelta(minutes=10))
    with spy_on_registry(app) as spy:
        run("reseller.domains.tasks.recover_orders")
    assert spy.made("transaction") == [False]
    assert spy.in_transaction() == []
    db.session.expire_all()
    assert db.session.get(Order, order.id).state == "completed"
    assert wallet.get_hold(reference=order.reference).state == "captured"


def test_an_order_and_its_transfer_read_back_run_outside_transactions(reseller, jobs, app):
    contact = make_contact(reseller)
    with unit_of_work():
        orders.order_register(reseller_id=reseller.id, name="suora.fi", period=1,
                              contacts={"registrant": contact.id}, idempotency_key="suora")
    with spy_on_registry(app) as spy:
        jobs.run_all()
    assert spy.made("create") == [False]
    assert spy.made("contact_set") == [False]
    assert spy.in_transaction() == []


def test_a_lost_change_is_resolved_by_its_job_outside_transactions(reseller, jobs, app):
    domain = owned(reseller, jobs, "kadonnut.fi", auto_renew=True)
    jobs.jobs.clear()
    sandbox().inject("update", "timeout")
    with unit_of_work():
        services.set_lock(reseller_id=reseller.id, name="kadonnut.fi", locked=True)
    db.session.expire_all()
    change = db.session.get(Domain, domain.id).pending_change
    assert change["operation"] == "lock"
    with spy_on_registry(app) as spy:
        jobs.run_all()  # the resolve job queued with the lost answer
    assert spy.made("update") == [False]
    assert spy.in_transaction() == []
    db.session.expire_all()
    resolved = db.session.get(Domain, domain.id)
    assert resolved.pending_change is None and resolved.locked
    [event] = db.session.scalars(sa.select(Event).where(
        Event.type == "domain.registry_changed", Event.reseller_id == reseller.id)).all()
    assert event.data["outcome"] == "applied"


def test_a_change_resolved_meanwhile_is_recorded_once(reseller, jobs, app, monkeypatch):
    domain = owned(reseller, jobs, "kahdesti.fi", auto_renew=True)
    jobs.jobs.clear()
    sandbox().inject("update", "timeout")
    with unit_of_work():
        services.set_lock(reseller_id=reseller.id, name="kahdesti.fi", locked=True)
    registry = app.extensions["tunnus.registry"]
    real_update, meanwhile = registry.update, []

    def resolved_meanwhile(**kwargs):  # a request resolves it while the job's call is out
        answer = real_update(**kwargs)
        if not meanwhile:
            meanwhile.append(kwargs["transaction_id"])
            pending.resolve_pending(domain.id, registry=registry)
        return answer

    monkeypatch.setattr(registry, "update", resolved_meanwhile)
    run("reseller.domains.tasks.resolve_changes")
    events = db.session.scalars(sa.select(Event).where(
        Event.type == "domain.registry_changed", Event.reseller_id == reseller.id)).all()
    assert len(events) == 1 and meanwhile
    db.session.expire_all()
    assert db.session.get(Domain, domain.id).pending_change is None


def test_a_contact_resent_by_its_job_goes_outside_transactions(reseller, jobs, app):
    domain = owned(reseller, jobs, "yhteystieto.fi", auto_renew=True)
    with spy_on_registry(app) as spy:
        run("reseller.domains.tasks.push_contact", domain.registrant_id)
    assert spy.made("contact_set") == [False]


def test_the_registry_sync_reads_outside_transactions(reseller, jobs, app):
    domain = owned(reseller, jobs, "synkka.fi", auto_renew=True)
    with unit_of_work():  # changed elsewhere, at the registry
        row = db.session.get(SandboxDomain, "synkka.fi")
        row.nameservers = ["ns1.muualla.example", "ns2.muualla.example"]
    with spy_on_registry(app) as spy:
        run("reseller.domains.tasks.sync_registry", "synkka.fi")
    assert spy.made("info") == [False]
    db.session.expire_all()
    assert db.session.get(Domain, domain.id).nameservers == ["ns1.muualla.example",
                                                             "ns2.muualla.example"]


# -- requests: the registry is asked before anything is written ---------------------------------

def test_a_transfer_out_answer_job_asks_outside_transactions(reseller, jobs, app):
    domain = owned(reseller, jobs, "vastaaja.fi", auto_renew=True)
    with unit_of_work():
        code = services.request_auth_code(reseller_id=reseller.id, name="vastaaja.fi")
    sandbox().simulate_transfer_out(name="vastaaja.fi", auth_code=code)
    run("reseller.domains.tasks.check_transfers")
    with spy_on_registry(app) as spy:
        run("reseller.domains.tasks.answer_transfer_out", domain.id, True)
    assert spy.made("transfer_answer") == [False]
    assert status(domain.id) == "transferred_out"


def test_api_requests_ask_the_registry_before_writing_anything(reseller, jobs, app, factory):
    domain = owned(reseller, jobs, "kysyja.fi", auto_renew=True)
    api = factory.api(reseller)
    # The token's last use is written once a minute, by the first request that commits
    # (reseller.accounts: outside this test's subject).
    assert api.post("/api/v1/contacts", json=CONTACT).status_code == 201
    with spy_on_registry(app) as spy:
        code = api.post("/api/v1/domains/kysyja.fi/auth-code")
        assert code.status_code == 200, code.json
        sandbox().simulate_transfer_out(name="kysyja.fi", auth_code=code.json["auth_code"])
        answered = api.post("/api/v1/domains/kysyja.fi/transfer-out", json={"approve": False})
        assert answered.status_code == 200, answered.json
        changed = api.put(f"/api/v1/contacts/{domain.registrant_id}",
                          json={**CONTACT, "email": "uusi@asiakas.example"})
        assert changed.status_code == 200, changed.json
        listed = api.put("/api/v1/domains/kysyja.fi/nameservers",
                         json={"nameservers": ["ns1.kysyja.example", "ns2.kysyja.example"]})
        assert listed.status_code == 200, listed.json
        placed = api.post("/api/v1/domains", json={
            "name": "toinen-kysyja.fi", "period": 1,
            "contacts": {"registrant": domain.registrant_id}})
        assert placed.status_code == 202, placed.json
    for call in ("auth_code", "transfer_answer", "contact_set", "update", "check"):
        assert spy.written_before(call) and all(w == [] for w in spy.written_before(call)), \
            (call, spy.written_before(call))
    assert sandbox().contact_info(db.session.get(Domain, domain.id).registrant.handle) \
        .data["email"] == "uusi@asiakas.example"


def test_suspending_for_an_unverified_registrant_asks_outside_transactions(
        reseller, jobs, app):
    from reseller.core.events import record_event

    domain = owned(reseller, jobs, "pidatetty.fi", auto_renew=True)
    with unit_of_work():
        record_event(reseller_id=reseller.id, type="registrant.verification_overdue",
                     data={"email": "maija@asiakas.example", "domains": ["pidatetty.fi"],
                           "suspend": True})
    with spy_on_registry(app) as spy:
        jobs.run_all()
    assert spy.made("update") == [False]
    db.session.expire_all()
    assert db.session.get(Domain, domain.id).suspended
    assert "clientHold" in sandbox().info("pidatetty.fi").statuses
    sandbox().inject("update", "timeout")  # lifted at the registry, the answer lost
    with unit_of_work():
        services.set_suspended(domain_id=domain.id, suspended=False)
    db.session.expire_all()
    assert db.session.get(Domain, domain.id).pending_change["operation"] == "hold"
    jobs.run_all()  # the resolve job
    db.session.expire_all()
    assert not db.session.get(Domain, domain.id).suspended


def test_an_idempotency_key_is_written_with_the_answer_not_before_the_check(
        reseller, jobs, app, factory):
    """The key's claim writes nothing until the view writes (PostgreSQL: an advisory lock
    until then), so the registry's availability check runs before any write; a replay
    still gets the first answer and nothing is held twice."""
    contact = make_contact(reseller)
    api = factory.api(reseller)
    assert api.post("/api/v1/contacts", json=CONTACT).status_code == 201  # token last use
    body = {"name": "avaimella.fi", "period": 1, "contacts": {"registrant": contact.id}}
    headers = {"Idempotency-Key": "register-avaimella"}
    with spy_on_registry(app) as spy:
        first = api.post("/api/v1/domains", json=body, headers=headers)
    assert first.status_code == 202, first.json
    if db.engine.dialect.name == "postgresql":  # SQLite claims with an insert (one writer)
        assert spy.written_before("check") == [[]]
    again = api.post("/api/v1/domains", json=body, headers=headers)
    assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    orders_for_name = db.session.scalars(sa.select(Order).where(
        Order.domain_name == "avaimella.fi")).all()
    assert len(orders_for_name) == 1


def test_auto_renew_reads_the_premium_fee_outside_transactions(reseller, jobs, app):
    domain = owned(reseller, jobs, "jatkaja.fi", auto_renew=True)
    expires = domain.expires_at
    clock.set_offset(timedelta(days=365 - 10))
    with spy_on_registry(app) as spy:
        run("reseller.domains.tasks.run_lifecycle")
        jobs.run_all()
    assert spy.made("premium_fee") == [False]
    assert spy.in_transaction() == []
    db.session.expire_all()
    assert db.session.get(Domain, domain.id).expires_at.year == expires.year + 1
    with spy_on_registry(app) as spy:
        run("reseller.domains.tasks.run_lifecycle")  # renewed: nothing asked again
    assert spy.made("premium_fee") == []


# -- writers with one ETag take turns on a command lock, not a row lock --------------------------

def registered_for_writers(app, committed_db, name):
    """(owner's API headers, the domain's id, its registrant's id): ``name`` registered
    with real commits, for writers on threads of their own."""
    from tests.support.factories import Factory

    factory = Factory(app)
    install_catalogue()
    owner = factory.reseller()
    fund(owner, "100.00")
    token = factory.token(owner)
    contact_id = make_contact(owner).id
    with unit_of_work():
        orders.order_register(reseller_id=owner.id, name=name, period=1,
                              contacts={"registrant": contact_id}, idempotency_key=name)
    app.extensions["tunnus.jobs"].run_all()
    domain_id = committed_db.session.scalar(sa.select(Domain.id).where(Domain.name == name))
    committed_db.session.remove()
    return {"Authorization": f"Bearer {token}"}, domain_id, contact_id


def race(app, committed_db, *, call, table, row_id, path, etag, headers, body, threads=4):
    """``threads`` writers PUT ``body(n)`` to ``path`` with ``If-Match: etag`` at once while
    the registry answers ``call`` slowly: [(n, status)], the spy, and what was seen at each
    ``call``: whether another connection found the ``table`` row ``row_id`` locked, and
    the calling transaction's id (None: it has none)."""
    import threading

    registry = app.extensions["tunnus.registry"]
    seen, look = idle_probe(committed_db.engine, table, row_id)
    at_call = []
    real = getattr(registry, call)

    def probed(**kwargs):
        look(None)  # what another connection sees while the command is on the wire
        at_call.append((seen["locked"], db.session.scalar(
            sa.text("SELECT txid_current_if_assigned()"))))
        return real(**kwargs)

    results = []
    barrier = threading.Barrier(threads)

    def write(n: int) -> None:
        own = app.test_client()
        barrier.wait()
        answer = own.put(path, headers={**headers, "If-Match": etag}, json=body(n))
        results.append((n, answer.status_code))

    setattr(registry, call, probed)
    registry.latency_ms = 200  # the registry answers slowly: the writers overlap
    try:
        with spy_on_registry(app) as spy:
            workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join(timeout=60)
    finally:
        registry.latency_ms = 0
        delattr(registry, call)
    return results, spy, at_call


@pytest.mark.postgres_only
def test_management_commands_on_one_domain_take_turns_without_a_row_lock(app, committed_db):
    """Nameserver changes hold the domain's advisory command lock, not its row, while the
    registry answers: of four writers with one ETag exactly one wins (the others wait,
    then see the new version: 412)."""
    headers, domain_id, _ = registered_for_writers(app, committed_db, "vuorotellen.fi")
    path = "/api/v1/domains/vuorotellen.fi"
    etag = app.test_client().get(path, headers=headers).headers["ETag"]

    def body(n):
        return {"nameservers": [f"ns1.vuoro{n}.example", f"ns2.vuoro{n}.example"]}

    results, spy, at_call = race(app, committed_db, call="update", table="domains",
                                 row_id=domain_id, path=f"{path}/nameservers", etag=etag,
                                 headers=headers, body=body)
    assert sorted(status for _, status in results) == [200, 412, 412, 412]
    # The domain's row was free and the request's transaction had no id at the call.
    assert at_call == [(False, None)]
    [winner] = [n for n, status in results if status == 200]
    shown = app.test_client().get(path, headers=headers).json
    assert shown["nameservers"] == body(winner)["nameservers"]
    assert len(spy.made("update")) == 1
    assert list(sandbox().info("vuorotellen.fi").nameservers) == body(winner)["nameservers"]


def test_a_contact_update_with_if_match_asks_the_registry_before_writing_or_locking(
        reseller, jobs, app, factory):
    domain = owned(reseller, jobs, "tarkka.fi", auto_renew=True)
    api = factory.api(reseller)
    # The token's last use is written by the first request that commits (see above).
    assert api.post("/api/v1/contacts", json=CONTACT).status_code == 201
    path = f"/api/v1/contacts/{domain.registrant_id}"
    etag = api.get(path).headers["ETag"]
    with spy_on_registry(app) as spy:
        changed = api.put(path, json={**CONTACT, "email": "tarkka@asiakas.example"},
                          headers={"If-Match": etag})
        assert changed.status_code == 200, changed.json
        stale = api.put(path, json={**CONTACT, "email": "myohassa@asiakas.example"},
                        headers={"If-Match": etag})
        assert stale.status_code == 412, stale.json
    # No row written or locked (FOR UPDATE) before the registry was asked, once.
    assert spy.written_before("contact_set") == [[]]
    assert sandbox().contact_info(db.session.get(Domain, domain.id).registrant.handle) \
        .data["email"] == "tarkka@asiakas.example"


@pytest.mark.postgres_only
def test_contact_updates_take_turns_without_a_row_lock(app, committed_db):
    """Contact edits hold the contact's advisory command lock, not its row, while the
    registry answers: of four writers with one ETag exactly one wins, and the registry
    holds what we hold."""
    headers, domain_id, contact_id = registered_for_writers(app, committed_db,
                                                           "yhteys-vuoro.fi")
    path = f"/api/v1/contacts/{contact_id}"
    etag = app.test_client().get(path, headers=headers).headers["ETag"]

    def body(n):
        return {**CONTACT, "email": f"vuoro{n}@asiakas.example"}

    results, spy, at_call = race(app, committed_db, call="contact_set", table="contacts",
                                 row_id=contact_id, path=path, etag=etag, headers=headers,
                                 body=body)
    assert sorted(status for _, status in results) == [200, 412, 412, 412]
    assert at_call == [(False, None)]  # the contact's row free, no transaction id
    [winner] = [n for n, status in results if status == 200]
    assert app.test_client().get(path, headers=headers).json["email"] == body(winner)["email"]
    assert len(spy.made("contact_set")) == 1
    handle = committed_db.session.get(Domain, domain_id).registrant.handle
    assert sandbox().contact_info(handle).data["email"] == body(winner)["email"]


def test_a_contact_edited_while_its_resend_is_on_the_wire_is_sent_again(reseller, jobs, app,
                                                                         monkeypatch):
    """The resend read the old data; an edit is sent and recorded meanwhile; the resend's
    (older) data reaches the registry last. The job sees the contact changed and queues
    itself again, and that run leaves the registry with the edit."""
    from reseller.domains.models import Contact
    from reseller.registry.sandbox import SandboxRegistry

    domain = owned(reseller, jobs, "kesken.fi", auto_renew=True)
    contact_id = domain.registrant_id
    registry = app.extensions["tunnus.registry"]
    real = SandboxRegistry.contact_set
    edited = []

    def edit_meanwhile(self, **kwargs):
        if not edited:  # the edit lands first (its own send and record), then this send
            edited.append(True)
            with unit_of_work():
                db.session.get(Contact, contact_id).email = "uusin@asiakas.example"
            real(self, handle=kwargs["handle"], name=kwargs["name"],
                 data={**kwargs["data"], "email": "uusin@asiakas.example"})
        return real(self, **kwargs)

    monkeypatch.setattr(SandboxRegistry, "contact_set", edit_meanwhile)
    jobs.jobs.clear()
    run("reseller.domains.tasks.push_contact", contact_id)
    handle = db.session.get(Contact, contact_id).handle
    assert registry.contact_info(handle).data["email"] != "uusin@asiakas.example"  # stale
    assert ("reseller.domains.tasks.push_contact", (contact_id,)) in jobs.jobs
    jobs.jobs.clear()
    run("reseller.domains.tasks.push_contact", contact_id)
    assert registry.contact_info(handle).data["email"] == "uusin@asiakas.example"
    assert jobs.jobs == []  # converged: nothing queued again
