"""Processes that survive: ``flask worker`` rides out a Redis outage (backoff, no exit),
leaves no child behind when killed, and the work it lost is picked up by another."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from redis import Redis

from reseller.core import jobs as jobs_module
from reseller.core import liveness
from reseller.core.db import unit_of_work
from reseller.core.events import Event
from reseller.core.extensions import db
from tests.support import servers
from tests.support.factories import Factory

ROOT = Path(__file__).resolve().parents[2]
PATH = "tests.integration.test_commit_is_an_answer.record_ping"


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split() if (task / "children").exists() \
            else []
        found += [int(child) for child in children]
    return found


def _worker(database_url: str, redis_url: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
           "JOBS_MODE": "rq", "TUNNUS_ENV": "sandbox", "SECRET_KEY": "w" * 40,
           "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
    return subprocess.Popen([str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", "worker"],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def _pinged(marker: str) -> bool:
    db.session.remove()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Event).where(
        Event.type == "test.ping", Event.data["marker"].as_string() == marker)) == 1


@pytest.mark.postgres_only
def test_a_worker_rides_out_a_redis_restart_and_leaves_no_child(app, committed_db, postgres):
    redis = servers.start_redis()
    port = redis.port
    worker = _worker(postgres.url, redis.url)
    try:
        reseller_id = Factory(app).reseller().id
        original = app.extensions["tunnus.jobs"]
        app.extensions["tunnus.jobs"] = jobs_module.RQRunner(app, redis.url)
        try:
            with unit_of_work():
                jobs_module.enqueue(PATH, reseller_id, "before-outage")
            assert _wait_for(lambda: _pinged("before-outage"), 30)
            assert _children(worker.pid) == []  # no scheduler child to orphan
            redis.stop()
            with unit_of_work():  # committed while Redis is down: owed, not lost
                jobs_module.enqueue(PATH, reseller_id, "during-outage")
            time.sleep(3)
            assert worker.poll() is None, "the worker exited on the outage"
            redis = servers.start_redis(port)
            assert _wait_for(lambda: _pinged("during-outage"), 45), \
                "the relay did not hand the owed job over after the outage"
        finally:
            app.extensions["tunnus.jobs"] = original
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
        redis.stop()


@pytest.mark.postgres_only
def test_one_sigterm_stops_a_worker_riding_out_a_redis_outage(app, postgres):
    """Found by the fault suite: a worker whose Redis went away ignored SIGTERM (RQ's
    goodbye to Redis failed and was taken for one more outage) until a second signal or
    systemd's SIGKILL ten minutes later."""
    redis = servers.start_redis()
    worker = _worker(postgres.url, redis.url)
    try:
        connection = Redis.from_url(redis.url)
        assert _wait_for(lambda: liveness.alive_workers(connection), 60)
        redis.stop()
        time.sleep(3)  # in RQ's own reconnect loop by now
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
        redis.stop()
