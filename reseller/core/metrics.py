"""Prometheus metrics: what the kernel measures, and what features add (``add_gauges``).

``/metrics`` (``reseller.core.web.views``) renders a registry of its own per app: request
latency by endpoint (a histogram this process observes), and gauges read from the
database and Redis at scrape time — queue depths, owed and dead jobs, and each feature's
(order states and ages, holds by age, webhook and mail backlogs, feed lag). With gunicorn's
several processes, set ``PROMETHEUS_MULTIPROC_DIR`` so the latency histogram adds up across
them (prometheus-client's multiprocess mode); the gauges are read fresh on every scrape.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, g, request
from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric

from reseller.core import liveness, pending
from reseller.core.extensions import db

log = logging.getLogger(__name__)

_GAUGES = "tunnus.metric_gauges"
_REGISTRY = "tunnus.metrics"
Gauges = Callable[[], Iterable[Metric]]


def add_gauges(app: Flask, gauges: Gauges) -> None:
    """Register ``gauges()``: metric families read at each scrape (in an app context)."""
    app.extensions.setdefault(_GAUGES, []).append(gauges)


def gauge(name: str, documentation: str, samples: Iterable[tuple[dict[str, str], float]],
          labels: Iterable[str] = ()) -> GaugeMetricFamily:
    """A gauge family from ``(labels, value)`` pairs."""
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    for label_values, value in samples:
        family.add_metric([label_values[name] for name in family._labelnames], value)
    return family


def backlog(name: str, what: str, created: Any, *where: Any) -> list[GaugeMetricFamily]:
    """``{name}`` (how many rows match ``where``) and ``{name}_oldest_age_seconds`` (by
    ``created``, read against the business clock the rows were stamped with)."""
    import sqlalchemy as sa

    from reseller.core.clock import clock

    count, oldest = db.session.execute(
        sa.select(sa.func.count(), sa.func.min(created)).where(*where)).one()
    age = max(0.0, (clock.now() - oldest).total_seconds()) if oldest is not None else 0.0
    return [gauge(name, what, [({}, count)]),
            gauge(f"{name}_oldest_age_seconds", f"Age of the oldest of: {what.lower()}",
                  [({}, age)])]


class _FeatureGauges:
    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterable[Metric]:
        for gauges in self.app.extensions.get(_GAUGES, []):
            try:
                yield from gauges()
            except Exception:  # one broken source must not hide the others
                log.exception("metrics from %r failed", gauges)
                db.session.rollback()


def _kernel_gauges() -> Iterable[Metric]:
    from flask import current_app

    from reseller.core.events import Event

    yield from backlog("tunnus_feed_undispatched", "Events whose listeners have not run yet "
                       "(feed lag)", Event.created_at, Event.dispatched_at.is_(None))
    owed = pending.backlog()
    yield gauge("tunnus_jobs_owed", "Jobs owed by committed transactions, not yet done",
                [({}, owed["owed"])])
    yield gauge("tunnus_jobs_owed_oldest_age_seconds", "Age of the oldest owed job",
                [({}, owed["oldest_age_s"])])
    yield gauge("tunnus_jobs_unrelayed", "Owed jobs due for a minute that no relay has seen",
                [({}, owed["unrelayed"])])
    yield gauge("tunnus_jobs_dead", "Jobs that failed every attempt (console: needs a human)",
                [({}, owed["dead"])])
    runner = current_app.extensions["tunnus.jobs"]
    connection = getattr(runner, "connection", None)
    if connection is None:
        return
    from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

    depth, running, failed, delayed = [], [], [], []
    for name, queue in runner.queues.items():
        depth.append(({"queue": name}, queue.count))
        running.append(({"queue": name}, StartedJobRegistry(queue=queue).count))
        failed.append(({"queue": name}, FailedJobRegistry(queue=queue).count))
        delayed.append(({"queue": name}, ScheduledJobRegistry(queue=queue).count))
    yield gauge("tunnus_queue_depth", "Jobs waiting in each RQ queue", depth, ["queue"])
    yield gauge("tunnus_queue_running", "Jobs running from each queue", running, ["queue"])
    yield gauge("tunnus_queue_failed", "Jobs in RQ's failed registry (kept 7 days)", failed,
                ["queue"])
    yield gauge("tunnus_queue_delayed", "Jobs waiting for a retry or a delay", delayed,
                ["queue"])
    yield gauge("tunnus_workers_alive", "Workers whose heartbeat is fresh",
                [({}, len(liveness.alive_workers(connection)))])
    beat = liveness.scheduler_beat(connection)
    yield gauge("tunnus_scheduler_beat_age_seconds", "Seconds since the scheduler's beat "
                "(absent: no beat within its TTL)", [({}, beat)] if beat is not None else [])


def init_app(app: Flask) -> None:
    registry = CollectorRegistry(auto_describe=False)
    latency = Histogram("tunnus_http_request_duration_seconds",
                        "Time to answer a request, by endpoint, method and status class",
                        ["endpoint", "method", "status"], registry=registry,
                        buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
    registry.register(_FeatureGauges(app))
    add_gauges(app, _kernel_gauges)
    app.extensions[_REGISTRY] = registry

    @app.before_request
    def _start_timer() -> None:
        g.tunnus_started = time.perf_counter()

    @app.after_request
    def _observe(response: Any) -> Any:
        started = g.pop("tunnus_started", None)
        if started is not None:
            latency.labels(request.endpoint or "unmatched", request.method,
                           f"{response.status_code // 100}xx").observe(
                time.perf_counter() - started)
        return response


def registry_of(app: Flask) -> CollectorRegistry:
    return app.extensions[_REGISTRY]
