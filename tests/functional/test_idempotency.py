"""Idempotency-Key on every POST under /api/v1, applied centrally."""

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.core.web.idempotency import IdempotencyRecord, purge_idempotency_keys
from reseller.webhooks.models import WebhookEndpoint

URL = "/api/v1/webhooks/endpoints"
BODY = {"url": "https://hooks.example.com/a", "events": ["order.completed"]}


def _endpoints(reseller_id):
    return db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint)
                             .where(WebhookEndpoint.reseller_id == reseller_id))


@pytest.mark.smoke
def test_same_key_and_body_replays_first_response(factory):
    reseller = factory.reseller()
    api = factory.api(reseller)
    first = api.post(URL, json=BODY, headers={"Idempotency-Key": "create-1"})
    second = api.post(URL, json=BODY, headers={"Idempotency-Key": "create-1"})
    assert first.status_code == 201, first.json
    assert second.status_code == 201
    assert second.json == first.json  # same id, same secret: nothing created twice
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.mimetype == "application/json"
    assert _endpoints(reseller.id) == 1


def test_key_order_in_json_does_not_matter(factory):
    api = factory.api()
    first = api.post(URL, json={"url": "https://hooks.example.com/a", "events": []},
                     headers={"Idempotency-Key": "k"})
    again = api.client.post(URL, data='{"events": [], "url": "https://hooks.example.com/a"}',
                            content_type="application/json",
                            headers={"Authorization": f"Bearer {api.token}",
                                     "Idempotency-Key": "k"})
    assert again.json["id"] == first.json["id"]


@pytest.mark.smoke
def test_same_key_different_body_is_422(factory):
    api = factory.api()
    api.post(URL, json=BODY, headers={"Idempotency-Key": "create-2"})
    other = api.post(URL, json={**BODY, "url": "https://hooks.example.com/b"},
                     headers={"Idempotency-Key": "create-2"})
    assert other.status_code == 422
    assert other.mimetype == "application/problem+json"
    assert other.json["code"] == "idempotency_key_reused"


def test_same_key_on_another_path_is_422(factory):
    api = factory.api()
    created = api.post(URL, json=BODY, headers={"Idempotency-Key": "k3"}).json
    other = api.post(f"{URL}/{created['id']}/rotate-secret", headers={"Idempotency-Key": "k3"})
    assert other.json["code"] == "idempotency_key_reused"


def test_keys_are_per_reseller(factory):
    first, second = factory.api(), factory.api()
    a = first.post(URL, json=BODY, headers={"Idempotency-Key": "shared"})
    b = second.post(URL, json=BODY, headers={"Idempotency-Key": "shared"})
    assert a.status_code == b.status_code == 201
    assert a.json["id"] != b.json["id"]


def test_refused_request_is_not_stored_so_a_fixed_retry_runs(factory):
    reseller = factory.reseller()
    api = factory.api(reseller)
    bad = api.post(URL, json={"url": "ftp://nope"}, headers={"Idempotency-Key": "k4"})
    assert bad.status_code == 422
    good = api.post(URL, json={"url": "ftp://nope"}, headers={"Idempotency-Key": "k4"})
    assert good.status_code == 422 and "Idempotent-Replayed" not in good.headers
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IdempotencyRecord)
                             .where(IdempotencyRecord.reseller_id == reseller.id)) == 0


def test_malformed_key_is_400(factory):
    response = factory.api().post(URL, json=BODY, headers={"Idempotency-Key": "bad key!"})
    assert response.status_code == 400
    assert response.json["code"] == "invalid_idempotency_key"


def test_without_a_key_each_post_creates(factory):
    reseller = factory.reseller()
    api = factory.api(reseller)
    api.post(URL, json=BODY)
    api.post(URL, json=BODY)
    assert _endpoints(reseller.id) == 2


def test_keys_are_kept_a_day_then_purged(factory, app):
    reseller = factory.reseller()
    api = factory.api(reseller)
    api.post(URL, json=BODY, headers={"Idempotency-Key": "old"})
    with unit_of_work():
        assert purge_idempotency_keys() == 0  # younger than 24 hours: kept
        record = db.session.scalar(sa.select(IdempotencyRecord)
                                   .where(IdempotencyRecord.reseller_id == reseller.id))
        record.created_at = clock.real_now() - timedelta(hours=25)
    with unit_of_work():
        assert purge_idempotency_keys() == 1
    again = api.post(URL, json=BODY, headers={"Idempotency-Key": "old"})
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers


def test_purge_is_a_periodic_job():
    from reseller.core.jobs import PERIODIC

    assert PERIODIC["purge_idempotency_keys"].path.endswith("purge_idempotency_keys")


def test_the_purge_job_still_runs_under_its_old_stored_path(app, db_session):
    """Job paths are stored (Redis, RQ's cron registrations): the purge moved from
    reseller.api to reseller.core.web, and its old path still runs it."""
    from reseller.core.jobs import run

    assert run("reseller.api.idempotency.purge_idempotency_keys") == 0


@pytest.mark.postgres_only
def test_concurrent_replays_of_one_key_create_one_resource(app, committed_db):
    from tests.support.factories import Factory

    factory = Factory(app)
    reseller = factory.reseller()
    token = factory.token(reseller)
    reseller_id = reseller.id
    committed_db.session.remove()
    threads, results = 6, []
    barrier = threading.Barrier(threads)

    def call() -> None:
        client = app.test_client()
        barrier.wait()
        results.append(client.post(URL, json=BODY, headers={
            "Authorization": f"Bearer {token}", "Idempotency-Key": "race-1"}))

    workers = [threading.Thread(target=call) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert [r.status_code for r in results] == [201] * threads
    assert len({r.json["id"] for r in results}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in results) == threads - 1
    assert _endpoints(reseller_id) == 1


def test_public_posts_accept_a_key_without_a_token(client):
    from tests.functional.test_onboarding import GOOD

    response = client.post("/api/v1/applications", json=GOOD,
                           headers={"Idempotency-Key": "apply-1"})
    assert response.status_code == 201
