"""Request ids and the access log: every response carries ``X-Request-ID`` (a sane one
from the caller is kept), problem+json bodies quote it, every log record of the request
and of the jobs it queued carries it, and the access log never holds a secret."""

from __future__ import annotations

import io
import json
import logging

import pytest

from reseller import worker
from reseller.core import jobs as jobs_module
from reseller.core import logs
from reseller.core.db import unit_of_work

PASSWORD = "correct horse battery"
HEX32 = r"^[0-9a-f]{32}$"


@pytest.mark.smoke
@pytest.mark.parametrize("path, status", [
    ("/login", 200),                 # client area page
    ("/no-such-page", 404),          # HTML 404
    ("/api/v1/no-such-thing", 404),  # problem+json 404
    ("/api/v1/wallet", 401),         # problem+json refusal before any view
    ("/healthz", 200),
])
def test_every_response_carries_a_request_id(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert len(response.headers["X-Request-ID"]) == 32


def test_problem_bodies_quote_the_request_id_as_an_extension_member(client):
    response = client.get("/api/v1/wallet", headers={"X-Request-ID": "lb-7f3a9c"})
    assert response.headers["X-Request-ID"] == "lb-7f3a9c"
    assert response.get_json()["request_id"] == "lb-7f3a9c"


@pytest.mark.parametrize("incoming", ["x" * 129, "two words", "quote\"d", "semi;colon", ""])
def test_an_unsafe_incoming_request_id_is_replaced(client, incoming):
    response = client.get("/login", headers={"X-Request-ID": incoming})
    assert response.headers["X-Request-ID"] != incoming
    assert len(response.headers["X-Request-ID"]) == 32


def test_access_log_line_names_the_request_and_reseller_but_no_secret(factory, caplog):
    reseller = factory.reseller()
    api = factory.api(reseller)
    with caplog.at_level(logging.INFO, logger="tunnus.access"):
        response = api.get("/api/v1/wallet", headers={"X-Request-ID": "req-123"})
    assert response.status_code == 200
    [line] = [r for r in caplog.records if r.name == "tunnus.access"]
    assert (line.method, line.path, line.status, line.request_id, line.reseller_id) == (
        "GET", "/api/v1/wallet", 200, "req-123", reseller.id)
    assert line.duration_ms >= 0 and line.remote_addr == "127.0.0.1"
    assert line.getMessage().startswith("GET /api/v1/wallet 200 ")
    token = api.token
    assert all(token not in repr(vars(record)) for record in caplog.records)


def test_access_log_redacts_link_tokens_in_paths(client, caplog):
    with caplog.at_level(logging.INFO, logger="tunnus.access"):
        client.get("/password/set/secret-token-abc")
    [line] = [r for r in caplog.records if r.name == "tunnus.access"]
    assert line.path == "/password/set/[redacted]"
    assert "secret-token-abc" not in line.getMessage()


def test_client_area_access_log_knows_the_signed_in_reseller(client, factory, caplog):
    user = factory.user(factory.reseller())
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    with caplog.at_level(logging.INFO, logger="tunnus.access"):
        assert client.get("/wallet").status_code == 200
    [line] = [r for r in caplog.records if r.name == "tunnus.access" and r.path == "/wallet"]
    assert line.reseller_id == user.reseller_id


def test_json_format_writes_one_object_per_line_with_the_request_id(app):
    stream = io.StringIO()
    handler = logs.configure_logging({"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}, stream)
    try:
        token = logs.use_request_id("req-json")
        try:
            logging.getLogger("tunnus.test").warning("zone %s published", "a.fi",
                                                     extra={"zone": "a.fi"})
        finally:
            logs.reset_request_id(token)
        logging.getLogger("tunnus.test").info("outside a request")
    finally:
        logs.configure_logging(app.config)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (first["level"], first["logger"], first["message"], first["request_id"],
            first["zone"]) == ("WARNING", "tunnus.test", "zone a.fi published", "req-json",
                               "a.fi")
    assert "request_id" not in second and second["level"] == "INFO"
    assert handler not in logging.getLogger().handlers  # replaced, not stacked


def test_log_level_setting_filters_records(app):
    stream = io.StringIO()
    logs.configure_logging({"LOG_FORMAT": "text", "LOG_LEVEL": "WARNING"}, stream)
    try:
        logging.getLogger("tunnus.test").info("quiet")
        logging.getLogger("tunnus.test").warning("loud")
    finally:
        logs.configure_logging(app.config)
    assert stream.getvalue().count("\n") == 1
    assert "WARNING tunnus.test [-] loud" in stream.getvalue()


def log_from_job() -> None:
    logging.getLogger("tests.job").warning("ran in the worker")


@pytest.mark.postgres_only
def test_a_job_queued_by_a_request_logs_with_its_request_id(app, committed_db, redis_server,
                                                            caplog):
    from redis import Redis
    from rq import Queue

    from reseller.worker import InProcessWorker

    runner = jobs_module.RQRunner(app, redis_server.url)
    path = f"{__name__}.log_from_job"
    with app.test_request_context("/", headers={"X-Request-ID": "req-job-1"}):
        app.preprocess_request()  # the request hooks set the id
        original = app.extensions["tunnus.jobs"]
        app.extensions["tunnus.jobs"] = runner
        try:
            with unit_of_work():
                jobs_module.enqueue(path)
        finally:
            app.extensions["tunnus.jobs"] = original
    connection = Redis.from_url(redis_server.url)
    queue = Queue("default", connection=connection)
    assert [job.meta["request_id"] for job in queue.jobs] == ["req-job-1"]
    assert all(job.meta["pending"] for job in queue.jobs)  # owed in the transaction
    worker.use_app(app)
    try:
        with caplog.at_level(logging.INFO):
            assert InProcessWorker([queue], connection=connection).work(burst=True)
    finally:
        worker.use_app(None)
    [record] = [r for r in caplog.records if r.name == "tests.job"]
    assert record.request_id == "req-job-1"
    assert logs.current_request_id() is None
