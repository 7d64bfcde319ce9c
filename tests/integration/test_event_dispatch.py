"""Deferred event listeners run once, after the recording transaction commits, and an
event whose dispatch job was lost is picked up again (a transactional outbox)."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from reseller.core import events
from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.events import Event, on_event, record_event
from reseller.core.extensions import db
from tests.support import counting

CALLS: list[tuple[str, int]] = []


@on_event("test.deferred", deferred=True)
def _deferred(event: Event) -> None:
    if event.data.get("explode"):
        raise RuntimeError("listener failed")
    CALLS.append(("deferred", event.id))


@on_event("test.deferred")
def _inline(event: Event) -> None:
    CALLS.append(("inline", event.id))


@pytest.fixture(autouse=True)
def _clear_calls():
    CALLS.clear()
    yield
    CALLS.clear()
    events._FAILED_IN_BATCH.clear()  # per process: ids may come again in the next test


@pytest.mark.smoke
def test_deferred_listener_runs_once_after_commit(app, factory, jobs):
    reseller = factory.reseller()
    with unit_of_work():
        event = record_event(reseller_id=reseller.id, type="test.deferred", data={})
        assert CALLS == [("inline", event.id)]  # in the transaction: only the inline one
    assert jobs.jobs == [(events.DISPATCH_JOB, (event.id,))]
    jobs.run_all()
    assert CALLS == [("inline", event.id), ("deferred", event.id)]
    assert db.session.get(Event, event.id).dispatched_at is not None
    # A second copy of the job (a retry, the sweeper) finds nothing owed.
    with unit_of_work():
        assert events.dispatch_deferred(event.id) is False
    assert CALLS.count(("deferred", event.id)) == 1


def test_rolled_back_event_owes_nothing(app, factory, jobs):
    reseller = factory.reseller()
    with pytest.raises(RuntimeError), unit_of_work():
        record_event(reseller_id=reseller.id, type="test.deferred", data={})
        raise RuntimeError("the change failed")
    assert jobs.jobs == []


def test_event_without_deferred_listeners_is_dispatched_at_once(app, factory, jobs):
    reseller = factory.reseller()
    with unit_of_work():
        event = record_event(reseller_id=reseller.id, type="test.plain", data={})
    assert event.dispatched_at is not None
    assert jobs.jobs == []


def test_failing_listener_leaves_the_event_owed_and_the_sweeper_requeues_it(app, factory,
                                                                            jobs):
    reseller = factory.reseller()
    with unit_of_work():
        event = record_event(reseller_id=reseller.id, type="test.deferred",
                             data={"explode": True})
    jobs.jobs.clear()  # the dispatch job is "lost"
    with pytest.raises(RuntimeError), unit_of_work():
        events.dispatch_deferred(event.id)
    assert db.session.get(Event, event.id).dispatched_at is None
    with unit_of_work():
        assert events.redispatch_pending() == 0  # too fresh: its own job may still run
    clock.set_offset(clock.offset() + timedelta(minutes=5))
    with unit_of_work():
        assert events.redispatch_pending() == 1
    assert jobs.jobs == [(events.DISPATCH_JOB, (event.id,))]
    pending = db.session.scalars(sa.select(Event.id).where(Event.dispatched_at.is_(None)))
    assert event.id in list(pending)


# -- batches: one dispatch job takes the other owed events too --------------------------------

QUEUED_BY_LISTENER: list[int] = []


@on_event("test.batched", deferred=True)
def _batched(event: Event) -> None:
    from reseller.core.jobs import enqueue

    # queues work first, then fails: the failed event's work must not be handed over
    enqueue("tests.integration.test_event_dispatch.note_queued", event.id)
    if event.data.get("explode"):
        raise RuntimeError("listener failed")
    CALLS.append(("batched", event.id))


def note_queued(event_id: int) -> None:
    QUEUED_BY_LISTENER.append(event_id)


def _record(reseller_id: int, **data) -> int:
    with unit_of_work():
        return record_event(reseller_id=reseller_id, type="test.batched", data=data).id


@pytest.mark.smoke
def test_one_dispatch_job_runs_the_other_owed_events_and_theirs_then_find_nothing(
        app, factory, jobs):
    reseller = factory.reseller()
    ids = [_record(reseller.id) for _ in range(3)]
    assert [args for _, args in jobs.jobs] == [(event_id,) for event_id in ids]
    jobs.jobs.clear()
    with unit_of_work():
        assert events.dispatch_deferred(ids[1]) is True
    assert sorted(event_id for kind, event_id in CALLS if kind == "batched") == ids
    for event_id in (ids[0], ids[2]):  # their own jobs, run later: nothing owed
        with unit_of_work():
            assert events.dispatch_deferred(event_id) is False
    assert [e for e in CALLS if e[0] == "batched"].__len__() == 3
    owed = db.session.scalars(sa.select(Event.id).where(Event.dispatched_at.is_(None),
                                                        Event.id.in_(ids)))
    assert list(owed) == []


def test_a_batch_marks_its_events_in_one_statement_and_takes_no_savepoints(app, factory,
                                                                          jobs):
    """Per event, a savepoint and a mark were three statements on every batch."""
    reseller = factory.reseller()
    ids = [_record(reseller.id) for _ in range(4)]
    statements: list[str] = []

    def note(conn, cursor, statement, *args):
        statements.append(statement.lstrip().upper())

    sa.event.listen(db.engine, "before_cursor_execute", note)
    try:
        with unit_of_work():  # the test harness's own savepoint, if it takes one
            db.session.execute(sa.select(1))
        harness = len([s for s in statements if "SAVEPOINT" in s])
        statements.clear()
        with unit_of_work():
            assert events.dispatch_deferred(ids[0]) is True
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", note)
    assert len([s for s in statements if "SAVEPOINT" in s]) == harness
    assert len([s for s in statements if s.startswith("UPDATE EVENTS")]) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event).where(
        Event.id.in_(ids), Event.dispatched_at.is_(None))) == 0


def test_a_batch_is_bounded(app, factory, jobs):
    reseller = factory.reseller()
    ids = [_record(reseller.id) for _ in range(events.BATCH + 3)]
    with unit_of_work():
        events.dispatch_deferred(ids[0])
    dispatched = set(db.session.scalars(sa.select(Event.id).where(
        Event.id.in_(ids), Event.dispatched_at.is_not(None))))
    assert dispatched == set(ids[:events.BATCH])


def test_a_failing_event_in_a_batch_fails_alone_and_drops_the_work_it_queued(app, factory,
                                                                             jobs):
    QUEUED_BY_LISTENER.clear()
    reseller = factory.reseller()
    good, bad, other = _record(reseller.id), _record(reseller.id, explode=True), \
        _record(reseller.id)
    jobs.jobs.clear()
    with unit_of_work():
        assert events.dispatch_deferred(other) is True
    dispatched = {event_id: at is not None for event_id, at in db.session.execute(
        sa.select(Event.id, Event.dispatched_at).where(Event.id.in_([good, bad, other])))}
    assert dispatched == {good: True, bad: False, other: True}
    # the failed event's queued job went with the rolled-back go; the others' were handed over
    assert sorted(args[0] for path, args in jobs.jobs if path.endswith("note_queued")) == \
        sorted([good, other])
    # its own job still fails as before (and leaves it owed for the sweeper)
    with pytest.raises(RuntimeError), unit_of_work():
        events.dispatch_deferred(bad)
    assert db.session.get(Event, bad).dispatched_at is None
    QUEUED_BY_LISTENER.clear()


def test_an_event_that_failed_in_a_batch_is_left_to_its_own_job_afterwards(app, factory,
                                                                           jobs):
    """An event that always fails is not tried by every later batch (nor holds its place)."""
    reseller = factory.reseller()
    bad = _record(reseller.id, explode=True)
    first = _record(reseller.id)
    QUEUED_BY_LISTENER.clear()
    with unit_of_work():
        events.dispatch_deferred(first)  # tries ``bad``: it fails, and the batch goes again without it
    assert bad in events._FAILED_IN_BATCH
    later = [_record(reseller.id) for _ in range(events.BATCH - 1)]
    jobs.jobs.clear()
    with unit_of_work():
        events.dispatch_deferred(later[0])
    # ``bad`` (the oldest owed) was not taken again: the batch is all of the later ones,
    # and ``bad`` queued nothing this time
    assert all(db.session.get(Event, event_id).dispatched_at for event_id in later)
    assert [args for path, args in jobs.jobs if path.endswith("note_queued")] == \
        [(event_id,) for event_id in later]


def test_the_job_s_own_event_failing_rolls_the_whole_batch_back(app, factory, jobs):
    reseller = factory.reseller()
    bad, good = _record(reseller.id, explode=True), _record(reseller.id)
    with pytest.raises(RuntimeError), unit_of_work():
        events.dispatch_deferred(bad)
    assert db.session.get(Event, good).dispatched_at is None  # its own job runs it


@pytest.mark.postgres_only
def test_with_rq_the_batched_events_jobs_are_withdrawn_from_the_queue_and_the_outbox(
        app, committed_db, redis_server):
    """The point of a batch: the other events' RQ jobs never run (nor cost a worker)."""
    from redis import Redis
    from rq import Queue

    from reseller import worker
    from reseller.accounts.models import Reseller
    from reseller.core import jobs as jobs_module
    from reseller.core.pending import PendingJob
    from reseller.worker import InProcessWorker

    original = app.extensions["tunnus.jobs"]
    runner = app.extensions["tunnus.jobs"] = jobs_module.RQRunner(app, redis_server.url)
    connection = Redis.from_url(redis_server.url)
    connection.flushdb()
    try:
        with app.app_context():
            reseller = Reseller(company_name="Batch Oy", country="FI", business_id="2464491-9",
                                contact_email="b@example.test", language="fi")
            with unit_of_work():
                db.session.add(reseller)
            ids = [_record(reseller.id) for _ in range(4)]
            queue = Queue("default", connection=connection)
            queued = queue.get_job_ids()
            assert len(queued) == 4
            assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingJob)) == 4
            worker.use_app(app)
            with counting.jobs_run() as ran:
                assert InProcessWorker([queue], connection=connection).work(burst=True)
            db.session.remove()
            assert ran.count(events.DISPATCH_JOB) == 1  # the other three were withdrawn
            assert sorted(e for kind, e in CALLS if kind == "batched") == ids
            assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingJob)
                                     .where(PendingJob.path == events.DISPATCH_JOB)) == 0
            assert queue.get_job_ids() == []
            assert not any(connection.exists(f"rq:job:{job_id}") for job_id in queued[1:])
    finally:
        app.extensions["tunnus.jobs"] = original
        worker.use_app(None)
        runner.connection.close()


# -- batch listeners (``on_events``): one call for the batch's events of their types ---------

BATCH_CALLS: list[list[int]] = []


@events.on_events("test.together", "test.together_too")
def _together(owed: list[Event]) -> None:
    from reseller.core.jobs import enqueue

    enqueue("tests.integration.test_event_dispatch.note_queued", owed[0].id)
    if any(event.data.get("explode") for event in owed):
        raise RuntimeError("batch listener failed")
    BATCH_CALLS.append([event.id for event in owed])


@on_event("test.together", deferred=True)
def _one_of_together(event: Event) -> None:
    CALLS.append(("one", event.id))


def _together_event(reseller_id: int, type: str = "test.together", **data) -> int:
    with unit_of_work():
        return record_event(reseller_id=reseller_id, type=type, data=data).id


@pytest.fixture
def _batch_calls():
    BATCH_CALLS.clear()
    QUEUED_BY_LISTENER.clear()
    yield BATCH_CALLS
    BATCH_CALLS.clear()


def test_a_batch_listener_gets_the_batch_s_events_of_its_types_in_one_call(
        app, factory, jobs, _batch_calls):
    reseller = factory.reseller()
    first = _together_event(reseller.id)
    other = _record(reseller.id)  # another type, in the same batch
    second = _together_event(reseller.id, type="test.together_too")
    third = _together_event(reseller.id)
    assert db.session.get(Event, first).dispatched_at is None  # a batch listener is owed
    with unit_of_work():
        assert events.dispatch_deferred(second) is True
    assert _batch_calls == [[first, second, third]]  # once, in id order
    # the per-event listeners still run per event, and the other type's too
    assert [e for e in CALLS if e[0] == "one"] == [("one", first), ("one", third)]
    assert ("batched", other) in CALLS
    assert all(db.session.get(Event, e).dispatched_at for e in (first, other, second, third))


def test_a_batch_listener_alone_in_its_batch_gets_a_list_of_one(app, factory, jobs,
                                                                _batch_calls):
    reseller = factory.reseller()
    only = _together_event(reseller.id)
    with unit_of_work():
        assert events.dispatch_deferred(only) is True
    assert _batch_calls == [[only]]


def test_a_batch_listener_failing_for_several_runs_them_one_by_one_and_charges_the_cause(
        app, factory, jobs, _batch_calls):
    reseller = factory.reseller()
    good = _together_event(reseller.id)
    bad = _together_event(reseller.id, explode=True)
    last = _together_event(reseller.id)
    jobs.jobs.clear()
    with unit_of_work():
        assert events.dispatch_deferred(last) is True
    # together they failed; one by one only ``bad`` did (that go, [good] done, was rolled
    # back too), and the batch went once more without it, left to its own job
    assert _batch_calls == [[good], [good], [last]]
    dispatched = {e: db.session.get(Event, e).dispatched_at is not None
                  for e in (good, bad, last)}
    assert dispatched == {good: True, bad: False, last: True}
    assert bad in events._FAILED_IN_BATCH
    # the work queued by the failed go (together, and ``bad`` alone) was dropped with it
    assert sorted(args[0] for path, args in jobs.jobs if path.endswith("note_queued")) == \
        [good, last]
    with pytest.raises(RuntimeError), unit_of_work():
        events.dispatch_deferred(bad)  # its own job fails as before
    assert db.session.get(Event, bad).dispatched_at is None


SUBJECT_LOG: list[tuple[str, object]] = []


@events.on_events("test.about", subject=lambda event: event.data.get("thing"))
def _about(owed: list[Event]) -> None:
    SUBJECT_LOG.append(("batch", [event.id for event in owed]))


@on_event("test.also_about", deferred=True)
def _also_about(event: Event) -> None:
    SUBJECT_LOG.append(("other", event.id))


@pytest.mark.parametrize("other_thing", ["x", "w"])
def test_a_batch_listener_is_handed_its_events_before_another_event_about_the_same_subject(
        app, factory, jobs, other_thing):
    """A renewal watch must be in place before the same domain's deletion unwatches it:
    the events gathered for a batch listener go to it before the listeners of an event of
    another type about one of their subjects run; otherwise all at the end."""
    SUBJECT_LOG.clear()
    reseller = factory.reseller()
    a1 = _together_event(reseller.id, type="test.about", thing="x")
    a2 = _together_event(reseller.id, type="test.about", thing="y")
    b1 = _together_event(reseller.id, type="test.also_about", thing=other_thing)
    a3 = _together_event(reseller.id, type="test.about", thing="z")
    with unit_of_work():
        assert events.dispatch_deferred(a1) is True
    if other_thing == "x":
        assert SUBJECT_LOG == [("batch", [a1, a2]), ("other", b1), ("batch", [a3])]
    else:
        assert SUBJECT_LOG == [("other", b1), ("batch", [a1, a2, a3])]
    SUBJECT_LOG.clear()
