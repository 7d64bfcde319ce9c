"""Probes and metrics: /healthz (liveness), /readyz (each dependency, clear JSON),
/metrics (Prometheus, behind a token)."""

from __future__ import annotations

import pytest
from redis import Redis

from reseller.core import jobs as jobs_module
from reseller.core import liveness
from tests.support import servers


class runner_swapped:
    def __init__(self, app, runner) -> None:
        self.app, self.runner = app, runner

    def __enter__(self):
        self.original = self.app.extensions["tunnus.jobs"]
        self.app.extensions["tunnus.jobs"] = self.runner

    def __exit__(self, *exc) -> None:
        self.app.extensions["tunnus.jobs"] = self.original


@pytest.mark.smoke
def test_healthz_asks_nothing_and_readyz_checks_the_database(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json == {"status": "ready", "checks": {
        "database": {"ok": True}, "jobs": {"ok": True, "mode": "collect"}}}


@pytest.mark.postgres_only
def test_readyz_needs_live_workers_and_a_beating_scheduler(app, client, redis_server):
    connection = Redis.from_url(redis_server.url)
    for key in connection.scan_iter(match="tunnus:alive:*"):
        connection.delete(key)
    with runner_swapped(app, jobs_module.RQRunner(app, redis_server.url)):
        nobody = client.get("/readyz")
        assert nobody.status_code == 503 and nobody.json["status"] == "not_ready"
        checks = nobody.json["checks"]
        assert checks["redis"] == {"ok": True}
        assert checks["workers"]["ok"] is False and checks["workers"]["alive"] == 0
        assert checks["scheduler"] == {"ok": False, "beat_age_s": None}
        hearts = [liveness.Heart(connection, liveness.WORKER_KEY + "w1").start(),
                  liveness.Heart(connection, liveness.SCHEDULER_KEY).start()]
        try:
            ready = client.get("/readyz")
        finally:
            for heart in hearts:
                heart.stop()
    assert ready.status_code == 200, ready.json
    assert ready.json["checks"]["workers"]["alive"] == 1
    assert ready.json["checks"]["owed_jobs"]["ok"] is True


@pytest.mark.postgres_only
def test_readyz_says_redis_is_down(app, client):
    dead = f"redis://127.0.0.1:{servers.free_port()}/0"
    with runner_swapped(app, jobs_module.RQRunner(app, dead)):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"]["ok"] is False
    assert response.json["checks"]["database"] == {"ok": True}


def test_metrics_expose_queues_orders_holds_backlogs_and_latency(client):
    client.get("/healthz")
    body = client.get("/metrics").get_data(as_text=True)
    for name in ("tunnus_jobs_owed ", "tunnus_jobs_dead ", "tunnus_orders_open ",
                 "tunnus_orders_unpaid ", 'tunnus_holds_active{age="gt_7d"}',
                 "tunnus_webhooks_pending ", "tunnus_mail_queued ",
                 "tunnus_feed_undispatched_oldest_age_seconds ",
                 'tunnus_http_request_duration_seconds_count{endpoint="root.healthz"'):
        assert name in body, name


def test_metrics_need_the_token_when_one_is_set(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "s3cret-metrics-token")
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"})
    assert right.status_code == 200 and right.mimetype == "text/plain"


def test_metrics_without_a_token_are_not_served_outside_the_sandbox(app, client,
                                                                    monkeypatch):
    monkeypatch.setitem(app.config, "SANDBOX", False)
    assert client.get("/metrics").status_code == 404


@pytest.mark.smoke
def test_a_database_outage_under_a_request_is_a_503_to_retry_not_a_500(app, client, factory,
                                                                      monkeypatch):
    """What the fault suite saw while PostgreSQL restarted: the orders a client sent got
    500 internal_error. A lost connection is 503 temporarily_unavailable with
    Retry-After (nothing was done; send the same request again), for people too."""
    import sqlalchemy as sa

    from reseller.domains import orders

    def lost(**_kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(orders, "list_orders", lost)
    monkeypatch.setitem(app.config, "RAISE_UNEXPECTED", False)
    response = client.get("/api/v1/orders", headers={"Authorization": f"Bearer {factory.token()}"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json["code"] == "temporarily_unavailable"
    assert "server closed" not in response.get_data(as_text=True)


@pytest.mark.smoke
def test_redis_gone_after_the_rate_limit_check_leaves_the_answer_standing(app, client, factory,
                                                                         monkeypatch):
    """What the fault suite saw when Redis stopped under committed orders: flask-limiter
    reads its window for the RateLimit headers only after the view, from Redis, and the
    committed 202 became a 500. The answer stands; the advisory headers are left out."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    limiter = app.extensions["tunnus.limiter"]

    class Gone:
        @property
        def reset_at(self):
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1. Connection refused.")

        remaining = reset_at

    monkeypatch.setattr(type(limiter), "current_limit", property(lambda self: Gone()))
    monkeypatch.setitem(app.config, "RAISE_UNEXPECTED", False)
    response = client.get("/api/v1/orders", headers={"Authorization": f"Bearer {factory.token()}"})
    assert response.status_code == 200
    assert "RateLimit-Limit" not in response.headers
