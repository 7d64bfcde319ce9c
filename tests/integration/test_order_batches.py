"""An order's job carries out the orders waiting behind it (issue 31): each one's RQ job is
taken out of its queue first, so no other worker runs it; the orders all complete, charged
once each; a taken order that fails is given back for the relay; an order whose job a
worker already holds is left to that worker."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from reseller import worker
from reseller.core import events, pending
from reseller.core import jobs as jobs_module
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.core.pending import PendingJob
from reseller.domains import orders
from reseller.domains.models import Order
from tests.integration.test_commit_is_an_answer import _age, swapped_runner
from tests.support import counting
from tests.support.domains import available, fund, install_catalogue, make_contact
from wallet.models import Purchase

pytestmark = pytest.mark.postgres_only  # RQ with PostgreSQL: SQLite workers never batch


@pytest.fixture
def rq(app, committed_db, redis_server):
    from redis import Redis

    runner = jobs_module.RQRunner(app, redis_server.url)
    Redis.from_url(redis_server.url).flushdb()
    with app.app_context(), swapped_runner(app, runner):
        yield runner
    runner.connection.close()


def _place(reseller, contact, count: int, prefix: str) -> list[int]:
    placed = []
    for n in range(count):
        with unit_of_work():
            placed.append(orders.order_register(
                reseller_id=reseller.id, name=f"{prefix}{n}.fi", period=1,
                contacts={"registrant": contact.id}, idempotency_key=f"{prefix}-{n}").id)
    return placed


def _ready(app):
    from tests.support.factories import Factory

    with unit_of_work():
        install_catalogue()
    reseller = Factory(app).reseller()
    fund(reseller, "500.00")
    contact = make_contact(reseller)
    # plain ids: the objects would not outlive the worker's session
    return SimpleNamespace(id=reseller.id), SimpleNamespace(id=contact.id)


def _work(app, runner) -> list[str]:
    """Run every queued job in one in-process worker; the job paths RQ ran."""
    worker.use_app(app)
    try:
        with counting.jobs_run() as ran:
            worker.InProcessWorker(list(runner.queues.values()),
                                   connection=runner.connection).work(burst=True)
    finally:
        worker.use_app(None)
    db.session.remove()
    return ran


def _owed_for(order_id: int) -> list[PendingJob]:
    db.session.expire_all()
    return [row for row in db.session.scalars(sa.select(PendingJob).where(
        PendingJob.path == orders.PROCESS_JOB)) if row.args == [order_id]]


def _states(ids: list[int]) -> dict[int, str]:
    db.session.expire_all()
    return {row.id: row.state for row in db.session.execute(
        sa.select(Order.id, Order.state).where(Order.id.in_(ids)))}


def test_one_job_carries_out_the_orders_waiting_behind_it(app, rq, monkeypatch):
    from reseller.registry.services import get_registry

    reseller, contact = _ready(app)
    before = available(reseller)
    placed = _place(reseller, contact, 5, "jono")
    queued = rq.queues[jobs_module.QUEUES[0]].get_job_ids()
    assert len(queued) == 5
    registry, pushes = get_registry(), []
    contact_set = registry.contact_set
    monkeypatch.setattr(registry, "contact_set", lambda **kw: (pushes.append(kw["handle"]),
                                                              contact_set(**kw))[1])
    ran = _work(app, rq)
    assert len(pushes) == 1  # one registrant, sent to the .fi registry once by the job
    assert ran.count(orders.PROCESS_JOB) == 1  # the other four were taken, not run by RQ
    assert _states(placed) == dict.fromkeys(placed, "completed")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingJob).where(
        PendingJob.path == orders.PROCESS_JOB)) == 0
    assert not any(rq.connection.exists(f"rq:job:{job_id}") for job_id in queued[1:])
    attempts = db.session.scalars(sa.select(Order.attempts).where(Order.id.in_(placed)))
    assert set(attempts) == {1}  # each sent to the registry once
    references = list(db.session.scalars(sa.select(Order.reference).where(Order.id.in_(placed))))
    charged = db.session.scalar(sa.select(sa.func.count()).select_from(Purchase).where(
        Purchase.reference.in_(references)))
    assert charged == 5  # each charged, once
    assert available(reseller) < before


def test_a_batch_is_bounded(app, rq):
    reseller, contact = _ready(app)
    placed = _place(reseller, contact, orders.BATCH + 2, "raja")
    ran = _work(app, rq)
    assert ran.count(orders.PROCESS_JOB) == 2  # BATCH orders in one job, two in the next
    assert _states(placed) == dict.fromkeys(placed, "completed")


def test_an_order_whose_job_a_worker_holds_is_left_to_that_worker(app, rq):
    reseller, contact = _ready(app)
    first, second = _place(reseller, contact, 2, "pidetty")
    queue = rq.queues[jobs_module.QUEUES[0]]
    [_, held_job] = queue.get_job_ids()
    # another worker dequeued the second order's job (and has not claimed the order yet)
    assert rq.connection.lrem(queue.key, 1, held_job) == 1
    assert jobs_module.take_waiting(orders.PROCESS_JOB, (second,)) is None
    assert rq.connection.exists(f"rq:job:{held_job}")  # its job is that worker's still
    [row] = _owed_for(second)
    assert row.handed_at is not None  # looked at, left owed
    with unit_of_work():
        orders.process_order(first)
    assert _states([first, second]) == {first: "completed", second: "held"}


def test_a_taken_order_that_fails_is_given_back_and_the_relay_hands_it_over(app, rq,
                                                                           monkeypatch):
    from reseller.registry.errors import RegistryUnavailable

    reseller, contact = _ready(app)
    first, second = _place(reseller, contact, 2, "takaisin")
    call = orders._call_registry

    def unavailable_for_second(job, registry):
        if job.id == second:
            raise RegistryUnavailable("sandbox registry unavailable (create)")
        return call(job, registry)

    monkeypatch.setattr(orders, "_call_registry", unavailable_for_second)
    with unit_of_work():
        orders.process_order(first)  # its own order, then ``second``, which fails
    assert _states([first, second]) == {first: "completed", second: "held"}
    [row] = _owed_for(second)
    assert row.handed_at is None and row.failures == 1  # owed as before, counted
    assert row.last_error.startswith("RegistryUnavailable")
    # its RQ job was taken out of Redis: the relay sees it missing and hands it over
    assert rq.job_state(pending.rq_job_id(row.id, row.handovers)) == "missing"
    _age(row.id, 30)
    assert pending.relay(rq.hand_over, rq.job_state) == 1
    monkeypatch.setattr(orders, "_call_registry", call)
    _work(app, rq)
    assert _states([first, second]) == {first: "completed", second: "completed"}


def test_a_job_sends_each_contact_once_and_a_changed_one_again(app, rq, monkeypatch):
    from reseller.registry.services import get_registry
    from tests.support.domains import make_contact as contact_of

    reseller, first = _ready(app)
    second = SimpleNamespace(id=contact_of(reseller, email="toinen@example.test").id)
    placed = _place(reseller, first, 2, "eka") + _place(reseller, second, 2, "toka")
    registry, pushes = get_registry(), []
    contact_set = registry.contact_set
    monkeypatch.setattr(registry, "contact_set", lambda **kw: (
        pushes.append((kw["handle"], kw["data"].get("email"))), contact_set(**kw))[1])
    _work(app, rq)
    assert _states(placed) == dict.fromkeys(placed, "completed")
    assert len(pushes) == 2 and len({handle for handle, _ in pushes}) == 2
    assert orders._pushed_as("H1", {"email": "a@x"}, "nimi.fi") != \
        orders._pushed_as("H1", {"email": "b@x"}, "nimi.fi")  # changed: sent again
    assert orders._pushed_as("H1", {"email": "a@x"}, "nimi.fi") != \
        orders._pushed_as("H1", {"email": "a@x"}, "nimi.se")  # another registry


def _dispatch_jobs(runner) -> list:
    from rq.job import Job

    queue = runner.queues[jobs_module.QUEUES[1]]
    return [job for job in Job.fetch_many(queue.get_job_ids(), connection=runner.connection)
            if job is not None and job.args[0] == events.DISPATCH_JOB]


def _undispatched(ids: list[int] | None = None) -> list[int]:
    db.session.expire_all()
    stmt = sa.select(events.Event.id).where(events.Event.dispatched_at.is_(None))
    return list(db.session.scalars(stmt.where(events.Event.id.in_(ids)) if ids else stmt))


def test_a_batch_of_orders_pushes_one_dispatch_job_for_their_events(app, rq):
    reseller, contact = _ready(app)
    placed = _place(reseller, contact, 5, "yksi")
    worker.use_app(app)
    try:  # the urgent queue alone: the batch, not yet its events' listeners
        worker.InProcessWorker([rq.queues[jobs_module.QUEUES[0]]],
                               connection=rq.connection).work(burst=True)
    finally:
        worker.use_app(None)
    db.session.remove()
    assert _states(placed) == dict.fromkeys(placed, "completed")
    owed = _undispatched()
    assert len(owed) >= 5  # an event per order at least, each owed its own dispatch row
    rows = db.session.scalars(sa.select(PendingJob).where(
        PendingJob.path == events.DISPATCH_JOB)).all()
    assert sorted(row.args[0] for row in rows) == sorted(owed)
    [job] = _dispatch_jobs(rq)  # one pushed, given the others to do first
    assert sorted(job.args[1:]) == sorted(owed) and job.args[1] == min(owed)
    ran = _work(app, rq)
    assert ran.count(events.DISPATCH_JOB) == 1
    assert _undispatched() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingJob)) == 0


def test_a_dispatch_does_the_events_it_is_given_before_older_ones(app, rq, monkeypatch):
    """``dispatch_deferred(event, *also)``: the events given are in the batch even when
    more than a batch of older ones are owed; what is left stays owed."""
    ran = []
    monkeypatch.setitem(events._DEFERRED, "tests.held", [lambda event: ran.append(event.id)])
    with unit_of_work():
        recorded = [events.record_event(reseller_id=None, type="tests.held", data={"n": n})
                    for n in range(events.BATCH + 4)]
    ids = [event.id for event in recorded]
    given = ids[-3:]
    with unit_of_work():
        assert events.dispatch_deferred(ids[-4], *given)
    assert sorted(ran) == sorted([*ids[:events.BATCH - 4], *ids[-4:]])
    # the oldest filled the rest of the batch; what is left stays owed
    assert _undispatched(ids) == ids[events.BATCH - 4:-4]


def test_pushes_held_push_one_job_per_run_and_none_outside(app, rq, monkeypatch):
    pushed = []
    monkeypatch.setattr(rq, "_push", lambda path, args, **kw: pushed.append(
        (path, args, kw["pending_id"])))
    monkeypatch.setitem(jobs_module.COALESCING, "tests.coalesced", 3)
    with jobs_module.pushes_held():
        for n in range(7):
            rq.submit("tests.coalesced", (n,), pending_id=f"p{n}")
        rq.submit("tests.other", (9,), pending_id="p9")  # not coalescing: pushed at once
        rq.submit("tests.coalesced", (8,), delay=60, pending_id="p8")  # delayed: at once
        assert [path for path, *_ in pushed] == ["tests.other", "tests.coalesced"]
    assert pushed[2:] == [("tests.coalesced", (0, 1, 2), "p0"),
                          ("tests.coalesced", (3, 4, 5), "p3"),
                          ("tests.coalesced", (6,), "p6")]
    pushed.clear()
    rq.submit("tests.coalesced", (1,), pending_id="p1")
    assert pushed == [("tests.coalesced", (1,), "p1")]
