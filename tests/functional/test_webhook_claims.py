"""Webhook attempts are made with no transaction open: the attempt is claimed (a committed
lease), the name resolved and the POST made, and the outcome recorded only by the run that
still holds the lease. An attempt whose worker died after its POST is made again, under
the same webhook-id, once the lease has run out; two runs at once make one POST."""

import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.core.jobs import run
from reseller.webhooks import services, targets, tasks
from reseller.webhooks.models import WebhookAttempt, WebhookDelivery
from tests.support.outside_calls import idle_probe

DELIVER = services.DELIVER


class Receiver:
    """A real HTTP server on 127.0.0.1 answering ``status`` after ``pause`` seconds."""

    def __init__(self, status=200, pause=0.0):
        self.requests: list[str] = []  # webhook-id of each request
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(self.headers["webhook-id"])
                time.sleep(pause)
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever,
                         kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(**kwargs):
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for server in made:
        server.close()


class WorkerKilled(BaseException):
    """Stands for SIGKILL after the POST: nothing after it runs."""


@pytest.fixture
def spy(monkeypatch):
    """Wrap the DNS check and the POST, noting whether a transaction was open at each;
    ``during(n)`` runs after the ``n``-th POST."""
    calls: list[tuple[str, bool]] = []
    hooks: dict = {}
    resolve, post = targets.resolve_target, targets.post

    def spied_resolve(url, **kwargs):
        calls.append(("resolve", db.session().in_transaction()))
        return resolve(url, **kwargs)

    def spied_post(*args):
        calls.append(("post", db.session().in_transaction()))
        answer = post(*args)
        if "during" in hooks:
            hooks["during"](sum(1 for name, _ in calls if name == "post"))
        return answer

    monkeypatch.setattr(targets, "resolve_target", spied_resolve)
    monkeypatch.setattr(targets, "post", spied_post)
    calls_and_hooks = type("Spy", (), {"calls": calls, "hooks": hooks})
    return calls_and_hooks


def _later(monkeypatch, seconds: float) -> None:
    moved = clock.real_now() + timedelta(seconds=seconds)
    monkeypatch.setattr(clock, "real_now", lambda: moved)


def _test_delivery(reseller_id: int, url: str) -> int:
    with unit_of_work():
        endpoint = services.create_endpoint(reseller_id=reseller_id, url=url, events=[],
                                            allow_private=True)
        return services.send_test(reseller_id=reseller_id, endpoint_id=endpoint.id).id


def _lease_s(app) -> float:
    return tasks.lease_for(app.config["WEBHOOKS_TIMEOUT"]).total_seconds()


@pytest.mark.smoke
def test_the_attempt_resolves_and_posts_with_no_transaction_open(factory, jobs, receiver,
                                                                spy):
    server = receiver()
    delivery_id = _test_delivery(factory.reseller().id, server.url)
    jobs.run_all()
    assert spy.calls == [("resolve", False), ("post", False)]
    delivery = db.session.get(WebhookDelivery, delivery_id)
    assert (delivery.status, delivery.attempts, delivery.claimed_until) == ("succeeded", 1, None)
    assert [a.status_code for a in delivery.attempt_log] == [200]
    assert len(server.requests) == 1


def test_a_failed_attempt_is_recorded_after_it_and_the_next_one_queued(
        factory, jobs, receiver, spy, delays):
    server = receiver(status=503)
    delivery_id = _test_delivery(factory.reseller().id, server.url)
    jobs.run_all(limit=1)
    assert spy.calls == [("resolve", False), ("post", False)]
    delivery = db.session.get(WebhookDelivery, delivery_id)
    assert (delivery.status, delivery.attempts, delivery.claimed_until) == ("pending", 1, None)
    assert delivery.last_status_code == 503
    assert delays[-1] == (DELIVER, (delivery_id, 2), tasks.backoff(1))


def test_a_worker_killed_after_the_post_makes_the_attempt_again_after_the_lease(
        app, factory, jobs, receiver, spy, delays, monkeypatch):
    def killed(n):
        if n == 1:
            raise WorkerKilled

    spy.hooks["during"] = killed
    server = receiver()
    delivery_id = _test_delivery(factory.reseller().id, server.url)
    with pytest.raises(WorkerKilled):
        jobs.run_all(limit=1)
    db.session.rollback()
    delivery = db.session.get(WebhookDelivery, delivery_id)
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert delivery.claimed_until > clock.real_now()  # committed before the POST
    # The job again at once (the relay handing it over): the lease is in force, so no POST;
    # it looks again when the lease ends.
    jobs.jobs[:] = [(DELIVER, (delivery_id, 1))]
    jobs.run_all(limit=1)
    assert len(server.requests) == 1
    path, args, delay = delays[-1]
    assert (path, args) == (DELIVER, (delivery_id, 1))
    assert _lease_s(app) - 5 <= delay <= _lease_s(app)
    # The sweep leaves the attempt alone while it is leased.
    with unit_of_work():
        assert tasks.sweep_overdue() == 0
    _later(monkeypatch, _lease_s(app) + 1)
    jobs.run_all()
    assert len(server.requests) == 2 and len(set(server.requests)) == 1  # same webhook-id
    delivery = db.session.get(WebhookDelivery, delivery_id)
    assert (delivery.status, delivery.attempts, delivery.claimed_until) == ("succeeded", 1, None)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookAttempt)
                             .where(WebhookAttempt.delivery_id == delivery_id)) == 1
    assert [kind for kind, _ in spy.calls] == ["resolve", "post", "resolve", "post"]
    assert not any(open_ for _, open_ in spy.calls)


def test_a_run_that_outlived_its_lease_does_not_record_its_outcome(app, factory, jobs,
                                                                  receiver, spy, monkeypatch):
    """Run A's POST outlives its lease; run B makes the attempt and records it. A's
    answer, when it comes, is not recorded over B's (no second attempt row, no retry)."""
    def during(n):
        if n == 1:
            _later(monkeypatch, _lease_s(app) + 1)
            tasks.deliver(delivery_id, 1)  # run B, while A has no transaction open

    spy.hooks["during"] = during
    server = receiver()
    delivery_id = _test_delivery(factory.reseller().id, server.url)
    jobs.run_all()
    assert len(server.requests) == 2
    delivery = db.session.get(WebhookDelivery, delivery_id)
    assert (delivery.status, delivery.attempts, delivery.claimed_until) == ("succeeded", 1, None)
    assert [a.number for a in delivery.attempt_log] == [1]


def test_a_disabled_endpoint_fails_the_delivery_without_a_post(factory, jobs, receiver, spy):
    server = receiver()
    reseller = factory.reseller()
    delivery_id = _test_delivery(reseller.id, server.url)
    with unit_of_work():
        delivery = db.session.get(WebhookDelivery, delivery_id)
        services.update_endpoint(reseller_id=reseller.id, endpoint_id=delivery.endpoint_id,
                                 allow_private=True, active=False)
    jobs.run_all()
    assert spy.calls == [] and server.requests == []
    delivery = db.session.get(WebhookDelivery, delivery_id)
    assert (delivery.status, delivery.last_error) == ("failed", "endpoint disabled")


def _committed_delivery(committed_db, url: str) -> int:
    from reseller.accounts.models import Reseller

    with unit_of_work():
        reseller = Reseller(company_name="Koukku Oy", country="FI", business_id="2464491-9",
                            contact_email="info@koukku.example", language="fi")
        committed_db.session.add(reseller)
        committed_db.session.flush()
        reseller_id = reseller.id
    return _test_delivery(reseller_id, url)


@pytest.mark.postgres_only
def test_two_runs_of_one_attempt_at_once_post_once(app, committed_db, receiver):
    server = receiver(pause=0.5)
    delivery_id = _committed_delivery(committed_db, server.url)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                run(DELIVER, delivery_id, 1)
                db.session.remove()
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert len(server.requests) == 1
    delivery = committed_db.session.get(WebhookDelivery, delivery_id)
    assert (delivery.status, delivery.attempts) == ("succeeded", 1)
    app.extensions["tunnus.jobs"].jobs.clear()


@pytest.mark.postgres_only
def test_while_the_post_is_in_flight_no_transaction_holds_an_id_or_the_row(
        app, committed_db, receiver, spy):
    """Seen from another connection during the POST: no backend of this database holds a
    transaction id (what would stall the event feed) and the delivery row is not locked."""
    server = receiver()
    delivery_id = _committed_delivery(committed_db, server.url)
    seen, look = idle_probe(committed_db.engine, "webhook_deliveries", delivery_id)

    spy.hooks["during"] = look
    run(DELIVER, delivery_id, 1)
    assert spy.calls == [("resolve", False), ("post", False)]
    assert seen == {"xids": 0, "locked": False}
    assert committed_db.session.get(WebhookDelivery, delivery_id).status == "succeeded"
    app.extensions["tunnus.jobs"].jobs.clear()


@pytest.mark.postgres_only
def test_registering_an_endpoint_resolves_its_name_holding_no_transaction_id(
        app, committed_db, receiver, monkeypatch):
    """The registration check (DNS) runs before the service reads or writes anything: the
    request holds no transaction id (nor so a row lock) then, so no feed waits on it.

    (The token's last use, written at most once a minute per token by authentication and
    flushed by the rate limiter's query, is the kernel's: the first call commits it.)"""
    from tests.support.factories import Factory

    factory = Factory(app)
    api = factory.api(factory.reseller())
    server = receiver()
    created = api.post("/api/v1/webhooks/endpoints", json={"url": server.url})
    assert created.status_code == 201  # sandbox mode: the form is checked, no lookup
    held: list = []
    resolve = targets.resolve_target

    def spied_resolve(url, **kwargs):
        held.append(db.session.scalar(sa.text("SELECT pg_current_xact_id_if_assigned()")))
        return resolve(url, **kwargs)

    monkeypatch.setattr(targets, "resolve_target", spied_resolve)
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE", False)
    refused = api.post("/api/v1/webhooks/endpoints", json={"url": "https://localhost/hook"})
    assert refused.status_code == 422  # resolved, and refused: loopback
    changed = api.patch(f"/api/v1/webhooks/endpoints/{created.json['id']}",
                        json={"url": "https://localhost/other"})
    assert changed.status_code == 422
    assert held == [None, None]
    app.extensions["tunnus.jobs"].jobs.clear()
