"""Readiness checks for ``/readyz``: can this deployment do its work right now?

Each check returns ``{"ok": bool, ...what it saw}``. With RQ: the database answers, Redis
answers, at least one worker's heartbeat is fresh and the queues are being consumed (the
oldest waiting job is younger than ``READY_QUEUE_WAIT_SECONDS``), the scheduler beat
within its TTL, and no owed job has waited a minute without a relay looking at it. In the
embedded default the job thread stands in for workers and scheduler.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask

from reseller.core import liveness, pending
from reseller.core.extensions import db


def check_all(app: Flask) -> dict[str, dict[str, Any]]:
    runner = app.extensions["tunnus.jobs"]
    checks = {"database": _database()}
    connection = getattr(runner, "connection", None)
    if connection is None:
        checks["jobs"] = {"ok": True, "mode": app.config["JOBS_MODE"]}
        return checks
    checks["redis"] = _redis(connection)
    if checks["redis"]["ok"]:
        wait = app.config.get("READY_QUEUE_WAIT_SECONDS", 60)
        checks["workers"] = _workers(connection, runner.queues, wait)
        checks["scheduler"] = _scheduler(connection)
    if checks["database"]["ok"]:
        checks["owed_jobs"] = _owed()
    return checks


def _database() -> dict[str, Any]:
    try:
        db.session.execute(sa.text("SELECT 1"))
        return {"ok": True}
    except sa.exc.SQLAlchemyError as error:
        db.session.rollback()
        return {"ok": False, "error": type(error).__name__}


def _redis(connection: Any) -> dict[str, Any]:
    try:
        connection.ping()
        return {"ok": True}
    except Exception as error:  # redis errors of any kind mean "down"
        return {"ok": False, "error": type(error).__name__}


def _workers(connection: Any, queues: dict[str, Any], max_wait_s: float) -> dict[str, Any]:
    alive = liveness.alive_workers(connection)
    waits = {name: _oldest_wait(queue) for name, queue in queues.items()}
    consuming = all(wait <= max_wait_s for wait in waits.values())
    return {"ok": bool(alive) and consuming, "alive": len(alive),
            "oldest_wait_s": waits, "consuming": consuming}


def _oldest_wait(queue: Any) -> float:
    ids = queue.get_job_ids(0, 0)
    job = queue.fetch_job(ids[0]) if ids else None
    if job is None or job.enqueued_at is None:
        return 0.0
    enqueued = job.enqueued_at if job.enqueued_at.tzinfo else job.enqueued_at.replace(tzinfo=UTC)
    return round(max(0.0, (datetime.now(UTC) - enqueued).total_seconds()), 1)


def _scheduler(connection: Any) -> dict[str, Any]:
    age = liveness.scheduler_beat(connection)
    return {"ok": age is not None, "beat_age_s": None if age is None else round(age, 1)}


def _owed() -> dict[str, Any]:
    try:
        backlog = pending.backlog()
    except sa.exc.SQLAlchemyError as error:
        db.session.rollback()
        return {"ok": False, "error": type(error).__name__}
    return {"ok": backlog["unrelayed"] == 0, **backlog}
