"""Runs jobs: builds the app once per process; RQ and the cron scheduler call into it.

``execute`` is the RQ entry point (RQ stores its name, ``reseller.worker.execute``, with
every job; ``reseller.core.jobs.execute`` is the old name, kept as an alias for jobs
queued before). ``flask worker`` hands it the app it built (``use_app``); a plain
``rq worker`` process builds one with the factory on its first job.

RQ's worker listens on a pubsub channel for commands (stop a job, shut down) in a thread
that sleeps up to 60 s between reads, and redis-py 8.2 made ``stop()`` wait for that
thread: an idle worker took up to a minute to exit on SIGTERM or at the end of a burst.
The worker classes here read the channel every second instead, so a deploy or a test
waits for nothing.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker, Worker
from rq.exceptions import StopRequested
from rq.scheduler import RQScheduler
from werkzeug.utils import import_string

from reseller.core import jobs, liveness, pending
from reseller.core.extensions import db
from reseller.core.logs import reset_request_id, use_request_id

# The factory, by name (as ``flask --app`` and gunicorn take it): ``create_app`` registers
# this module's commands, so the worker looks the factory up when it first needs an app.
log = logging.getLogger(__name__)

FACTORY = "reseller.app.create_app"
PUBSUB_SLEEP_S = 1

_app: Flask | None = None
_pid: int | None = None


def use_app(app: Flask | None) -> None:
    """Run RQ jobs in ``app`` (built once by ``flask worker``) instead of building one
    (``None``: forget it; the next job builds its own).

    A job that finds itself in a child forked from this process (``flask worker --fork``)
    disposes of the connection pool it inherited (sockets shared with the parent) first.
    """
    global _app, _pid
    _app, _pid = app, os.getpid()


def _worker_app() -> Flask:
    global _pid
    if _app is None:
        use_app(import_string(FACTORY)())
    elif _pid != os.getpid():
        # a forked work horse: the parent's pooled connections are not ours to use
        with _app.app_context():
            db.engine.dispose(close=False)
        _pid = os.getpid()
    return _app


def execute(path: str, *args: Any) -> Any:
    """RQ entry point: run the job in the worker's app (built once per worker process)."""
    app = _worker_app()
    token = use_request_id(jobs.queued_by())
    try:
        with app.app_context():
            return jobs.run_queued(path, args)
    finally:
        reset_request_id(token)


class _PromptShutdown:
    def subscribe(self) -> None:
        # rq.worker.base.BaseWorker.subscribe with a short sleep (RQ 2–3 share these names)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=PUBSUB_SLEEP_S, daemon=True,
            exception_handler=self._pubsub_exception_handler)

    executed = 0  # jobs this worker object ran (``--max-jobs`` across restarts)

    def execute_job(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().execute_job(*args, **kwargs)
        finally:
            self.executed += 1


class InProcessWorker(_PromptShutdown, SimpleWorker):
    """Runs each job in this process, in the app ``flask worker`` built once."""


class ForkingWorker(_PromptShutdown, Worker):
    """Runs each job in a forked child (``flask worker --fork``); the child dies with us."""

    def main_work_horse(self, *args: Any, **kwargs: Any) -> None:
        _die_with_parent()
        super().main_work_horse(*args, **kwargs)


def _die_with_parent() -> None:
    """Linux: a work horse gets SIGKILL when its worker dies (no orphan finishing a job
    the relay has handed to another worker meanwhile)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the relay's run-once check remains
        pass


# -- keeping going: backoff over outages, and the housekeeping every process does ----------

BACKOFF_S = (1, 2, 5, 10, 20, 30)
HOUSEKEEPING_S = 2.0


class Housekeeping:
    """A daemon thread of ``flask worker`` and ``flask scheduler``: its heartbeat, the
    relay of owed jobs (``reseller.core.pending``), RQ's delayed jobs (retry backoff) moved
    to their queues, and, in the scheduler, the periodic jobs that are due. Any error (Redis
    or PostgreSQL down) is logged and tried again on the next round; nothing here exits."""

    def __init__(self, app: Flask, connection: Redis, key: str, *,
                 periodic: bool = False) -> None:
        self.app, self.connection, self.periodic = app, connection, periodic
        self.heart = liveness.Heart(connection, key)
        self.rq_scheduler = RQScheduler(list(jobs.QUEUES), connection=connection)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Housekeeping:
        self.heart.start()
        self._thread = threading.Thread(target=self._loop, name="tunnus-housekeeping",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.heart.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            self.rq_scheduler.release_locks()
        except RedisError:  # they expire on their own
            pass

    def run_once(self) -> None:
        steps = [self._move_delayed, self._relay]
        if self.periodic:
            steps.insert(0, self._fire_periodic)
        for step in steps:
            try:
                step()
            except Exception:  # an outage: next round
                log.warning("housekeeping step %s failed", step.__name__, exc_info=True)
                with self.app.app_context():
                    db.session.remove()

    def _loop(self) -> None:
        while not self._stop.wait(HOUSEKEEPING_S):
            self.run_once()

    def _fire_periodic(self) -> None:
        with self.app.app_context():
            if fired := jobs.scheduler_tick():
                log.info("periodic jobs due: %s", ", ".join(fired))

    def _relay(self) -> None:
        runner = self.app.extensions["tunnus.jobs"]
        if not getattr(runner, "durable", False):
            return
        with self.app.app_context():
            pending.relay(runner.hand_over, runner.job_state)

    def _move_delayed(self) -> None:
        # RQ's scheduler, run here instead of in the child process ``with_scheduler`` forks
        # (which outlived a killed worker); its lock lets one process do it at a time.
        if self.rq_scheduler.acquire_locks():
            self.rq_scheduler.heartbeat()
            self.rq_scheduler.enqueue_scheduled_jobs()


def ride_out(run: Callable[[], bool], *, what: str) -> None:
    """Run ``run()`` until it returns True (done: stop asked, burst over); after an outage
    (it raised or returned False) wait with growing backoff and run it again."""
    failures = 0
    while True:
        try:
            if run():
                return
        except StopRequested:  # SIGTERM while waiting between attempts
            return
        except (RedisError, sa.exc.OperationalError, sa.exc.InterfaceError):
            log.warning("%s: outage, retrying in %ss", what,
                        BACKOFF_S[min(failures, len(BACKOFF_S) - 1)], exc_info=True)
        try:
            time.sleep(BACKOFF_S[min(failures, len(BACKOFF_S) - 1)])
        except StopRequested:  # SIGTERM in the pause: RQ's handler of the last attempt
            return
        failures += 1


def _stop_asked(rq_worker: Worker) -> bool:
    """A signal asked this RQ worker to stop (idle: the date only; busy: the flag)."""
    return bool(rq_worker._stop_requested or rq_worker._shutdown_requested_date)


def _close_pubsub(rq_worker: Worker) -> None:
    """End RQ's command-channel thread: RQ does it only when its loop ends cleanly, and a
    loop ended by an outage left one more thread retrying Redis every 2 s, forever."""
    thread = getattr(rq_worker, "pubsub_thread", None)
    if thread is not None:
        thread.stop()
    pubsub = getattr(rq_worker, "pubsub", None)
    if pubsub is not None:
        try:
            pubsub.close()
        except RedisError:
            pass


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
@click.option("--fork/--no-fork", default=False,
              help="Run each job in a forked child (isolation at a few ms per job).")
@click.option("--max-jobs", type=click.IntRange(min=1), default=None,
              help="Exit after this many jobs (a supervisor starts a fresh process).")
@click.option("--queue", "queues", multiple=True, type=click.Choice(["urgent", "default"]),
              help="Take jobs only from this queue (repeatable; default: urgent, then "
                   "default). A worker given only `urgent` is always free for orders.")
def worker_command(burst: bool, fork: bool, max_jobs: int | None,
                   queues: tuple[str, ...]) -> None:
    """Run an RQ worker for the urgent and default queues, urgent first (needs REDIS_URL).

    By default jobs run in this process with the app built here, once: RQ's forking
    worker would build nothing per job only if the child could reuse the parent's app,
    and a forked child must not reuse the parent's database connections. ``--fork``
    trades that cost for isolation: the child inherits the app and drops the inherited
    pool before its first query.

    A Redis or PostgreSQL outage does not end the worker: it waits with backoff and goes
    on. A thread beats its heartbeat, relays owed jobs and moves delayed ones to their
    queues (no child process to orphan).
    """
    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("REDIS_URL is not set; the embedded default runs jobs in-process")
    app = current_app._get_current_object()
    use_app(app)
    connection = Redis.from_url(url, socket_connect_timeout=2, health_check_interval=30)
    worker_class = ForkingWorker if fork else InProcessWorker
    names = [name for name in jobs.QUEUES if not queues or name in queues]
    done = {"jobs": 0}

    def work() -> bool:
        rq_worker = worker_class([Queue(name, connection=connection) for name in names],
                                 connection=connection)
        keeper = None if burst else Housekeeping(
            app, connection, liveness.WORKER_KEY + rq_worker.name).start()
        try:
            # Burst: RQ moves due delayed jobs once, inline (no child process either).
            worked = rq_worker.work(
                burst=burst, with_scheduler=burst, logging_level=app.config["LOG_LEVEL"],
                max_jobs=None if max_jobs is None else max_jobs - done["jobs"])
        except (RedisError, sa.exc.OperationalError, sa.exc.InterfaceError):
            # A SIGTERM while Redis is gone: RQ's goodbye to Redis fails, and the stop
            # must not be taken for one more outage to ride out (it was: the worker
            # ignored the signal until a second one, or systemd's SIGKILL).
            if _stop_asked(rq_worker):
                return True
            raise
        finally:
            _close_pubsub(rq_worker)
            if keeper is not None:
                keeper.stop()
        done["jobs"] += rq_worker.executed
        finished = max_jobs is not None and done["jobs"] >= max_jobs
        # Otherwise RQ's loop gave up on an error (Redis gone): start over after a pause.
        return bool(_stop_asked(rq_worker) or burst or finished or worked is None)

    ride_out(work, what="worker")


@click.command("scheduler")
def scheduler_command() -> None:
    """Fire @periodic jobs when due by the business clock (the sandbox clock in sandbox
    mode), relay owed jobs and move delayed ones (needs REDIS_URL). Exactly one should run;
    a second one is harmless (each due run is fired once, under a row lock)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("REDIS_URL is not set")
    app = current_app._get_current_object()
    connection = Redis.from_url(url, socket_connect_timeout=2, health_check_interval=30)
    keeper = Housekeeping(app, connection, liveness.SCHEDULER_KEY, periodic=True)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    keeper.heart.start()
    log.info("scheduler started: %d periodic jobs", len(jobs.PERIODIC))
    while not stop.wait(HOUSEKEEPING_S):
        keeper.run_once()
    keeper.heart.stop()
