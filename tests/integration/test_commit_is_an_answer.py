"""A commit is an answer: jobs are owed in the transaction, Redis is only the fast path.

Redis down at the commit leaves the client its committed 2xx (replayed under its
Idempotency-Key) and the job owed; the relay hands owed jobs to Redis again when they
lost their RQ job (never handed, or in a worker that died); a copy that finds its work
done does nothing; a key whose first request is still open is a quick 409, not a wait.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from reseller import worker
from reseller.core import jobs as jobs_module
from reseller.core import pending
from reseller.core.db import unit_of_work
from reseller.core.events import Event, record_event
from reseller.core.extensions import db
from reseller.core.pending import PendingJob
from tests.support import servers
from tests.support.domains import CONTACT, fund, install_catalogue


def record_ping(reseller_id: int, marker: str) -> None:
    record_event(reseller_id=reseller_id, type="test.ping", data={"marker": marker},
                 dedupe_key=f"ping:{marker}")


PATH = f"{__name__}.record_ping"


def _reseller(app):
    from tests.support.factories import Factory

    return Factory(app).reseller()


def dead_redis_url() -> str:
    return f"redis://127.0.0.1:{servers.free_port()}/0"  # nothing listens there


class swapped_runner:
    def __init__(self, app, runner) -> None:
        self.app, self.runner = app, runner

    def __enter__(self):
        self.original = self.app.extensions["tunnus.jobs"]
        self.app.extensions["tunnus.jobs"] = self.runner
        return self.runner

    def __exit__(self, *exc) -> None:
        self.app.extensions["tunnus.jobs"] = self.original


def _age(row_id: str, seconds: float) -> None:
    with unit_of_work():
        row = db.session.get(PendingJob, row_id)
        row.created_at -= timedelta(seconds=seconds)
        row.not_before -= timedelta(seconds=seconds)


def _owed() -> list[PendingJob]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(PendingJob).order_by(PendingJob.created_at)))


def _markers() -> list[str]:
    db.session.expire_all()
    return [e.data["marker"] for e in db.session.scalars(
        sa.select(Event).where(Event.type == "test.ping").order_by(Event.id))]


def _burst(app, redis_url: str) -> None:
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(redis_url)
    worker.use_app(app)
    try:
        worker.InProcessWorker([Queue(n, connection=connection) for n in jobs_module.QUEUES],
                               connection=connection).work(burst=True)
    finally:
        worker.use_app(None)


@pytest.mark.postgres_only
def test_redis_down_at_commit_keeps_the_commit_and_the_relay_hands_the_job_over(
        app, committed_db, redis_server):
    reseller = _reseller(app)
    with app.app_context(), swapped_runner(app, jobs_module.RQRunner(app, dead_redis_url())):
        with unit_of_work():  # no exception: the commit is the answer
            jobs_module.enqueue(PATH, reseller.id, "through-outage")
    [row] = _owed()
    assert row.path == PATH and row.args == [reseller.id, "through-outage"]

    live = jobs_module.RQRunner(app, redis_server.url)
    assert pending.relay(live.hand_over, live.job_state) == 0  # within its grace: left alone
    _age(row.id, 30)
    assert pending.relay(live.hand_over, live.job_state) == 1
    _burst(app, redis_server.url)
    assert _markers() == ["through-outage"]
    assert _owed() == []  # settled by the job's own commit


@pytest.mark.postgres_only
def test_a_job_in_a_dead_worker_is_handed_to_another_and_runs_once(
        app, committed_db, redis_server):
    from rq.job import Job, JobStatus

    reseller = _reseller(app)
    runner = jobs_module.RQRunner(app, redis_server.url)
    with app.app_context(), swapped_runner(app, runner):
        with unit_of_work():
            jobs_module.enqueue(PATH, reseller.id, "orphaned")
    [row] = _owed()
    # A worker took it and was killed: RQ still says "started", by a worker whose
    # heartbeat has stopped.
    job = Job.fetch(pending.rq_job_id(row.id, 0), connection=runner.connection)
    runner.queue.remove(job.id)
    job.set_status(JobStatus.STARTED)
    job.worker_name = "killed-worker"
    job.save()
    assert runner.job_state(job.id) == "lost"
    _age(row.id, 30)
    assert pending.relay(runner.hand_over, runner.job_state) == 1
    [row] = _owed()
    row_id = row.id
    assert row.handovers == 1 and row.rq_job_id == pending.rq_job_id(row_id, 1)
    _burst(app, redis_server.url)
    assert _markers() == ["orphaned"] and _owed() == []
    # A late copy of the same job (RQ's own cleanup retrying it) finds the work done.
    with app.app_context():
        assert jobs_module.run(PATH, reseller.id, "orphaned-again", pending_id=row_id) is None
    assert _markers() == ["orphaned"]


@pytest.mark.postgres_only
def test_a_queued_or_running_job_is_not_handed_over_twice(app, committed_db, redis_server):
    from redis import Redis
    from rq.job import Job, JobStatus

    from reseller.core import liveness

    reseller = _reseller(app)
    runner = jobs_module.RQRunner(app, redis_server.url)
    with app.app_context(), swapped_runner(app, runner):
        with unit_of_work():
            jobs_module.enqueue(PATH, reseller.id, "waiting")
    [row] = _owed()
    _age(row.id, 30)
    assert pending.relay(runner.hand_over, runner.job_state) == 0  # queued: fine
    assert _owed()[0].handed_at is not None
    job = Job.fetch(pending.rq_job_id(row.id, 0), connection=runner.connection)
    job.set_status(JobStatus.STARTED)
    job.worker_name = "busy-worker"
    job.save()
    heart = liveness.Heart(Redis.from_url(redis_server.url),
                           liveness.WORKER_KEY + "busy-worker").start()
    try:
        assert runner.job_state(job.id) == "waiting"
    finally:
        heart.stop()
    assert runner.job_state(job.id) == "lost"


def fails_always(reseller_id: int) -> None:
    raise RuntimeError("never works")


@pytest.mark.postgres_only
def test_a_job_that_failed_every_attempt_waits_for_a_human(app, committed_db, redis_server):
    reseller = _reseller(app)
    runner = jobs_module.RQRunner(app, redis_server.url)
    with app.app_context(), swapped_runner(app, runner):
        with unit_of_work():
            jobs_module.enqueue(f"{__name__}.fails_always", reseller.id, retries=0)
        _burst(app, redis_server.url)
    [row] = _owed()
    row_id = row.id
    assert row.dead and row.failures == 1 and "never works" in row.last_error
    _age(row_id, 60)
    assert pending.relay(runner.hand_over, runner.job_state) == 0  # failed and exhausted
    with app.app_context():
        assert [j.id for j in pending.dead_jobs()] == [row_id]
        with unit_of_work():
            assert pending.retry_dead(row_id)
    assert pending.relay(runner.hand_over, runner.job_state) == 1
    with app.app_context(), unit_of_work():
        assert pending.discard_dead(row_id) is False  # not dead any more: it is retrying


def database_gone(reseller_id: int) -> None:
    raise sa.exc.OperationalError("SELECT 1", {}, Exception("terminating connection due to "
                                                              "administrator command"))


@pytest.mark.postgres_only
def test_an_outage_spends_no_attempt_and_the_relay_hands_the_job_over(
        app, committed_db, redis_server):
    """The fault suite's PostgreSQL restart: a webhook attempt or mail send (queued with
    retries=0) that met the outage was left dead, waiting for a human or the 10-minute
    sweep. An outage is not the job's failure: the row stays owed and is relayed."""
    reseller = _reseller(app)
    runner = jobs_module.RQRunner(app, redis_server.url)
    with app.app_context(), swapped_runner(app, runner):
        with unit_of_work():
            jobs_module.enqueue(f"{__name__}.database_gone", reseller.id, retries=0)
        _burst(app, redis_server.url)
    [row] = _owed()
    assert not row.dead and row.failures == 0
    _age(row.id, 30)
    assert pending.relay(runner.hand_over, runner.job_state) == 1  # RQ gave up; we do not
    assert jobs_module.is_outage(RuntimeError("wrapped")) is False
    try:
        try:
            database_gone(reseller.id)
        except sa.exc.OperationalError as error:
            raise RuntimeError("the job's own wrapper") from error
    except RuntimeError as wrapped:
        assert jobs_module.is_outage(wrapped)


def test_an_after_commit_callback_that_fails_does_not_undo_the_answer(app, db_session):
    ran = []

    def broken() -> None:
        raise ConnectionError("Redis is down")

    from reseller.core.db import after_commit

    with unit_of_work():
        after_commit(broken)
        after_commit(ran.append, "next")
    assert ran == ["next"]


@pytest.mark.postgres_only
def test_order_placed_while_redis_is_down_answers_202_and_replays(app, factory, db_session):
    install_catalogue()
    reseller = factory.reseller()
    fund(reseller, "200.00")
    api = factory.api(reseller)
    contact = api.post("/api/v1/contacts", json=CONTACT).json
    body = {"name": "katko-aikana.fi", "period": 1, "contacts": {"registrant": contact["id"]}}
    headers = {"Idempotency-Key": "order-during-outage"}
    with swapped_runner(app, jobs_module.RQRunner(app, dead_redis_url())):
        first = api.post("/api/v1/domains", json=body, headers=headers)
        again = api.post("/api/v1/domains", json=body, headers=headers)
    assert first.status_code == 202, first.json
    assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    owed = [row.path for row in _owed()]
    assert owed.count("reseller.domains.tasks.process_order") == 1


@pytest.mark.postgres_only
def test_a_key_held_by_an_open_request_is_a_quick_409_then_free_when_it_dies(
        app, committed_db):
    from tests.support.factories import Factory

    factory = Factory(app)
    reseller = factory.reseller()
    token = factory.token(reseller)
    rid = reseller.id
    committed_db.session.remove()
    url, body = "/api/v1/webhooks/endpoints", {"url": "https://hooks.example.com/x",
                                              "events": ["order.completed"]}
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "held-key"}
    # Another request claimed the key and has not committed (it hangs, or is dying).
    first = committed_db.engine.connect()
    holder = first.begin()
    first.execute(sa.text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))"),
                  {"space": 0x1D3, "key": f"{rid}:held-key"})
    try:
        started = time.monotonic()
        busy = app.test_client().post(url, json=body, headers=headers)
        waited = time.monotonic() - started
    finally:
        holder.rollback()  # the first request died: its claim goes with it
        first.close()
    assert busy.status_code == 409 and busy.json["code"] == "idempotency_key_in_use"
    assert busy.headers["Retry-After"] == "1"
    assert waited < 5
    retried = app.test_client().post(url, json=body, headers=headers)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
