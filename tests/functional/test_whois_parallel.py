"""The WHOIS server under 100 simultaneous clients: every one gets its complete answer (or
the rate limiter's message), none is reset. Real commits, so each worker thread reads the
registration data on its own pooled connection, as in production."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from datetime import timedelta

import pytest

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.whois.server import RATE_LIMITED, WhoisServer
from tests.support.factories import Factory
from tests.support.servers import free_port

domain_models = pytest.importorskip("reseller.domains.models")

CLIENTS = 100
TRAILER = "bulk queries are not permitted.\r\n"


def _registered_domain(app) -> str:
    with unit_of_work():
        reseller = Factory(app).reseller(company_name="Rinnakkain Oy")
        contact = domain_models.Contact(
            reseller_id=reseller.id, handle="TCPAR1", name="Maija Meikäläinen",
            organization=None, email="maija@koti.example", phone="+358.401234567",
            street="Kotikatu 5", city="Tampere", postal_code="33100", country="FI",
            language="fi")
        db.session.add(contact)
        db.session.flush()
        now = clock.now()
        db.session.add(domain_models.Domain(
            reseller_id=reseller.id, name="rinnakkain.com", live_name="rinnakkain.com",
            unicode_name="rinnakkain.com", tld="com", status="active",
            created_at=now - timedelta(days=10), expires_at=now + timedelta(days=355),
            updated_at=now, privacy=False, locked=False,
            nameservers=["ns1.example.net", "ns2.example.net"], ds=[],
            registrant_id=contact.id))
    return "rinnakkain.com"


def ask_in_parallel(port: int, query: str, clients: int = CLIENTS) -> list[str]:
    """``clients`` threads connect at the same moment and each sends ``query``; the list
    holds each answer, or the name of the error the client saw."""
    start = threading.Barrier(clients)
    results: list[str] = [""] * clients

    def one(i: int) -> None:
        start.wait()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
                sock.sendall(query.encode() + b"\r\n")
                chunks = []
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
            results[i] = b"".join(chunks).decode()
        except OSError as error:
            results[i] = type(error).__name__

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.fixture
def server(app, committed_db):
    started: list[WhoisServer] = []

    def start(per_minute: int) -> int:
        whois = WhoisServer(app, "127.0.0.1", free_port(), per_minute=per_minute)
        threading.Thread(target=whois.serve_forever,
                         kwargs={"poll_interval": 0.05}, daemon=True).start()
        started.append(whois)
        return whois.server_address[1]

    yield start
    for whois in started:
        whois.shutdown()
        whois.server_close()


@pytest.mark.postgres_only
def test_a_hundred_parallel_clients_all_get_the_whole_answer(app, server):
    name = _registered_domain(app)
    answers = ask_in_parallel(server(per_minute=10_000), name)
    complete = [a for a in answers if a.startswith("Domain Name: RINNAKKAIN.COM\r\n")
                and a.endswith(TRAILER)]
    assert len(complete) == CLIENTS, Counter(a if len(a) < 40 else "answer" for a in answers)


@pytest.mark.postgres_only
def test_over_the_rate_limit_parallel_clients_get_the_message_not_a_reset(app, server):
    name = _registered_domain(app)
    answers = ask_in_parallel(server(per_minute=30), name)
    kinds = Counter("answer" if a.endswith(TRAILER) else a for a in answers)
    assert kinds == {"answer": 30, RATE_LIMITED: CLIENTS - 30}


def test_at_the_connection_cap_the_next_client_waits_in_the_backlog_and_is_answered(app):
    """Four idle connections hold all four slots: the fifth is not reset, it waits (in the
    listen backlog) and is answered as soon as one slot frees."""
    whois = WhoisServer(app, "127.0.0.1", free_port(), per_minute=100, max_connections=4)
    threading.Thread(target=whois.serve_forever,
                     kwargs={"poll_interval": 0.05}, daemon=True).start()
    address = whois.server_address
    idle = [socket.create_connection(address, timeout=5) for _ in range(4)]
    try:
        with socket.create_connection(address, timeout=5) as fifth:
            fifth.sendall(b"not-a-name\r\n")
            fifth.settimeout(0.5)
            with pytest.raises(TimeoutError):
                fifth.recv(1)
            idle.pop().close()  # a slot frees: the fifth is accepted and answered
            fifth.settimeout(5)
            answer = b""
            while chunk := fifth.recv(4096):
                answer += chunk
        assert answer.startswith(b'No match for "NOT-A-NAME".')
    finally:
        for sock in idle:
            sock.close()
        whois.shutdown()
        whois.server_close()
