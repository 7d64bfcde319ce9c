"""Jobs owed: the durable half of ``enqueue`` when jobs run in RQ workers.

A job queued by a unit of work is a ``pending_jobs`` row written in that same transaction,
and it is deleted by the transaction that does the job. Handing it to Redis right after
the commit is only the fast path: when Redis is down then (or the process dies between
the commit and the hand-over, or a worker is killed in the middle of the job), the row is
still there and the relay (``relay``, run by every ``flask worker`` and the scheduler)
hands it over again, so a commit never depends on Redis and no work is lost.

The relay judges a row by the RQ job that carries it: queued, scheduled or running in a
live worker is fine; missing, or started in a worker whose heartbeat stopped, or failed
with retries left, is handed over again (under a fresh RQ job id). A run that finds its
row gone does nothing: the work was done by an earlier copy.

Timestamps here are real time, never the sandbox clock: they time processes, not business.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from reseller.core.db import is_sqlite, unit_of_work
from reseller.core.extensions import db
from reseller.core.types import UTCDateTime

log = logging.getLogger(__name__)

# A row not yet seen by the relay is left alone this long (the after-commit hand-over and
# follow-ups in the same worker normally take milliseconds).
GRACE = timedelta(seconds=10)
# A row handed over and seen queued or running is looked at again after this long.
RECHECK = timedelta(seconds=15)
BATCH = 200


def real_now() -> datetime:
    return datetime.now(UTC)


class PendingJob(db.Model):
    """One job a committed unit of work owes; deleted with the work's own commit."""

    __tablename__ = "pending_jobs"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    path: Mapped[str] = mapped_column(sa.String(255))
    args: Mapped[list] = mapped_column(sa.JSON)
    queue: Mapped[str] = mapped_column(sa.String(16))
    retries: Mapped[int] = mapped_column(sa.Integer)
    request_id: Mapped[str | None] = mapped_column(sa.String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    handed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handovers: Mapped[int] = mapped_column(sa.Integer, default=0)
    rq_job_id: Mapped[str | None] = mapped_column(sa.String(64))
    failures: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def dead(self) -> bool:
        """Every attempt failed: a human decides (console: retry or discard)."""
        return self.failures > self.retries


def owe(path: str, args: tuple, *, retries: int, delay: int, queue: str,
        request_id: str | None) -> str:
    """Record the job in the current transaction; its id (also RQ's ``meta["pending"]``)."""
    now = real_now()
    job_id = uuid.uuid4().hex
    db.session.add(PendingJob(id=job_id, path=path, args=list(args), queue=queue,
                              retries=retries, request_id=request_id, created_at=now,
                              not_before=now + timedelta(seconds=delay), handovers=0,
                              failures=0))
    return job_id


def is_owed(job_id: str) -> bool:
    return job_id in owed_among([job_id])


def settle(job_id: str) -> None:
    """Done: delete the row in the job's own transaction (a rollback keeps it owed)."""
    settle_many([job_id])


# Built once (every job runs both): see BUILT ONCE in ``reseller.core.db``.
_OWED = sa.select(PendingJob.id).where(PendingJob.id.in_(sa.bindparam("ids", expanding=True)))
_SETTLE = (sa.delete(PendingJob).where(PendingJob.id.in_(sa.bindparam("ids", expanding=True)))
           .execution_options(synchronize_session=False))


def owed_among(job_ids: list[str]) -> set[str]:
    """Which of these jobs are still owed (one statement for a batch of follow-ups)."""
    if not job_ids:
        return set()
    return set(db.session.scalars(_OWED, {"ids": list(job_ids)}))


def settle_many(job_ids: set[str] | list[str]) -> None:
    """``settle`` for a batch, in one statement."""
    if job_ids:
        db.session.execute(_SETTLE, {"ids": list(job_ids)})


def settle_matching(path: str, done: list[tuple]) -> list[tuple[str, str]]:
    """Settle the owed ``path`` jobs whose arguments are in ``done`` (another job did their
    work in this transaction): their RQ ids and queues, to take them out of Redis.

    Matched on the stored JSON text, which ``owe`` wrote with the same serialiser."""
    wanted = [json.dumps(list(args)) for args in done]
    text = sa.cast(PendingJob.args, sa.Text)
    rows = db.session.execute(
        sa.delete(PendingJob).where(PendingJob.path == path, text.in_(wanted))
        .returning(PendingJob.id, PendingJob.handovers, PendingJob.queue)
        .execution_options(synchronize_session=False)).all()
    return [(rq_job_id(row.id, row.handovers), row.queue) for row in rows]


def mark_taking(path: str, args: tuple) -> tuple[str, str, str] | None:
    """The running job is about to take the owed ``path(*args)`` job out of its queue and
    do it (``jobs.take_waiting``): (row id, RQ job id, queue) of its oldest row, marked
    as just handed over so that the relay, which would find its RQ job gone, leaves it to
    the taker for ``RECHECK`` (and hands it over again if the taker dies). None: not owed.
    Matched on the stored JSON text, as ``settle_matching``."""
    row = db.session.execute(_MARK_TAKING, {"job_path": path, "job_args": json.dumps(list(args)),
                                            "taken_at": real_now()}).first()
    return None if row is None else (row.id, rq_job_id(row.id, row.handovers), row.queue)


# Built once (an order taken over asks it): one statement, the oldest matching row marked.
_MARK_TAKING = (
    sa.update(PendingJob)
    .where(PendingJob.id == sa.select(PendingJob.id).where(
        PendingJob.path == sa.bindparam("job_path"),
        sa.cast(PendingJob.args, sa.Text) == sa.bindparam("job_args"))
        .order_by(PendingJob.created_at).limit(1).scalar_subquery())
    .values(handed_at=sa.bindparam("taken_at", type_=PendingJob.handed_at.type))
    .returning(PendingJob.id, PendingJob.handovers, PendingJob.queue)
    .execution_options(synchronize_session=False))


def give_back(job_id: str, error: BaseException, *, count: bool) -> None:
    """A job taken out of its queue (``mark_taking``) failed in the taker: it is owed as
    before, and the relay's next round hands it to Redis again (its RQ job is gone).
    ``count``: the failure spends one of its attempts (an outage does not)."""
    _record(job_id, {"handed_at": None, **(_failure(error) if count else {})})


def note_failure(job_id: str, error: BaseException) -> None:
    """Count a failed attempt (in its own transaction: the job's rolled back)."""
    _record(job_id, _failure(error))


def _failure(error: BaseException) -> dict[str, Any]:
    return {"failures": PendingJob.failures + 1, "failed_at": real_now(),
            "last_error": f"{type(error).__name__}: {error}"[:2000]}


def _record(job_id: str, values: dict[str, Any]) -> None:
    """Write what became of a job to its row, in a transaction of its own."""
    try:
        with unit_of_work():
            db.session.execute(sa.update(PendingJob).where(PendingJob.id == job_id)
                               .values(**values).execution_options(synchronize_session=False))
    except Exception:  # the database itself may be what failed; the row stays owed
        log.warning("could not record the failure of job %s", job_id, exc_info=True)


# -- the relay ----------------------------------------------------------------------------

def relay(hand_over: Any, job_state: Any, *, now: datetime | None = None,
          limit: int = BATCH) -> int:
    """Hand every row that lost its RQ job to Redis again; the number handed over.

    ``job_state(rq_job_id)`` says what Redis knows of a job: ``"missing"``, ``"waiting"``
    (queued, scheduled, deferred, or running in a live worker), ``"lost"`` (running in a
    dead worker) or ``"failed"``. ``hand_over(row)`` queues the row's job under a fresh id
    and returns it. Rows are locked ``SKIP LOCKED``: any number of relays may run.
    """
    now = now or real_now()
    handed = 0
    with unit_of_work():
        rows = db.session.scalars(_due(now, limit)).all()
        for row in rows:
            state = job_state(row.rq_job_id or _first_rq_id(row))
            if state == "waiting":
                row.handed_at = now
                continue
            if state == "failed" and row.dead:
                continue  # the console's "failed jobs": a human retries or discards it
            row.handovers += 1
            row.rq_job_id = hand_over(row)
            row.handed_at = now
            handed += 1
            log.warning("relayed job %s %s (was %s, handover %d)", row.id, row.path, state,
                        row.handovers)
    return handed


def _due(now: datetime, limit: int) -> sa.Select:
    stmt = (sa.select(PendingJob)
            .where(PendingJob.failures <= PendingJob.retries,
                   PendingJob.not_before <= now - GRACE,
                   sa.or_(sa.and_(PendingJob.handed_at.is_(None),
                                  PendingJob.created_at <= now - GRACE),
                          PendingJob.handed_at <= now - RECHECK))
            .order_by(PendingJob.created_at).limit(limit))
    # SQLite serialises writers already (BEGIN IMMEDIATE); PostgreSQL relays skip each
    # other's rows instead of waiting for them.
    return stmt if is_sqlite() else stmt.with_for_update(skip_locked=True)


def _first_rq_id(row: PendingJob) -> str:
    return rq_job_id(row.id, 0)


def rq_job_id(pending_id: str, handover: int) -> str:
    return f"tunnus-{pending_id}-{handover}"


# -- what the console and the metrics read -------------------------------------------------

UNRELAYED_AFTER = timedelta(seconds=60)


def backlog(now: datetime | None = None) -> dict[str, Any]:
    """Rows owed, the oldest one's age in seconds, dead (exhausted) ones, and unrelayed
    ones: due for a minute and never looked at by a relay (no worker or scheduler runs)."""
    now = now or real_now()
    count, oldest = db.session.execute(
        sa.select(sa.func.count(), sa.func.min(PendingJob.created_at))).one()
    dead = db.session.scalar(sa.select(sa.func.count()).select_from(PendingJob)
                             .where(PendingJob.failures > PendingJob.retries)) or 0
    unrelayed = db.session.scalar(
        sa.select(sa.func.count()).select_from(PendingJob)
        .where(PendingJob.handed_at.is_(None), PendingJob.not_before <= now - UNRELAYED_AFTER,
               PendingJob.failures <= PendingJob.retries)) or 0
    age = (now - oldest).total_seconds() if oldest is not None else 0.0
    return {"owed": count, "oldest_age_s": round(max(age, 0.0), 1), "dead": dead,
            "unrelayed": unrelayed}


def dead_jobs(limit: int = 100) -> list[PendingJob]:
    return list(db.session.scalars(
        sa.select(PendingJob).where(PendingJob.failures > PendingJob.retries)
        .order_by(PendingJob.failed_at.desc()).limit(limit)))


def retry_dead(job_id: str) -> bool:
    """A human asks for another round of attempts: the relay hands it over again."""
    row = db.session.get(PendingJob, job_id)
    if row is None or not row.dead:
        return False
    row.failures, row.handed_at = 0, None
    row.created_at = real_now() - GRACE  # due at the relay's next pass
    return True


def discard_dead(job_id: str) -> bool:
    row = db.session.get(PendingJob, job_id)
    if row is None or not row.dead:
        return False
    db.session.delete(row)
    return True
