"""Jobs are enqueued only after commit, and RQ workers run them against the database."""

import pytest
import sqlalchemy as sa

from reseller import worker
from reseller.core import jobs as jobs_module
from reseller.core.db import unit_of_work
from reseller.core.events import Event, record_event
from reseller.core.extensions import db


def record_ping(reseller_id: int, marker: str) -> None:
    """A job used by these tests: records an event (idempotently, by marker)."""
    record_event(reseller_id=reseller_id, type="test.ping", data={"marker": marker},
                 dedupe_key=f"ping:{marker}")


PATH = "tests.integration.test_jobs.record_ping"


@pytest.mark.smoke
def test_job_is_queued_only_when_the_transaction_commits(app, factory, jobs):
    reseller = factory.reseller()
    with pytest.raises(RuntimeError), unit_of_work():
        jobs_module.enqueue(PATH, reseller.id, "rolled-back")
        raise RuntimeError("boom")
    assert jobs.jobs == []
    with unit_of_work():
        jobs_module.enqueue(PATH, reseller.id, "committed")
    assert jobs.jobs == [(PATH, (reseller.id, "committed"))]
    jobs.run_all()
    jobs.run_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 1


@pytest.mark.postgres_only
def test_rq_worker_runs_a_committed_job(app, committed_db, redis_server):
    from redis import Redis
    from rq import Queue

    from reseller.worker import InProcessWorker

    runner = jobs_module.RQRunner(app, redis_server.url)
    with app.app_context():
        from reseller.accounts.models import Reseller

        reseller = Reseller(company_name="Queue Oy", country="FI", business_id="2464491-9",
                            contact_email="q@example.test", language="fi")
        with unit_of_work():
            db.session.add(reseller)
        original = app.extensions["tunnus.jobs"]
        app.extensions["tunnus.jobs"] = runner
        try:
            with unit_of_work():
                jobs_module.enqueue(PATH, reseller.id, "via-rq")
        finally:
            app.extensions["tunnus.jobs"] = original
        worker.use_app(app)  # the worker process would build its own app
        connection = Redis.from_url(redis_server.url)
        rq_worker = InProcessWorker([Queue("default", connection=connection)],
                                    connection=connection)
        assert rq_worker.work(burst=True)
        db.session.remove()
        events = db.session.scalars(sa.select(Event).where(Event.type == "test.ping")).all()
        assert [e.data["marker"] for e in events] == ["via-rq"]
        worker.use_app(None)


@pytest.mark.postgres_only
def test_jobs_queued_under_the_old_entry_point_name_still_run(app, committed_db,
                                                              redis_server):
    """RQ stores the entry point's name with each job: new jobs name the worker, and a job
    queued before it moved (``reseller.core.jobs.execute``) still runs."""
    from redis import Redis
    from rq import Queue

    from reseller.worker import InProcessWorker

    runner = jobs_module.RQRunner(app, redis_server.url)
    with app.app_context():
        from reseller.accounts.models import Reseller

        reseller = Reseller(company_name="Legacy Oy", country="FI", business_id="2464491-9",
                            contact_email="l@example.test", language="fi")
        with unit_of_work():
            db.session.add(reseller)
        original = app.extensions["tunnus.jobs"]
        app.extensions["tunnus.jobs"] = runner
        try:
            with unit_of_work():
                jobs_module.enqueue(PATH, reseller.id, "new-name")
        finally:
            app.extensions["tunnus.jobs"] = original
        connection = Redis.from_url(redis_server.url)
        queue = Queue("default", connection=connection)
        assert [job.func_name for job in queue.jobs] == ["reseller.worker.execute"]
        queue.enqueue("reseller.core.jobs.execute", PATH, reseller.id, "old-name")
        worker.use_app(app)
        try:
            assert InProcessWorker([queue], connection=connection).work(burst=True)
        finally:
            worker.use_app(None)
        db.session.remove()
        markers = db.session.scalars(sa.select(Event.data).where(Event.type == "test.ping")
                                     .order_by(Event.id)).all()
        assert [m["marker"] for m in markers] == ["new-name", "old-name"]


@pytest.mark.postgres_only
def test_rq_worker_takes_urgent_jobs_before_waiting_ordinary_ones(app, committed_db,
                                                                  redis_server):
    from redis import Redis
    from rq import Queue

    from reseller.worker import InProcessWorker

    runner = jobs_module.RQRunner(app, redis_server.url)
    with app.app_context():
        from reseller.accounts.models import Reseller

        reseller = Reseller(company_name="Urgent Oy", country="FI", business_id="2464491-9",
                            contact_email="u@example.test", language="fi")
        with unit_of_work():
            db.session.add(reseller)
        original = app.extensions["tunnus.jobs"]
        app.extensions["tunnus.jobs"] = runner
        try:
            with unit_of_work():
                jobs_module.enqueue(PATH, reseller.id, "ordinary-1")
                jobs_module.enqueue(PATH, reseller.id, "ordinary-2")
                jobs_module.enqueue(PATH, reseller.id, "urgent", urgent=True)
        finally:
            app.extensions["tunnus.jobs"] = original
        worker.use_app(app)
        connection = Redis.from_url(redis_server.url)
        queues = [Queue(name, connection=connection) for name in jobs_module.QUEUES]
        assert InProcessWorker(queues, connection=connection).work(burst=True)
        db.session.remove()
        markers = db.session.scalars(sa.select(Event.data).where(Event.type == "test.ping")
                                     .order_by(Event.id)).all()
        assert [m["marker"] for m in markers] == ["urgent", "ordinary-1", "ordinary-2"]
        worker.use_app(None)


def test_thread_runner_runs_urgent_jobs_first_and_otherwise_in_order(app):
    runner = jobs_module.ThreadRunner(app)
    runner._put(1, "a", (), 0, 0.0)
    runner._put(1, "b", (), 0, 0.0)
    runner._put(0, "urgent", (), 0, 0.0)
    runner._put(1, "c", (), 0, 0.0)
    taken = [runner.queue.get()[2] for _ in range(4)]
    assert taken == ["urgent", "a", "b", "c"]


def _enqueue_via_rq(app, redis_url: str, marker: str) -> None:
    from reseller.accounts.models import Reseller

    reseller = Reseller(company_name="Worker Oy", country="FI", business_id="2464491-9",
                        contact_email="w@example.test", language="fi")
    with unit_of_work():
        db.session.add(reseller)
    original = app.extensions["tunnus.jobs"]
    app.extensions["tunnus.jobs"] = jobs_module.RQRunner(app, redis_url)
    try:
        with unit_of_work():
            jobs_module.enqueue(PATH, reseller.id, marker)
    finally:
        app.extensions["tunnus.jobs"] = original


@pytest.mark.postgres_only
@pytest.mark.parametrize("fork", [False, True], ids=["in-process", "forked"])
def test_flask_worker_runs_jobs_in_its_own_app_without_building_another(
        app, committed_db, redis_server, monkeypatch, fork):
    """``flask worker`` builds the app once; a job never pays for create_app(), and a
    forked work horse gets fresh database connections instead of its parent's."""
    import reseller.app

    def no_second_app(*args, **kwargs):
        raise AssertionError("a job built a second app")

    monkeypatch.setitem(app.config, "REDIS_URL", redis_server.url)
    monkeypatch.setattr(reseller.app, "create_app", no_second_app)
    with app.app_context():
        _enqueue_via_rq(app, redis_server.url, f"cli-{fork}")
    args = ["worker", "--burst"] + (["--fork"] if fork else [])
    try:
        result = app.test_cli_runner().invoke(args=args)
    finally:
        worker.use_app(None)
    assert result.exit_code == 0, result.output
    with app.app_context():
        markers = db.session.scalars(sa.select(Event.data).where(Event.type == "test.ping")).all()
        assert [m["marker"] for m in markers] == [f"cli-{fork}"]


@pytest.mark.postgres_only
def test_flask_worker_max_jobs_exits_after_that_many(app, committed_db, redis_server,
                                                     monkeypatch):
    """--max-jobs lets a supervisor recycle long-lived in-process workers."""
    monkeypatch.setitem(app.config, "REDIS_URL", redis_server.url)
    with app.app_context():
        _enqueue_via_rq(app, redis_server.url, "first")
        _enqueue_via_rq(app, redis_server.url, "second")
    try:
        result = app.test_cli_runner().invoke(args=["worker", "--max-jobs", "1"])
    finally:
        worker.use_app(None)
    assert result.exit_code == 0, result.output
    with app.app_context():
        markers = db.session.scalars(sa.select(Event.data).where(Event.type == "test.ping")).all()
        assert [m["marker"] for m in markers] == ["first"]


# -- follow-ups: ordinary work queued by an ordinary job runs in the same worker ------------

def ping_with_job_id(reseller_id: int, marker: str) -> None:
    """Records which RQ job it ran in."""
    from rq import get_current_job

    record_event(reseller_id=reseller_id, type="test.ping",
                 data={"marker": marker, "job": get_current_job().id},
                 dedupe_key=f"ping:{marker}")


def fan_out(reseller_id: int, marker: str, follow_up: str) -> None:
    ping_with_job_id(reseller_id, marker)
    jobs_module.enqueue(f"{__name__}.{follow_up}", reseller_id, f"{marker}-a")
    jobs_module.enqueue(f"{__name__}.{follow_up}", reseller_id, f"{marker}-b")


def fan_out_wide(reseller_id: int, marker: str) -> None:
    ping_with_job_id(reseller_id, marker)
    for n in range(jobs_module.FAN_OUT + 1):
        jobs_module.enqueue(f"{__name__}.ping_with_job_id", reseller_id, f"{marker}-{n}")


def fails_the_first_time(reseller_id: int, marker: str) -> None:
    """The ``-a`` one fails its first attempt."""
    from flask import current_app

    attempt = current_app.extensions["tunnus.jobs"].connection.incr(f"attempts:{marker}")
    if marker.endswith("-a") and attempt == 1:
        raise RuntimeError("the first attempt fails")
    ping_with_job_id(reseller_id, marker)


def _run_in_rq_worker(app, redis_url: str, path: str, *args, urgent: bool = False) -> dict:
    """Queue ``path(*args)`` through Redis, run a burst worker; events by marker."""
    from redis import Redis
    from rq import Queue

    from reseller.accounts.models import Reseller
    from reseller.worker import InProcessWorker

    original = app.extensions["tunnus.jobs"]
    app.extensions["tunnus.jobs"] = jobs_module.RQRunner(app, redis_url)
    try:
        reseller = Reseller(company_name="Follow Oy", country="FI", business_id="2464491-9",
                            contact_email="f@example.test", language="fi")
        with unit_of_work():
            db.session.add(reseller)
        with unit_of_work():
            jobs_module.enqueue(path, reseller.id, *args, urgent=urgent)
        worker.use_app(app)
        connection = Redis.from_url(redis_url)
        queues = [Queue(name, connection=connection) for name in jobs_module.QUEUES]
        assert InProcessWorker(queues, connection=connection).work(burst=True)
    finally:
        app.extensions["tunnus.jobs"] = original
        worker.use_app(None)
    db.session.remove()
    return {e.data["marker"]: e.data["job"] for e in db.session.scalars(
        sa.select(Event).where(Event.type == "test.ping"))}


@pytest.mark.postgres_only
def test_ordinary_work_queued_by_an_ordinary_job_runs_in_the_same_worker_job(
        app, committed_db, redis_server):
    with app.app_context():
        ran = _run_in_rq_worker(app, redis_server.url, f"{__name__}.fan_out", "fan",
                                "ping_with_job_id")
    assert set(ran) == {"fan", "fan-a", "fan-b"}
    assert ran["fan-a"] == ran["fan-b"] == ran["fan"]  # no round trip through Redis


@pytest.mark.postgres_only
def test_an_urgent_job_queues_its_follow_ups_for_other_jobs(app, committed_db, redis_server):
    """A reseller's next order must not wait behind the previous one's emails."""
    with app.app_context():
        ran = _run_in_rq_worker(app, redis_server.url, f"{__name__}.fan_out", "urgent-fan",
                                "ping_with_job_id", urgent=True)
    assert set(ran) == {"urgent-fan", "urgent-fan-a", "urgent-fan-b"}
    assert len(set(ran.values())) == 3


@pytest.mark.postgres_only
def test_a_failing_follow_up_goes_to_redis_with_its_retries(app, committed_db, redis_server):
    from redis import Redis
    from rq import Queue
    from rq.registry import ScheduledJobRegistry

    with app.app_context():
        ran = _run_in_rq_worker(app, redis_server.url, f"{__name__}.fan_out", "flaky",
                                "fails_the_first_time")
    # -a failed inline and waits in Redis for RQ's retry; -b still ran in the parent job
    assert set(ran) == {"flaky", "flaky-b"}
    connection = Redis.from_url(redis_server.url)
    registry = ScheduledJobRegistry(queue=Queue("default", connection=connection))
    waiting = [job for job in (Queue("default", connection=connection).fetch_job(job_id)
                               for job_id in registry.get_job_ids())
               if job is not None and job.args[2:] == ("flaky-a",)]
    assert len(waiting) == 1 and waiting[0].retries_left == 4


@pytest.mark.postgres_only
def test_a_job_that_fans_out_shares_the_work_with_every_worker(app, committed_db,
                                                                redis_server):
    """The month-end run queues a job per reseller: those must not run one by one in
    the worker that queued them."""
    with app.app_context():
        ran = _run_in_rq_worker(app, redis_server.url, f"{__name__}.fan_out_wide", "wide")
    assert len(ran) == jobs_module.FAN_OUT + 2
    assert len(set(ran.values())) == len(ran)  # each piece was its own RQ job



def ping_in_two_steps(reseller_id: int, marker: str, fail_last: bool = False) -> None:
    """A job that commits in steps, as an order does around its registry call."""
    with unit_of_work():
        record_ping(reseller_id, f"{marker}-first")
    with unit_of_work():
        record_ping(reseller_id, f"{marker}-last")
        jobs_module.settle_in_this_unit()
        if fail_last:
            raise RuntimeError("the last step failed after settling")


@pytest.mark.postgres_only
def test_a_job_in_steps_settles_its_owed_row_with_its_last_step(app, committed_db):
    """No transaction of its own after the job's last one; a last step that rolls back
    leaves the job owed, for its retry."""
    from reseller.accounts.models import Reseller
    from reseller.core import pending

    path = "tests.integration.test_jobs.ping_in_two_steps"
    with app.app_context():
        reseller = Reseller(company_name="Askel Oy", country="FI", business_id="2464491-9",
                            contact_email="a@example.test", language="fi")
        with unit_of_work():
            db.session.add(reseller)
        with unit_of_work():
            owed = pending.owe(path, (reseller.id, "ok"), retries=1, delay=0,
                               queue="default", request_id=None)
            failing = pending.owe(path, (reseller.id, "bad", True), retries=1, delay=0,
                                  queue="default", request_id=None)
        commits = []

        def count(connection) -> None:
            commits.append(connection)

        sa.event.listen(db.engine, "commit", count)
        try:
            jobs_module.run(path, reseller.id, "ok", pending_id=owed)
        finally:
            sa.event.remove(db.engine, "commit", count)
        assert len(commits) == 2  # the job's two steps; the second settled the row
        assert not pending.is_owed(owed)
        with pytest.raises(RuntimeError):
            jobs_module.run(path, reseller.id, "bad", True, pending_id=failing)
        assert pending.is_owed(failing)  # the settle rolled back with the step
        markers = {e.data["marker"] for e in db.session.scalars(
            sa.select(Event).where(Event.type == "test.ping"))}
        assert markers == {"ok-first", "ok-last", "bad-first"}
        db.session.remove()
