"""The event log: what happened to a reseller's things, in order, for feeds and webhooks.

Any package (``wallet`` and ``whitelabel`` included) records events with
``record_event`` in the same transaction as the change; the API's event feed reads them
and webhook delivery fans them out after commit.

Listeners registered with ``on_event`` run inside the recording transaction: what they
write commits with the change or not at all. Listeners registered with
``on_event(..., deferred=True)`` (registrant emails, renewal watches: work the change
does not need to be complete) run in a job after the commit instead, so they stay off the
path a reseller waits on. The event row itself is the durable record that they are owed
(a transactional outbox): ``dispatched_at`` stays empty until they have all run in one
unit of work, the job is queued after commit, and ``redispatch_pending`` picks up any
event whose job was lost, so they run exactly once as far as the database is concerned.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from reseller.core.clock import clock
from reseller.core.db import insert_all_unless_exist, is_sqlite, lock_row, shared_reads
from reseller.core.extensions import db
from reseller.core.jobs import coalescing, enqueue, withdraw
from reseller.core.types import UTCDateTime

log = logging.getLogger(__name__)

DISPATCH_JOB = "reseller.core.events.dispatch_deferred"


class Event(db.Model):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    # Null for the operator's own events (e.g. a sign-in address locked): in no feed.
    reseller_id: Mapped[int | None] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    type: Mapped[str] = mapped_column(sa.String(60), index=True)
    # Unique per event source, so recording the same happening twice is a no-op.
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: clock.now())
    # Null while deferred listeners are owed a run (see the module docstring).
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # PostgreSQL: the writing transaction's id, set by the column default. Ids are taken
    # at insert and transactions commit in any order, so the feed shows an event only once
    # every transaction that could still add a lower id has ended (events.services).
    # Null on SQLite, where writers are serialised and ids are in commit order.
    txid: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True,
                                             server_default=sa.FetchedValue())

    __table_args__ = (sa.Index("ix_events_feed", "reseller_id", "txid", "id"),
                      sa.Index("ix_events_undispatched", "created_at",
                               postgresql_where=sa.text("dispatched_at IS NULL"),
                               sqlite_where=sa.text("dispatched_at IS NULL")),)


Listener = Callable[[Event], None]
BatchListener = Callable[[list[Event]], None]


@dataclass(frozen=True, eq=False)
class _BatchForm:
    """A batch listener (``on_events``), and what an event is about to it."""
    listener: BatchListener
    subject: Callable[[Event], Any] | None


_LISTENERS: dict[str, list[Listener]] = {}
_DEFERRED: dict[str, list[Listener]] = {}
_DEFERRED_BATCH: dict[str, list[_BatchForm]] = {}


def on_event(event_type: str, *, deferred: bool = False) -> Callable:
    """Register ``listener(event)`` for ``event_type`` (``"*"`` for every event); with
    ``deferred`` it runs in a job after the recording transaction commits."""

    def register(listener: Listener) -> Listener:
        (_DEFERRED if deferred else _LISTENERS).setdefault(event_type, []).append(listener)
        return listener

    return register


def on_events(*event_types: str, subject: Callable[[Event], Any] | None = None) -> Callable:
    """Register ``listener(events)``, deferred, in batch form: a dispatch job hands it the
    events of these types in its batch together (in id order), so that it reads and writes
    for them in a few statements rather than a few per event (a zone and a welcome mail
    for every registration in a burst of orders).

    ``subject(event)``: what an event is about (a domain's name). When another event of the
    batch about the same subject, of a type the listener does not take, falls between its
    events, the listener is handed those before it first, so that the other event's
    listeners see what it did (a renewal watch before the domain's deletion unwatches it).
    Without ``subject`` its events are independent of every other listener's.

    Its contract: calling it with a list leaves what calling it with each event alone, in
    id order, would leave. If it raises for a list of several events, the dispatch is
    rolled back and run again with one event per call, so that a failure is charged to the
    event that caused it (``dispatch_deferred``)."""

    def register(listener: BatchListener) -> BatchListener:
        form = _BatchForm(listener, subject)
        for event_type in event_types:
            _DEFERRED_BATCH.setdefault(event_type, []).append(form)
        return listener

    return register


def _deferred_for(event_type: str) -> list[Listener]:
    return _DEFERRED.get(event_type, []) + _DEFERRED.get("*", [])


def _owes_deferred(event_type: str) -> bool:
    return bool(_deferred_for(event_type) or _DEFERRED_BATCH.get(event_type))


def record_event(*, reseller_id: int | None, type: str, data: dict[str, Any],
                 dedupe_key: str | None = None) -> Event:
    """Append an event (once per ``dedupe_key``) and notify listeners."""
    return record_events({"reseller_id": reseller_id, "type": type, "data": data,
                          "dedupe_key": dedupe_key})[0]


def record_events(*happenings: dict[str, Any]) -> list[Event]:
    """``record_event`` for several happenings of one change (each a dict of its keyword
    arguments) in one INSERT: ids, listeners and the result follow the order given.

    One statement: insert unless the happening is already recorded (a concurrent or
    repeated recording then returns the first one and notifies nobody again)."""
    now = clock.now()
    rows = [{"reseller_id": happening["reseller_id"], "type": happening["type"],
             "data": happening["data"],
             "dedupe_key": happening.get("dedupe_key") or f"{happening['type']}:{uuid.uuid4()}",
             "created_at": now,
             "dispatched_at": None if _owes_deferred(happening["type"]) else now}
            for happening in happenings]
    inserted = {event.dedupe_key: event for event in insert_all_unless_exist(Event, rows)}
    recorded = []
    for row in rows:
        event = inserted.pop(row["dedupe_key"], None)  # a key given twice: the first one
        if event is None:
            recorded.append(db.session.scalar(
                sa.select(Event).where(Event.dedupe_key == row["dedupe_key"])))
            continue
        for listener in _LISTENERS.get(event.type, []) + _LISTENERS.get("*", []):
            listener(event)
        if event.dispatched_at is None:
            enqueue(DISPATCH_JOB, event.id)
        recorded.append(event)
    return recorded


# Events one dispatch job takes: its own and up to this many more that are owed. An RQ job
# costs a worker ~3.5 ms before any listener runs, as much as a registration's listeners
# and more than most; under a burst (orders first, their mail and zones after) the owed
# events wait together, and one job doing several of them in one transaction spares the
# others' jobs, their ``pending_jobs`` rows and the reads they share (``shared_reads``).
BATCH = 8
# A batch of orders records an event each: their dispatch jobs are pushed one per batch
# (``jobs.pushes_held``), each given the others to do first.
coalescing(DISPATCH_JOB, BATCH)
# Events whose listeners failed in another job's batch, left to their own jobs from then on
# in this process (at most the last ``_FAILED_KEPT``): an event that always fails would
# otherwise be tried, and logged, by every batch, and hold a batch's place.
_FAILED_IN_BATCH: dict[int, None] = {}
_FAILED_KEPT = 1000


class _OtherFailed(Exception):
    """Another event's listener raised inside a batch (``dispatch_deferred``)."""

    def __init__(self, event_id: int) -> None:
        super().__init__(event_id)
        self.event_id = event_id


class _BatchFailed(Exception):
    """A batch listener (``on_events``) raised for several events at once: which one is
    not known (``dispatch_deferred`` runs the batch again, one event per call)."""


def dispatch_deferred(event_id: int, *also: int) -> bool:
    """Job: run ``event_id``'s deferred listeners once (False: nothing was owed), and those
    of up to ``BATCH - 1`` other owed events while at it: first those of ``also`` still
    owed (events whose own jobs were held back for this one, ``jobs.pushes_held``), then
    the oldest.

    The row lock makes a second copy of the job wait and then find the work done; a
    listener of ``event_id`` that raises rolls the whole dispatch back for the job's retry.
    Another event's listener that raises costs the batch a second go: the transaction is
    rolled back (with the work the batch queued) and the batch runs again without that
    event, which stays owed for its own job (``_FAILED_IN_BATCH``). A failure is rare, so
    this is cheaper than a savepoint per event, two statements each on every batch. The
    events done are marked in one statement, and the other events' jobs are withdrawn
    (``jobs.withdraw``) with this commit."""
    queued = len(db.session.info.get("after_commit", []))
    one_by_one = False
    while True:
        event = lock_row(Event, event_id)
        if event is None or event.dispatched_at is not None:
            return False
        others = _owed_among(also[:BATCH - 1])
        others += _other_owed([event_id, *also], BATCH - 1 - len(others))
        batch = sorted([event, *others], key=lambda e: e.id)
        try:
            with shared_reads():
                _run_batch(batch, event, one_by_one=one_by_one)
            break
        except _BatchFailed as failed:
            log.warning("a batch listener failed for events %s together; running them one by "
                        "one", [owed.id for owed in batch], exc_info=failed.__cause__)
            one_by_one = True
            db.session.rollback()
            del db.session.info.get("after_commit", [])[queued:]
        except _OtherFailed as failed:
            log.warning("deferred listeners of event %s failed in a batch; its own job runs "
                        "them again", failed.event_id, exc_info=failed.__cause__)
            _FAILED_IN_BATCH[failed.event_id] = None
            while len(_FAILED_IN_BATCH) > _FAILED_KEPT:
                del _FAILED_IN_BATCH[next(iter(_FAILED_IN_BATCH))]
            db.session.rollback()
            del db.session.info.get("after_commit", [])[queued:]
    now = clock.now()
    db.session.execute(sa.update(Event).where(Event.id.in_([e.id for e in batch]))
                       .values(dispatched_at=now).execution_options(synchronize_session=False))
    for owed in batch:
        set_committed_value(owed, "dispatched_at", now)
    withdraw(DISPATCH_JOB, [(owed.id,) for owed in batch if owed is not event])
    return True


def _run_batch(batch: list[Event], event: Event, *, one_by_one: bool) -> None:
    """Each event's listeners, in id order. A batch listener's events are gathered and
    handed to it together when the batch ends, or earlier, before the listeners of an event
    of another type about the same subject (``on_events``); ``one_by_one``: each alone, at
    its place."""
    gathered: dict[_BatchForm, list[Event]] = {}

    def hand(form: _BatchForm) -> None:
        events = gathered.pop(form, [])
        if len(events) == 1:
            _run_listeners(events[0], own=events[0] is event,
                           listeners=[lambda one: form.listener([one])])
        elif events:
            try:
                form.listener(events)
            except Exception as error:
                raise _BatchFailed() from error

    for owed in batch:
        forms = _DEFERRED_BATCH.get(owed.type, [])
        for form, events in list(gathered.items()):
            if form.subject is not None and form not in forms and \
                    form.subject(owed) in {form.subject(e) for e in events}:
                hand(form)
        _run_listeners(owed, own=owed is event)
        for form in forms:
            gathered.setdefault(form, []).append(owed)
            if one_by_one:
                hand(form)
    for form in list(gathered):
        hand(form)


def _run_listeners(event: Event, *, own: bool, listeners: list[Listener] | None = None) -> None:
    try:
        for listener in _deferred_for(event.type) if listeners is None else listeners:
            listener(event)
    except Exception as error:
        if own:
            raise
        raise _OtherFailed(event.id) from error


def _other_owed(not_these: list[int], limit: int) -> list[Event]:
    """Owed events nobody is dispatching now (PostgreSQL: locked ``SKIP LOCKED``; SQLite
    serialises writers already), oldest first, but for ``not_these``."""
    if limit <= 0:
        return []
    stmt = (sa.select(Event).where(Event.dispatched_at.is_(None), Event.id.not_in(not_these))
            .order_by(Event.created_at, Event.id).limit(limit))  # ix_events_undispatched
    return _owed(stmt)


def _owed_among(ids: tuple[int, ...]) -> list[Event]:
    """Those of the events ``ids`` still owed and nobody is dispatching now."""
    if not ids:
        return []
    return _owed(sa.select(Event).where(Event.dispatched_at.is_(None), Event.id.in_(ids)))


def _owed(stmt: sa.Select) -> list[Event]:
    if _FAILED_IN_BATCH:
        stmt = stmt.where(Event.id.not_in(list(_FAILED_IN_BATCH)))
    if not is_sqlite():
        stmt = stmt.with_for_update(skip_locked=True)
    return list(db.session.scalars(stmt))


def redispatch_pending(*, older_than_seconds: int = 120, limit: int = 500) -> int:
    """Queue dispatch again for events whose job was lost (e.g. a crash right after
    commit). Safe beside a running dispatch: ``dispatch_deferred`` runs once per event."""
    cutoff = clock.now() - timedelta(seconds=older_than_seconds)
    ids = list(db.session.scalars(sa.select(Event.id).where(
        Event.dispatched_at.is_(None), Event.created_at <= cutoff)
        .order_by(Event.id).limit(limit)))
    for event_id in ids:
        enqueue(DISPATCH_JOB, event_id)
    return len(ids)
