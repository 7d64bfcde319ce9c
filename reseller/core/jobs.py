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

RQ workers run jobs through ``reseller.worker``, which builds the app once per process;
this module never imports the factory. Periodic work is declared with ``@periodic`` (a
feature's ``init_app`` imports its ``tasks`` module) and scheduled by RQ's cron scheduler
(``flask scheduler``) or, in the embedded default, by an in-process scheduler thread that
reads the sandbox clock, so the time machine fires month-end and renewals.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from croniter import croniter
from flask import Flask, current_app
from werkzeug.utils import import_string

from reseller.core.clock import clock
from reseller.core.db import after_commit, unit_of_work
from reseller.core.logs import current_request_id, reset_request_id, use_request_id

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
    run before any waiting ordinary ones."""
    runner = current_app.extensions["tunnus.jobs"]
    after_commit(runner.submit, path, args, retries, delay, QUEUES[0] if urgent else QUEUES[1])


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


def run(path: str, *args: Any) -> Any:
    """Run one job in its own unit of work (inside an app context)."""
    func = import_string(MOVED.get(path, path))
    with unit_of_work():
        return func(*args)


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
    if _from_urgent_queue():
        return run(path, *args)
    return _run_with_follow_ups(path, args)


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
# fans out (more than ``FAN_OUT`` pieces, e.g. the month-end run's job per reseller) has
# them queued at once for every worker to share, and past ``MAX_FOLLOW_UPS`` the rest is
# queued too. Urgent jobs (orders) never carry follow-ups: a reseller's next order must
# not wait behind the last one's email.

FAN_OUT = 8
MAX_FOLLOW_UPS = 50
_follow_ups: list[tuple[str, tuple, int]] | None = None


def queued_by() -> str | None:
    """The request id of the request that queued the running RQ job, if any."""
    from rq import get_current_job

    job = get_current_job()
    return (job.meta or {}).get("request_id") if job is not None else None


def _from_urgent_queue() -> bool:
    from rq import get_current_job

    job = get_current_job()
    return job is not None and job.origin == QUEUES[0]


def _take_as_follow_up(path: str, args: tuple, retries: int, delay: int, queue: str) -> bool:
    if _follow_ups is None or delay or queue != QUEUES[1]:
        return False
    _follow_ups.append((path, args, retries))
    return True


def _collected() -> list[tuple[str, tuple, int]]:
    """What the piece that just ran queued: ours to run, unless it is a fan-out."""
    global _follow_ups
    batch, _follow_ups = _follow_ups or [], []
    if len(batch) > FAN_OUT:
        for path, args, retries in batch:
            _queue_in_redis(path, args, retries, 0)
        return []
    return batch


def _run_with_follow_ups(path: str, args: tuple) -> Any:
    global _follow_ups
    _follow_ups = []
    try:
        result = run(path, *args)
        pending, done = _collected(), 0
        while pending:
            if done == MAX_FOLLOW_UPS:
                for rest in pending:
                    _queue_in_redis(*rest, 0)
                break
            follow_path, follow_args, retries = pending.pop(0)
            done += 1
            try:
                run(follow_path, *follow_args)
            except Exception:
                # This was the first attempt; RQ makes the rest, with its backoff. A job
                # that asked for no retries has had its one attempt (its sweeper remains).
                log.exception("follow-up %s%r failed", follow_path, follow_args)
                if retries:
                    _queue_in_redis(follow_path, follow_args, retries - 1, RETRY_INTERVALS[0])
            pending.extend(_collected())
        return result
    finally:
        _follow_ups = None


def _queue_in_redis(path: str, args: tuple, retries: int, delay: int) -> None:
    current_app.extensions["tunnus.jobs"].submit(path, args, retries, delay, QUEUES[1],
                                                 follow_up=False)


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
    """Production: push to Redis for ``rq worker`` processes, with rq's retry/backoff."""

    def __init__(self, app: Flask, redis_url: str) -> None:
        from redis import Redis
        from rq import Queue

        self.connection = Redis.from_url(redis_url)
        self.queues = {name: Queue(name, connection=self.connection) for name in QUEUES}
        self.queue = self.queues[QUEUES[1]]

    def submit(self, path: str, args: tuple, retries: int = 5, delay: int = 0,
               queue: str = QUEUES[1], follow_up: bool = True) -> None:
        from datetime import timedelta

        from rq import Retry

        if follow_up and _take_as_follow_up(path, args, retries, delay, queue):
            return
        retry = Retry(max=retries, interval=RETRY_INTERVALS[:retries]) if retries else None
        # Nobody reads a job's return value, so it lives a minute. Not 0: RQ then deletes the
        # job and its execution records at once, which costs more than letting them expire
        # (worker CPU per no-op job, RQ 3.0 with hiredis: 4.3 ms at 0, 3.4-3.7 ms at 60-500 s).
        options = {"retry": retry, "job_timeout": 600, "failure_ttl": 7 * 86400,
                   "result_ttl": RESULT_TTL_S}
        if request_id := current_request_id():  # the job's log lines carry it too
            options["meta"] = {"request_id": request_id}
        target = self.queues[queue]
        if delay:
            target.enqueue_in(timedelta(seconds=delay), WORKER_ENTRY, path, *args, **options)
        else:
            target.enqueue(WORKER_ENTRY, path, *args, **options)


class ThreadScheduler:
    """Embedded default: fire due ``@periodic`` work by the (sandbox) clock."""

    def __init__(self, app: Flask, tick_seconds: float = 30.0) -> None:
        self.app = app
        self.tick_seconds = tick_seconds
        self.last_run: dict[str, datetime] = {}
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="tunnus-cron", daemon=True)
            self._thread.start()

    def due(self, now: datetime) -> list[Periodic]:
        due = []
        for job in PERIODIC.values():
            last = self.last_run.get(job.name)
            if last is None or croniter(job.cron, last).get_next(datetime) <= now:
                due.append(job)
        return due

    def tick(self) -> None:
        with self.app.app_context():
            now = clock.now()
            for job in self.due(now):
                self.last_run[job.name] = now
                runner = self.app.extensions["tunnus.jobs"]
                runner.submit(job.path, (), 3, 0, QUEUES[1])

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
