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

import os
from typing import Any

import click
from flask import Flask, current_app
from redis import Redis
from rq import Queue, SimpleWorker, Worker
from rq.cron import CronScheduler
from werkzeug.utils import import_string

from reseller.core import jobs
from reseller.core.extensions import db
from reseller.core.logs import reset_request_id, use_request_id

# The factory, by name (as ``flask --app`` and gunicorn take it): ``create_app`` registers
# this module's commands, so the worker looks the factory up when it first needs an app.
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


class InProcessWorker(_PromptShutdown, SimpleWorker):
    """Runs each job in this process, in the app ``flask worker`` built once."""


class ForkingWorker(_PromptShutdown, Worker):
    """Runs each job in a forked child (``flask worker --fork``)."""


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
    """
    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("REDIS_URL is not set; the embedded default runs jobs in-process")
    app = current_app._get_current_object()
    use_app(app)
    connection = Redis.from_url(url)
    worker_class = ForkingWorker if fork else InProcessWorker
    # with_scheduler: delayed jobs (retry backoff, webhook retries) are moved to the queue
    names = [name for name in jobs.QUEUES if not queues or name in queues]
    worker_class([Queue(name, connection=connection) for name in names],
                 connection=connection).work(burst=burst, with_scheduler=True,
                                             max_jobs=max_jobs,
                                             logging_level=app.config["LOG_LEVEL"])


@click.command("scheduler")
def scheduler_command() -> None:
    """Run RQ's cron scheduler with every @periodic job (needs REDIS_URL)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("REDIS_URL is not set")
    cron = CronScheduler(connection=Redis.from_url(url),
                         logging_level=current_app.config["LOG_LEVEL"])
    for job in jobs.PERIODIC.values():
        cron.register(execute, "default", args=(job.path,), cron=job.cron, name=job.name)
    cron.start()
