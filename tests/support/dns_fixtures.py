"""Fixtures for DNS tests: a real Knot server for the session, the app's publisher
pointed at it for one test (the ``knot`` adapter, exactly as production configures it),
and the DNS update gate in front of it."""

from __future__ import annotations

import dataclasses
import shutil
from types import SimpleNamespace

import pytest

from reseller.dns.gate_server import GateServer
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


@pytest.fixture
def knot_gate(app, knot):
    """The DNS update gate in this process, in front of the real Knot, and the app set up
    as production with a gate: ACME keys named at the gate, and not installed in Knot."""
    config = {**app.config, **knot.config()}
    server = GateServer(app, "127.0.0.1", 0, config=config).start(poll_interval=0.05)
    address = f"127.0.0.1:{server.port}"
    publisher, settings = app.extensions["tunnus.dns_publisher"], app.extensions["tunnus.dns"]
    app.extensions["tunnus.dns_publisher"] = KnotPublisher({**config, "DNS_GATE_SERVER": address})
    app.extensions["tunnus.dns"] = dataclasses.replace(settings, gate_server=address)
    yield SimpleNamespace(port=server.port, address=address, knot=knot, server=server)
    server.stop()
    app.extensions["tunnus.dns_publisher"], app.extensions["tunnus.dns"] = publisher, settings
