"""Background jobs: enqueued only after commit, run in a unit of work, safe to run twice.

Jobs are named by dotted path (``"reseller.domains.tasks.submit_order"``) and take plain
ids. Where they run is chosen by config:

* ``rq``      Redis + ``rq worker`` processes (production, and the PostgreSQL test run);
* ``thread``  an in-process worker thread (the embedded default, ``make run``);
* ``eager``   run right after the commit, in the caller's thread (simple scripts);
* ``collect`` keep them in a list for tests to inspect and run by hand.

Jobs a reseller is waiting on (an order's registry call) go to the ``urgent`` queue,
which workers always empty before ``default``: a backlog of emails, zone publishing or a
month-end run never delays a registration.

With RQ a queued job is also a ``pending_jobs`` row written in the queuing transaction
and deleted by the transaction that does the job (``reseller.core.pending``): handing it
to Redis after the commit is the fast path, and when that fails (Redis down) or the job
is lost (a killed worker) the relay in every worker and the scheduler hands it over again.

RQ workers run jobs through ``reseller.worker``, which builds the app once per process;
this module never imports the factory. Periodic work is declared with ``@periodic`` (a
feature's ``init_app`` imports its ``tasks`` module) and fired when due by the business
clock (``reseller.core.schedule``; the sandbox clock in sandbox mode, so the time machine
fires month-end and renewals) by ``flask scheduler`` or, in the embedded default, an
in-process scheduler thread.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import itertools
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app
from werkzeug.utils import import_string

from reseller.core import liveness, pending, schedule
from reseller.core.clock import clock
from reseller.core.db import after_commit, is_sqlite, unit_of_work
from reseller.core.logs import current_request_id, reset_request_id, use_request_id
from reseller.core.pending import rq_job_id

log = logging.getLogger(__name__)

RETRY_INTERVALS = [10, 60, 300, 900, 3600]
QUEUES = ("urgent", "default")  # workers take from the first non-empty one


@dataclass(frozen=True)
class Periodic:
    name: str
    path: str
    cron: str
    description: str


PERIODIC: dict[str, Periodic] = {}


def periodic(name: str, cron: str, description: str = "") -> Callable:
    """Declare a module-level function as periodic work (it must be idempotent)."""

    def register(func: Callable) -> Callable:
        path = f"{func.__module__}.{func.__name__}"
        PERIODIC[name] = Periodic(name, path, cron, description or (func.__doc__ or "").strip())
        return func

    return register


def enqueue(path: str, *args: Any, retries: int = 5, delay: int = 0,
            urgent: bool = False) -> None:
    """Queue ``path(*args)`` to run once the current transaction commits; ``urgent`` jobs
    run before any waiting ordinary ones.

    With RQ the job is also owed in the transaction itself (``reseller.core.pending``):
    if Redis is down at the commit, the commit still stands and the relay hands the job
    over later."""
    runner = current_app.extensions["tunnus.jobs"]
    queue = QUEUES[0] if urgent else QUEUES[1]
    if getattr(runner, "durable", False):
        owed = pending.owe(path, args, retries=retries, delay=delay, queue=queue,
                           request_id=current_request_id())
        after_commit(functools.partial(runner.submit, pending_id=owed),
                     path, args, retries, delay, queue)
        return
    after_commit(runner.submit, path, args, retries, delay, queue)


def withdraw(path: str, done: list[tuple]) -> int:
    """The running job has done the work of the owed ``path(*args)`` jobs for each ``args``
    in ``done``: settle their ``pending_jobs`` rows in its transaction, and once it commits
    take their RQ jobs out of the queue (each would cost a worker an RQ round trip to find
    nothing owed). Without RQ there is nothing to withdraw: those jobs find the work done.
    A withdrawn job that is already running finds its row gone and does nothing."""
    runner = current_app.extensions["tunnus.jobs"]
    if not done or not getattr(runner, "durable", False):
        return 0
    rows = pending.settle_matching(path, done)
    if rows:
        after_commit(runner.unqueue, rows)
    return len(rows)


# Jobs are stored by dotted path (in Redis, and in RQ's cron registrations): a job function
# that moved keeps its old path working through this map, old path -> new path.
MOVED: dict[str, str] = {
    "reseller.api.idempotency.purge_idempotency_keys":
        "reseller.core.web.idempotency.purge_idempotency_keys",
    # The wallet's web half left reseller/billing (wallet.web); its invoice jobs went to
    # wallet.invoices.invoicing.
    "reseller.billing.invoicing.month_end_job": "wallet.invoices.invoicing.month_end_job",
    "reseller.billing.invoicing.invoice_reseller_month":
        "wallet.invoices.invoicing.invoice_reseller_month",
    "reseller.billing.invoicing.render_invoice_pdf":
        "wallet.invoices.invoicing.render_invoice_pdf",
    "reseller.billing.invoicing.send_overdue_reminders":
        "wallet.invoices.invoicing.send_overdue_reminders",
    "reseller.billing.cards.autopay": "wallet.web.cards.autopay",
    "reseller.billing.cards.charge": "wallet.web.cards.charge",
    "reseller.billing.cards.delete_at_provider": "wallet.web.cards.delete_at_provider",
}


def run(path: str, *args: Any, pending_id: str | None = None) -> Any:
    """Run one job in its own unit of work (inside an app context).

    A job owed by a ``pending_jobs`` row settles it in the same transaction as its work
    (the last one, for jobs that commit in steps: ``settle_in_this_unit``); finding the
    row gone, it does nothing: an earlier copy of the job did the work."""
    func = import_string(MOVED.get(path, path))
    running = _Running(pending_id)
    token = _RUNNING.set(running)
    try:
        with unit_of_work():
            if pending_id is not None and not pending.is_owed(pending_id):
                log.info("job %s (%s) was already done", path, pending_id)
                return None
            result = func(*args)
            if pending_id is not None and not running.settled:
                pending.settle(pending_id)
            return result
    finally:
        _RUNNING.reset(token)


@dataclass
class _Running:
    owed: str | None
    settled: bool = False


_RUNNING: contextvars.ContextVar[_Running | None] = contextvars.ContextVar(
    "tunnus_running_job", default=None)


def settle_in_this_unit(taken: str | None = None) -> None:
    """For a job that commits in steps (its registry call between two units of work):
    settle the running job's ``pending_jobs`` row in the unit of work now open, which
    must be the job's last. ``run`` then has nothing left to commit after the job: a
    transaction (BEGIN, DELETE, COMMIT) less per order. Should this unit roll back, the
    row is still owed and ``run`` settles it as usual. Outside an owed job: nothing.
    ``taken``: settle instead the job the running one took over (``take_waiting``)."""
    if taken is not None:
        pending.settle(taken)
        return
    running = _RUNNING.get()
    if running is None or running.owed is None or running.settled:
        return
    pending.settle(running.owed)
    after_commit(setattr, running, "settled", True)


def take_waiting(path: str, args: tuple) -> str | None:
    """Take the owed job ``path(*args)`` out of its queue, for the running job to do now
    (an RQ job costs a worker ~3.5 ms of CPU and Redis some forty commands before any of
    our code runs: a job that finds more of its own kind waiting can do them itself, as a
    worker taking the next job from the queue would, only cheaper). The id to settle it
    with (``settle_in_this_unit(taken)``) in the unit of work that finishes it, or None
    when it is not waiting in a queue (another worker has it, it is done, or jobs are not
    run by RQ): then leave it alone. A taker that fails gives it back (``give_back``); a
    taker that dies leaves it owed with no RQ job, which the relay hands over again.

    Taken out of Redis with its job hash in one step (a script), so a job is either still
    queued for any worker or gone for the relay to see, never stranded queued in name.

    The row is marked in the caller's unit of work, which the caller commits with its
    first step of the job it took (an order's claim: one commit, not two): until then the
    mark's row lock keeps the relay off the row (it skips locked rows), and a rollback
    leaves the row owed, for the relay to hand over again."""
    if not can_take_waiting():
        return None
    runner = current_app.extensions["tunnus.jobs"]
    marked = pending.mark_taking(path, args)
    if marked is None:
        return None
    row_id, rq_id, queue = marked
    try:
        taken = runner.take(rq_id, queue)
    except Exception:  # Redis gone: the job stays where it is, for whoever gets it
        log.warning("could not take job %s (%s) from Redis", rq_id, path, exc_info=True)
        return None
    return row_id if taken else None


def can_take_waiting() -> bool:
    """Whether ``take_waiting`` can take anything: jobs run by RQ, and a database where
    workers do not queue behind one writer (PostgreSQL)."""
    runner = current_app.extensions["tunnus.jobs"]
    return bool(getattr(runner, "durable", False)) and not is_sqlite()


def give_back(taken: str, error: BaseException) -> None:
    """A job taken over (``take_waiting``) failed: owed again, for the relay to hand to
    Redis on its next round, with the failure counted unless it was an outage."""
    pending.give_back(taken, error, count=not is_outage(error))


WORKER_ENTRY = "reseller.worker.execute"  # what RQ stores with every job it queues


def execute(path: str, *args: Any) -> Any:
    """Compatibility alias of ``reseller.worker.execute``, the RQ entry point.

    RQ stores the entry point's dotted name in Redis with every job; jobs queued before the
    worker moved out of the kernel name this function. It resolves the worker by name at
    call time (as RQ itself does), so the kernel never imports what builds the app.
    """
    return import_string(WORKER_ENTRY)(path, *args)


def run_queued(path: str, args: tuple) -> Any:
    """Run a job RQ handed to this worker (inside the worker's app context): an urgent one
    alone, an ordinary one with the ordinary work it queues (see follow-ups below)."""
    owed = _current_pending_id()
    if _from_urgent_queue():
        return _run_counting_failures(path, args, owed)
    return _run_with_follow_ups(path, args, owed)


def _run_counting_failures(path: str, args: tuple, pending_id: str | None) -> Any:
    try:
        return run(path, *args, pending_id=pending_id)
    except Exception as error:
        # An outage (the database or Redis gone under the job) is not the job's failure:
        # it spends none of its attempts, so a job queued with ``retries=0`` (a webhook
        # attempt, a mail send) is not left dead by a database restart; the relay hands
        # it over again once RQ gives up on it.
        if pending_id is not None and not is_outage(error):
            pending.note_failure(pending_id, error)
        raise


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` is the database or Redis going away, not the job's own fault."""
    import sqlalchemy as sa
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeout

    outages = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.PendingRollbackError,
               sa.exc.DisconnectionError, RedisConnectionError, RedisTimeout)
    seen: BaseException | None = error
    while seen is not None:  # also when wrapped by the job (``raise … from``)
        if isinstance(seen, outages):
            return True
        seen = seen.__cause__
    return False


def _current_pending_id() -> str | None:
    from rq import get_current_job

    job = get_current_job()
    return (job.meta or {}).get("pending") if job is not None else None


# -- follow-ups: ordinary work that an ordinary job queues runs in the same worker ----------
#
# An RQ job costs a worker ~3.5 ms of CPU and Redis a couple of dozen round trips before any
# of our code runs (RQ 3.0: heartbeats, execution records, registries), more than
# publishing a zone or signing an email. So when an ordinary (``default`` queue) job queues
# a little more ordinary work without a delay — a domain's deferred listeners queue its
# zone and its registrant's email — the worker runs that work itself right after the
# job's commit, each piece in its own unit of work, instead of a round trip through Redis.
# Nothing is given up: a piece that fails goes to Redis with the rest of its retries, and
# every piece is owed by rows its sweeper also reads (outbox, events, zones). A job that
# fans out (more than ``FAN_OUT`` pieces of one job, e.g. the month-end run's job per
# reseller) has them queued at once for every worker to share — a batch of events'
# listeners queueing a zone and a mail each is not a fan-out — and past ``MAX_FOLLOW_UPS``
# the rest is queued too. Urgent jobs (orders) never carry follow-ups: a reseller's next
# order must not wait behind the last one's email.

FAN_OUT = 8
MAX_FOLLOW_UPS = 50
_follow_ups: list[tuple[str, tuple, int, str | None]] | None = None


def queued_by() -> str | None:
    """The request id of the request that queued the running RQ job, if any."""
    from rq import get_current_job

    job = get_current_job()
    return (job.meta or {}).get("request_id") if job is not None else None


def _from_urgent_queue() -> bool:
    from rq import get_current_job

    job = get_current_job()
    return job is not None and job.origin == QUEUES[0]


def _take_as_follow_up(path: str, args: tuple, retries: int, delay: int, queue: str,
                       pending_id: str | None) -> bool:
    if _follow_ups is None or delay or queue != QUEUES[1]:
        return False
    _follow_ups.append((path, args, retries, pending_id))
    return True


def _collected() -> list[tuple[str, tuple, int, str | None]]:
    """What the piece that just ran queued: ours to run, but for fan-outs (more than
    ``FAN_OUT`` pieces of one job path), which go to Redis for every worker to share."""
    global _follow_ups
    batch, _follow_ups = _follow_ups or [], []
    per_path = Counter(path for path, *_ in batch)
    ours = []
    for piece in batch:
        path, args, retries, owed = piece
        if per_path[path] > FAN_OUT:
            _queue_in_redis(path, args, retries, 0, owed)
        else:
            ours.append(piece)
    return ours


def _run_with_follow_ups(path: str, args: tuple, pending_id: str | None) -> Any:
    global _follow_ups
    _follow_ups = []
    try:
        result = _run_counting_failures(path, args, pending_id)
        waiting, done = _collected(), 0
        while waiting:
            if done == MAX_FOLLOW_UPS:
                for follow_path, follow_args, retries, owed in waiting:
                    _queue_in_redis(follow_path, follow_args, retries, 0, owed)
                break
            follow_path, follow_args, retries, owed = waiting.pop(0)
            if follow_path in BATCH_FORMS:
                pieces = [(follow_path, follow_args, retries, owed)]
                pieces += [piece for piece in waiting if piece[0] == follow_path]
                waiting[:] = [piece for piece in waiting if piece[0] != follow_path]
                done += len(pieces)
                _run_batch(follow_path, pieces)
                waiting.extend(_collected())
                continue
            done += 1
            try:
                _run_counting_failures(follow_path, follow_args, owed)
            except Exception:
                # This was the first attempt; RQ makes the rest, with its backoff. A job
                # that asked for no retries has had its one attempt (its sweeper remains).
                log.exception("follow-up %s%r failed", follow_path, follow_args)
                if retries:
                    _queue_in_redis(follow_path, follow_args, retries - 1,
                                    RETRY_INTERVALS[0], owed)
            waiting.extend(_collected())
        return result
    finally:
        _follow_ups = None


# -- held pushes: one RQ job for a run's worth of owed jobs ----------------------------------
#
# Some jobs do the work of others of their kind that are owed: a dispatch of deferred
# listeners takes up to ``events.BATCH`` owed events. A batch of orders (one job carrying
# out the orders waiting behind its own) records an event per order, and each would push
# its own dispatch job to Redis after its commit, to be taken out again (``withdraw``)
# by the first one that runs. Inside ``pushes_held`` those pushes wait for the end of
# the batch instead, and then one job is pushed for each run's worth of them, given the
# others' arguments to do first (``coalescing``): the pushes and the take-outs of the
# rest (an RQ job each, both ways) are spared. Every held job is owed by its
# ``pending_jobs`` row from its own commit on, so a worker that dies before the end of
# the batch loses none: the relay hands the rows over after its grace period.

# path -> how many owed jobs of it one run does, its own included (``coalescing``)
COALESCING: dict[str, int] = {}
_held: contextvars.ContextVar[list[tuple[str, tuple, int, str, str | None]] | None] = \
    contextvars.ContextVar("held_pushes", default=None)


def coalescing(path: str, per_run: int) -> None:
    """Declare that a run of job ``path`` does the work of up to ``per_run`` owed jobs of
    it, its own included, and takes the ``args`` of others appended to its own as those
    to do first (``path(*own, *first_other, *second_other, ...)``)."""
    COALESCING[path] = per_run


@contextlib.contextmanager
def pushes_held() -> Any:
    """Hold back the pushes of ``coalescing`` jobs queued inside (without delay) until the
    block ends, then push one job for each run's worth of them. Outside a job with RQ it
    changes nothing (only ``RQRunner`` holds)."""
    if _held.get() is not None:  # already held by an outer block: that one pushes
        yield
        return
    token = _held.set([])
    try:
        yield
    finally:
        held = _held.get() or []
        _held.reset(token)
        if held:
            current_app.extensions["tunnus.jobs"].push_held(held)


def _hold(path: str, args: tuple, retries: int, delay: int, queue: str,
          pending_id: str | None) -> bool:
    held = _held.get()
    if held is None or delay or pending_id is None or path not in COALESCING:
        return False
    held.append((path, args, retries, queue, pending_id))
    return True


# Follow-ups of these job paths waiting together run as one call of their batch form (path
# -> the batch form's path, which takes the pieces' argument tuples): a batch of events
# queues a mail each, and one claim, one record and one settle of them all costs what one
# mail did. Declared with ``@batch_form`` next to the job.
BATCH_FORMS: dict[str, str] = {}


def batch_form(path: str) -> Callable:
    """Declare a module-level function ``func(args_list)`` as the batch form of job
    ``path``: it must do for each argument tuple what ``path(*args)`` does, and be as safe
    to run twice."""

    def register(func: Callable) -> Callable:
        BATCH_FORMS[path] = f"{func.__module__}.{func.__name__}"
        return func

    return register


def _run_batch(path: str, pieces: list[tuple[str, tuple, int, str | None]]) -> None:
    """Run follow-ups of ``path`` as one call of its batch form, settling the owed ones in
    its last unit of work; on failure each piece goes to Redis with the rest of its
    retries, like a failed follow-up (a piece done meanwhile finds nothing owed there)."""
    owed_ids = [owed for *_, owed in pieces if owed is not None]
    try:
        with unit_of_work():
            still = pending.owed_among(owed_ids)
            todo = [args for _, args, _, owed in pieces if owed is None or owed in still]
            if todo:
                import_string(BATCH_FORMS[path])(todo)
            pending.settle_many(still)
    except Exception as error:
        log.exception("follow-up batch %s (%d pieces) failed", path, len(pieces))
        for _, args, retries, owed in pieces:
            if owed is not None and not is_outage(error):
                pending.note_failure(owed, error)
            if retries:
                _queue_in_redis(path, args, retries - 1, RETRY_INTERVALS[0], owed)


def _queue_in_redis(path: str, args: tuple, retries: int, delay: int,
                    pending_id: str | None) -> None:
    current_app.extensions["tunnus.jobs"].submit(path, args, retries, delay, QUEUES[1],
                                                 follow_up=False, pending_id=pending_id)


@dataclass
class CollectingRunner:
    """Tests: keep submitted jobs; ``run_all`` executes them (and any they enqueue)."""

    app: Flask
    jobs: list[tuple[str, tuple]] = field(default_factory=list)

    def submit(self, path: str, args: tuple, retries: int = 0, delay: int = 0,
               queue: str = QUEUES[1]) -> None:
        self.jobs.append((path, args))

    def run_all(self, limit: int = 1000) -> int:
        done = 0
        while self.jobs and done < limit:
            path, args = self.jobs.pop(0)
            run(path, *args)
            done += 1
        return done


class EagerRunner:
    def __init__(self, app: Flask) -> None:
        self.app = app

    def submit(self, path: str, args: tuple, retries: int = 0, delay: int = 0,
               queue: str = QUEUES[1]) -> None:
        with self.app.app_context():
            run(path, *args)


class ThreadRunner:
    """The embedded default: one daemon thread runs jobs, urgent ones first and otherwise
    in order, retrying with backoff."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.queue: queue.PriorityQueue[tuple[int, int, str, tuple, int, float, str | None]] = \
            queue.PriorityQueue()
        self._sequence = itertools.count()
        self._thread: threading.Thread | None = None

    def submit(self, path: str, args: tuple, retries: int = 5, delay: int = 0,
               queue: str = QUEUES[1]) -> None:
        self._put(QUEUES.index(queue), path, args, retries, time.monotonic() + delay,
                  current_request_id())
        self.start()

    def _put(self, rank: int, path: str, args: tuple, retries: int, not_before: float,
             request_id: str | None = None) -> None:
        self.queue.put((rank, next(self._sequence), path, args, retries, not_before,
                        request_id))

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="tunnus-jobs", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while True:
            rank, _seq, path, args, retries, not_before, request_id = self.queue.get()
            wait = not_before - time.monotonic()
            if wait > 0:
                # Not due yet: put it back (behind its peers) and look again shortly.
                self._put(rank, path, args, retries, not_before, request_id)
                time.sleep(min(wait, 0.5))
                continue
            token = use_request_id(request_id)
            try:
                with self.app.app_context():
                    run(path, *args)
            except Exception:
                log.exception("job %s%r failed (%d retries left)", path, args, retries)
                if retries > 0:
                    attempt = max(0, 5 - retries)
                    backoff = RETRY_INTERVALS[min(attempt, len(RETRY_INTERVALS) - 1)]
                    self._put(rank, path, args, retries - 1, time.monotonic() + backoff,
                              request_id)
            finally:
                reset_request_id(token)

    def drain(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.queue.empty() and time.monotonic() < deadline:
            time.sleep(0.05)


RESULT_TTL_S = 60


class RQRunner:
    """Production: push to Redis for ``rq worker`` processes, with rq's retry/backoff.

    ``durable``: ``enqueue`` owes each job in the transaction (``reseller.core.pending``),
    so handing it to Redis after the commit may fail without losing it."""

    durable = True

    def __init__(self, app: Flask, redis_url: str) -> None:
        from redis import Redis
        from rq import Queue

        self.connection = Redis.from_url(redis_url, socket_connect_timeout=2,
                                         socket_timeout=5, health_check_interval=30)
        self.queues = {name: Queue(name, connection=self.connection) for name in QUEUES}
        self.queue = self.queues[QUEUES[1]]
        self._take: Any = None

    def submit(self, path: str, args: tuple, retries: int = 5, delay: int = 0,
               queue: str = QUEUES[1], follow_up: bool = True,
               pending_id: str | None = None) -> None:
        from redis.exceptions import RedisError

        if follow_up and _take_as_follow_up(path, args, retries, delay, queue, pending_id):
            return
        if _hold(path, args, retries, delay, queue, pending_id):
            return
        try:
            self._push(path, args, retries=retries, delay=delay, queue=queue,
                       pending_id=pending_id,
                       job_id=None if pending_id is None else rq_job_id(pending_id, 0),
                       request_id=current_request_id())
        except RedisError:
            if pending_id is None:
                raise
            # Committed and owed: the relay hands it over once Redis is back.
            log.warning("Redis refused job %s %s; the relay will hand it over", pending_id,
                        path, exc_info=True)

    def push_held(self, held: list[tuple[str, tuple, int, str, str | None]]) -> None:
        """Push the jobs ``pushes_held`` held back: for each run's worth of one path's
        (``COALESCING``), the first one's job, given the others' arguments after its own.
        The others' rows stay owed until that run settles them (``withdraw``, whose
        take-out from Redis then finds nothing: their RQ jobs were never pushed)."""
        by_path: dict[str, list[tuple[str, tuple, int, str, str | None]]] = {}
        for piece in held:
            by_path.setdefault(piece[0], []).append(piece)
        for path, pieces in by_path.items():
            per_run = COALESCING[path]
            for start in range(0, len(pieces), per_run):
                group = pieces[start:start + per_run]
                _, args, retries, queue, pending_id = group[0]
                args = args + tuple(itertools.chain.from_iterable(
                    others for _, others, *_rest in group[1:]))
                self.submit(path, args, retries, 0, queue, follow_up=False,
                            pending_id=pending_id)

    def hand_over(self, row: Any) -> str:
        """The relay's hand-over of an owed job (``pending.relay``): a fresh RQ job."""
        job_id = rq_job_id(row.id, row.handovers)
        self._push(row.path, tuple(row.args), retries=max(0, row.retries - row.failures),
                   delay=0, queue=row.queue, pending_id=row.id, job_id=job_id,
                   request_id=row.request_id)
        return job_id

    def job_state(self, job_id: str) -> str:
        """What Redis knows of an RQ job, in the relay's terms (see ``pending.relay``)."""
        from rq.exceptions import NoSuchJobError
        from rq.job import Job, JobStatus

        try:
            job = Job.fetch(job_id, connection=self.connection)
            status = job.get_status(refresh=False)
        except NoSuchJobError:
            return "missing"
        if status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
            return "waiting"
        if status == JobStatus.STARTED:
            return "waiting" if liveness.worker_alive(self.connection, job.worker_name) \
                else "lost"
        if status == JobStatus.FAILED:
            return "failed"
        return "missing"  # finished (its row would be gone), stopped or canceled

    # Removes the job from its queue and, only if it was there, its hash: atomically, so a
    # taker dying in between cannot leave a job that Redis calls queued but no queue holds.
    _TAKE = """
    if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then
        redis.call('DEL', KEYS[2])
        return 1
    end
    return 0
    """

    def take(self, rq_id: str, queue: str) -> bool:
        """Take a queued job for this worker to do (``take_waiting``): True when it was
        still in its queue (and now is in none), False when a worker dequeued it first."""
        from rq.job import Job

        if self._take is None:
            self._take = self.connection.register_script(self._TAKE)
        return bool(self._take(keys=[self.queues[queue].key, Job.key_for(rq_id)], args=[rq_id]))

    def unqueue(self, rows: list[tuple[str, str]]) -> int:
        """Take withdrawn jobs (``(rq_job_id, queue)``) out of their queues, and delete the
        ones taken out (a job no longer queued is running or done: RQ keeps its own)."""
        from rq.job import Job

        pipe = self.connection.pipeline(transaction=False)
        for rq_id, name in rows:
            self.queues[name].remove(rq_id, pipeline=pipe)
        taken = [rq_id for (rq_id, _), removed in zip(rows, pipe.execute(), strict=True)
                 if removed]
        if taken:
            self.connection.delete(*(Job.key_for(rq_id) for rq_id in taken))
        return len(taken)

    def _push(self, path: str, args: tuple, *, retries: int, delay: int, queue: str,
              pending_id: str | None, job_id: str | None, request_id: str | None) -> None:
        from datetime import timedelta

        from rq import Retry

        retry = Retry(max=retries, interval=RETRY_INTERVALS[:retries]) if retries else None
        # Nobody reads a job's return value, so it lives a minute. Not 0: RQ then deletes the
        # job and its execution records at once, which costs more than letting them expire
        # (worker CPU per no-op job, RQ 3.0 with hiredis: 4.3 ms at 0, 3.4-3.7 ms at 60-500 s).
        options: dict[str, Any] = {"retry": retry, "job_timeout": 600,
                                   "failure_ttl": 7 * 86400, "result_ttl": RESULT_TTL_S}
        meta = {}
        if request_id:  # the job's log lines carry it too
            meta["request_id"] = request_id
        if pending_id:
            meta["pending"] = pending_id
            options["job_id"] = job_id
        if meta:
            options["meta"] = meta
        target = self.queues[queue]
        if delay:
            target.enqueue_in(timedelta(seconds=delay), WORKER_ENTRY, path, *args, **options)
        else:
            target.enqueue(WORKER_ENTRY, path, *args, **options)


def fire_periodic(path: str) -> None:
    """Queue one run of a ``@periodic`` job (owed in the transaction, with RQ)."""
    enqueue(path, retries=schedule.PERIODIC_RETRIES)


def scheduler_tick() -> list[str]:
    """Fire every ``@periodic`` job due by the business clock (inside an app context)."""
    with unit_of_work():
        return schedule.fire_due(now=clock.now(), jobs=PERIODIC, fire=fire_periodic)


class ThreadScheduler:
    """Embedded default: fire due ``@periodic`` work by the (sandbox) clock."""

    def __init__(self, app: Flask, tick_seconds: float = 5.0) -> None:
        self.app = app
        self.tick_seconds = tick_seconds
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="tunnus-cron", daemon=True)
            self._thread.start()

    def tick(self) -> list[str]:
        with self.app.app_context():
            return scheduler_tick()

    def _loop(self) -> None:
        while True:
            try:
                self.tick()
            except Exception:
                log.exception("scheduler tick failed")
            time.sleep(self.tick_seconds)


def init_app(app: Flask) -> None:
    mode = app.config["JOBS_MODE"]
    if mode == "rq":
        if not app.config.get("REDIS_URL"):
            raise RuntimeError("JOBS_MODE=rq needs REDIS_URL")
        runner: Any = RQRunner(app, app.config["REDIS_URL"])
    elif mode == "thread":
        runner = ThreadRunner(app)
    elif mode == "eager":
        runner = EagerRunner(app)
    elif mode == "collect":
        runner = CollectingRunner(app)
    else:
        raise RuntimeError(f"unknown JOBS_MODE {mode!r}")
    app.extensions["tunnus.jobs"] = runner
