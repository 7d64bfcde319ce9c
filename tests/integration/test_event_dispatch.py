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
