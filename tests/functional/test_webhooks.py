"""Webhooks: signed deliveries, retries against a real local receiver, SSRF refusals."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook

from reseller.core.db import unit_of_work
from reseller.core.events import record_event
from reseller.webhooks.models import WebhookDelivery
from reseller.webhooks.tasks import backoff

ENDPOINTS = "/api/v1/webhooks/endpoints"


class Receiver:
    """A real HTTP server on 127.0.0.1 that answers with the queued status codes."""

    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()},
                                          body.decode()))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(*statuses):
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for server in made:
        server.close()


def _event(reseller, type_="order.completed", **data):
    with unit_of_work():
        return record_event(reseller_id=reseller.id, type=type_,
                            data=data or {"order_id": 7, "domain": "example.fi"})


@pytest.mark.smoke
def test_delivery_is_signed_per_standard_webhooks(factory, jobs, receiver):
    reseller = factory.reseller()
    server = receiver()
    created = factory.api(reseller).post(ENDPOINTS, json={"url": server.url,
                                                          "events": ["order.completed"]})
    assert created.status_code == 201, created.json
    assert created.json["secret"].startswith("whsec_")
    event = _event(reseller)
    jobs.run_all()
    assert len(server.requests) == 1
    headers, body = server.requests[0]
    payload = Webhook(created.json["secret"]).verify(body, headers)  # raises if forged
    assert payload["type"] == "order.completed"
    assert payload["data"]["event_id"] == event.id
    assert payload["data"]["domain"] == "example.fi"
    assert headers["webhook-id"].startswith("msg_")


def test_failing_receiver_is_retried_then_succeeds_once(factory, jobs, receiver):
    reseller = factory.reseller()
    server = receiver(500, 503)
    api = factory.api(reseller)
    api.post(ENDPOINTS, json={"url": server.url})
    _event(reseller)
    jobs.run_all()
    assert [len(body) > 0 for _, body in server.requests] == [True, True, True]
    ids = {headers["webhook-id"] for headers, _ in server.requests}
    assert len(ids) == 1  # one message, retried under the same id
    deliveries = api.get("/api/v1/webhooks/deliveries").json["items"]
    assert len(deliveries) == 1
    assert deliveries[0]["status"] == "succeeded"
    assert deliveries[0]["attempts"] == 3
    detail = api.get(f"/api/v1/webhooks/deliveries/{deliveries[0]['id']}").json
    assert [a["status_code"] for a in detail["attempt_log"]] == [500, 503, 200]
    jobs.run_all()
    assert len(server.requests) == 3  # delivered once: nothing more is sent


def test_repeated_job_sends_nothing_twice(factory, jobs, receiver, db_session):
    from reseller.core.jobs import run

    reseller = factory.reseller()
    server = receiver()
    factory.api(reseller).post(ENDPOINTS, json={"url": server.url})
    _event(reseller)
    path, args = jobs.jobs[0]
    jobs.run_all()
    run(path, *args)  # the same job again (e.g. RQ ran it twice)
    assert len(server.requests) == 1


def test_retries_back_off_exponentially_and_give_up_after_three_days(app, factory, jobs,
                                                                      receiver):
    from datetime import timedelta

    from reseller.core.extensions import db

    assert [backoff(n) for n in range(1, 5)] == [30, 120, 480, 1920]
    assert backoff(20) == 12 * 3600
    reseller = factory.reseller()
    server = receiver(*([500] * 50))
    factory.api(reseller).post(ENDPOINTS, json={"url": server.url})
    _event(reseller)
    with unit_of_work():
        delivery = db.session.query(WebhookDelivery).filter_by(reseller_id=reseller.id).one()
        delivery.created_at -= timedelta(hours=72, seconds=-20)  # 20 s left: no retry fits
    jobs.run_all()
    delivery = db.session.get(WebhookDelivery, delivery.id)
    assert delivery.status == "failed" and delivery.attempts == 1


def test_unsubscribed_events_are_not_sent(factory, jobs, receiver):
    reseller = factory.reseller()
    server = receiver()
    factory.api(reseller).post(ENDPOINTS, json={"url": server.url, "events": ["invoice.issued"]})
    _event(reseller, "order.completed")
    _event(factory.reseller(), "invoice.issued", number="2026-0001", total="12.40")  # another reseller's
    jobs.run_all()
    assert server.requests == []


def test_replay_sends_the_same_payload_again(factory, jobs, receiver):
    reseller = factory.reseller()
    server = receiver()
    api = factory.api(reseller)
    api.post(ENDPOINTS, json={"url": server.url})
    _event(reseller)
    jobs.run_all()
    delivery = api.get("/api/v1/webhooks/deliveries").json["items"][0]
    replay = api.post(f"/api/v1/webhooks/deliveries/{delivery['id']}/replay")
    assert replay.status_code == 202
    assert replay.json["replay_of_id"] == delivery["id"]
    jobs.run_all()
    assert len(server.requests) == 2
    assert server.requests[0][1] == server.requests[1][1]


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/hook", "https://localhost/hook", "https://10.1.2.3/hook",
    "https://192.168.0.10/hook", "https://169.254.169.254/latest/meta-data",
    "https://[::1]/hook", "https://[fe80::1]/hook", "https://[::ffff:127.0.0.1]/hook",
    "https://0.0.0.0/hook", "https://100.64.0.1/hook", "http://hooks.example.com/plain-http",
    "https://user:pw@hooks.example.com/x", "not a url",
])
def test_private_and_non_https_targets_are_refused_outside_sandbox(factory, app, monkeypatch,
                                                                  url):
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE", False)
    response = factory.api().post(ENDPOINTS, json={"url": url})
    assert response.status_code == 422
    assert response.json["code"] in {"webhook_url_refused", "validation_failed"}


def test_delivery_rechecks_the_address_at_send_time(factory, app, jobs, receiver, monkeypatch):
    reseller = factory.reseller()
    server = receiver()
    api = factory.api(reseller)
    api.post(ENDPOINTS, json={"url": server.url})  # allowed while in sandbox mode
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE", False)
    _event(reseller)
    jobs.run_all()
    assert server.requests == []
    delivery = api.get("/api/v1/webhooks/deliveries").json["items"][0]
    assert delivery["status"] == "failed"
    assert "private" in delivery["last_error"] or "https" in delivery["last_error"]


def test_unknown_event_type_is_422(factory):
    response = factory.api().post(ENDPOINTS, json={"url": "https://hooks.example.com/x",
                                                   "events": ["order.exploded"]})
    assert response.status_code == 422


def test_another_resellers_endpoints_and_deliveries_are_404(factory, jobs, receiver):
    owner = factory.reseller()
    server = receiver()
    mine = factory.api(owner)
    endpoint = mine.post(ENDPOINTS, json={"url": server.url}).json
    _event(owner)
    jobs.run_all()
    delivery = mine.get("/api/v1/webhooks/deliveries").json["items"][0]
    stranger = factory.api()
    assert stranger.get(f"{ENDPOINTS}/{endpoint['id']}").status_code == 404
    assert stranger.patch(f"{ENDPOINTS}/{endpoint['id']}", json={"active": False}).status_code == 404
    assert stranger.delete(f"{ENDPOINTS}/{endpoint['id']}").status_code == 404
    assert stranger.get(f"/api/v1/webhooks/deliveries/{delivery['id']}").status_code == 404
    assert stranger.post(f"/api/v1/webhooks/deliveries/{delivery['id']}/replay").status_code == 404
    assert stranger.get("/api/v1/webhooks/deliveries").json["items"] == []
    assert stranger.get(f"/api/v1/webhooks/deliveries?endpoint_id={endpoint['id']}").status_code == 404


def test_endpoint_lifecycle_update_rotate_delete(factory):
    api = factory.api()
    endpoint = api.post(ENDPOINTS, json={"url": "https://hooks.example.com/x"}).json
    path = f"{ENDPOINTS}/{endpoint['id']}"
    changed = api.patch(path, json={"events": ["invoice.issued"], "active": False}).json
    assert changed["events"] == ["invoice.issued"] and changed["active"] is False
    rotated = api.post(f"{path}/rotate-secret").json
    assert rotated["secret"] != endpoint["secret"]
    assert api.get(ENDPOINTS).json["items"][0]["id"] == endpoint["id"]
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404
    assert api.get(ENDPOINTS).json["items"] == []


@pytest.mark.smoke
def test_client_area_lists_deliveries_and_replays(client, factory, jobs, receiver):
    from tests.functional.test_client_area import login

    reseller = factory.reseller()
    user = factory.user(reseller)
    server = receiver(500)
    login(client, user)
    created = client.post("/webhooks", data={"url": server.url, "events": ["order.completed"]})
    assert created.status_code == 302
    page_url = created.headers["Location"]
    _event(reseller)
    jobs.run_all()
    page = client.get(page_url).get_data(as_text=True)
    assert server.url in page and "order.completed" in page
    delivery = WebhookDelivery.query.filter_by(reseller_id=reseller.id).first()
    assert delivery.status == "succeeded"
    replayed = client.post(page_url, data={"action": "replay", "delivery_id": delivery.id})
    assert replayed.status_code == 302
    jobs.run_all()
    assert len(server.requests) == 3
    detail = client.get(f"/webhooks/deliveries/{delivery.id}").get_data(as_text=True)
    assert json.loads(delivery.payload)["type"] in detail


def test_internal_event_types_are_not_sent_to_all_events_endpoints(factory, jobs, receiver):
    reseller = factory.reseller()
    server = receiver()
    factory.api(reseller).post(ENDPOINTS, json={"url": server.url})  # all offered types
    _event(reseller, "contact.changed", email="someone@example.fi")
    _event(reseller, "invoice.issued", number="2026-0001")
    jobs.run_all()
    assert [json.loads(body)["type"] for _, body in server.requests] == ["invoice.issued"]
