"""The WHOIS server (RFC 3912): one query line in, one answer out, then close. Answers come
from the same registration data as RDAP; each client address has a per-minute budget."""

from __future__ import annotations

import logging
import socketserver
import threading
import time
from collections import deque
from typing import Any

from flask import Flask

from reseller.core.clock import clock
from reseller.rdap.services import lookup, normalize_query
from reseller.whois.answer import format_answer, no_match

log = logging.getLogger(__name__)

MAX_QUERY = 256
READ_TIMEOUT = 10.0
# Answers take milliseconds; a connection lasts longer only while its client is slow to
# send the query line (at most READ_TIMEOUT). Lookups beyond the database pool (10 + 20
# overflow) wait milliseconds for a connection.
MAX_CONNECTIONS = 128
RATE_LIMITED = "Query rate limit exceeded for your address; try again in a minute.\r\n"


class RateLimiter:
    """A sliding one-minute window of queries per client address."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.seen: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def allow(self, address: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self.lock:
            window = self.seen.setdefault(address, deque())
            while window and now - window[0] > 60:
                window.popleft()
            if len(window) >= self.per_minute:
                return False
            window.append(now)
            if len(self.seen) > 100_000:  # forget idle addresses
                self.seen = {k: v for k, v in self.seen.items() if v}
            return True


def answer_query(app: Flask, raw: str) -> str:
    """The WHOIS answer text for one query line."""
    query = raw.strip()
    if query.lower().startswith("domain "):
        query = query[7:].strip()
    try:
        name = normalize_query(query)
    except ValueError:
        return no_match(query or "(empty)")
    with app.app_context():
        data = lookup(name, app.config)
        if data is None:
            return no_match(name)
        host = app.config.get("WHOIS_HOST") or "127.0.0.1"
        return format_answer(data, whois_server=host, now=clock.now())


class _Handler(socketserver.StreamRequestHandler):
    timeout = READ_TIMEOUT
    server: WhoisServer

    def handle(self) -> None:
        address = self.client_address[0]
        try:
            line = self.rfile.readline(MAX_QUERY + 1).decode("utf-8", "replace")
        except OSError:
            return
        if not self.server.limiter.allow(address):
            self._send(RATE_LIMITED)
            return
        try:
            text = answer_query(self.server.app, line)
        except Exception:
            log.exception("WHOIS query %r failed", line[:80])
            text = "An internal error occurred; please try again later.\r\n"
        self._send(text)

    def _send(self, text: str) -> None:
        try:
            self.wfile.write(text.encode("utf-8"))
        except OSError:
            pass  # the client hung up before reading the answer; nothing to tell it


class WhoisServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """A thread per connection, at most ``max_connections`` at once.

    The listen backlog (``request_queue_size``; the kernel caps it at
    ``net.core.somaxconn``) holds a burst of connections instead of dropping their SYNs
    (the default of 5 made clients wait for SYN retries, and time out). At the cap the
    accept loop waits for a connection to finish and the backlog holds the rest: a flood
    costs neither unbounded threads nor unbounded memory, and a few clients slow to send
    their line (each held at most READ_TIMEOUT) do not stall everyone else."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, app: Flask, host: str, port: int, per_minute: int,
                 max_connections: int = MAX_CONNECTIONS) -> None:
        super().__init__((host, port), _Handler)
        self.app = app
        self.limiter = RateLimiter(per_minute)
        self.slots = threading.BoundedSemaphore(max_connections)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.slots.acquire()
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


def start_in_thread(app: Flask, host: str, port: int, **kwargs: Any) -> WhoisServer:
    server = WhoisServer(app, host, port, kwargs.get("per_minute")
                         or app.config["WHOIS_RATE_LIMIT"])
    threading.Thread(target=server.serve_forever, name="tunnus-whois", daemon=True).start()
    return server
