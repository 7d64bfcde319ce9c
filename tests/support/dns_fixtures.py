"""Fixtures for DNS tests: a real Knot server for the session, and the app's publisher
pointed at it for one test (the ``knot`` adapter, exactly as production configures it)."""

from __future__ import annotations

import shutil

import pytest

from reseller.dns.publishers import KnotPublisher
from tests.support.knot import start_knot


@pytest.fixture(scope="session")
def knot_server():
    if shutil.which("knotd") is None and not shutil.os.path.exists("/usr/sbin/knotd"):
        pytest.skip("knotd is not installed (make system-deps)")
    server = start_knot()
    yield server
    server.stop()


@pytest.fixture
def knot(app, knot_server, db_session):
    """The app publishes to the real Knot during this test."""
    original = app.extensions["tunnus.dns_publisher"]
    app.extensions["tunnus.dns_publisher"] = KnotPublisher({**app.config, **knot_server.config()})
    yield knot_server
    app.extensions["tunnus.dns_publisher"] = original
