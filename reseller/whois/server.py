"""The WHOIS server (RFC 3912): one query line in, one answer out, then close. Answers come
from the same registration data as RDAP; each client address has a per-minute budget."""

from __future__ import annotations

import logging
import socketserver
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask

from reseller.core.clock import clock
from reseller.rdap.data import lookup, normalize_query
from reseller.whois.answer import format_answer, no_match

log = logging.getLogger(__name__)

MAX_QUERY = 256
READ_TIMEOUT = 10.0
# Answers take milliseconds; a worker is held longer only by a client slow to send its
# line (at most READ_TIMEOUT). Well under the database pool (10 + 20 overflow).
WORKERS = 16
QUEUED_PER_WORKER = 16
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


class WhoisServer(socketserver.TCPServer):
    """Accepts on one thread, answers on a fixed pool of ``workers``.

    The listen backlog (``request_queue_size``; the kernel caps it at
    ``net.core.somaxconn``) holds a burst of connections instead of dropping their SYNs,
    and at most ``workers * QUEUED_PER_WORKER`` accepted connections wait for a worker:
    beyond that the accept loop pauses and the backlog holds the rest, so a flood costs
    neither unbounded threads nor unbounded memory."""

    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, app: Flask, host: str, port: int, per_minute: int,
                 workers: int = WORKERS) -> None:
        super().__init__((host, port), _Handler)
        self.app = app
        self.limiter = RateLimiter(per_minute)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tunnus-whois")
        self.slots = threading.BoundedSemaphore(workers * QUEUED_PER_WORKER)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.slots.acquire()
        try:
            self.pool.submit(self._work, request, client_address)
        except RuntimeError:  # the pool was shut down: the server is closing
            self.slots.release()
            self.shutdown_request(request)

    def _work(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            self.slots.release()

    def server_close(self) -> None:
        super().server_close()
        self.pool.shutdown(wait=False, cancel_futures=True)


def start_in_thread(app: Flask, host: str, port: int, **kwargs: Any) -> WhoisServer:
    server = WhoisServer(app, host, port, kwargs.get("per_minute")
                         or app.config["WHOIS_RATE_LIMIT"])
    threading.Thread(target=server.serve_forever, name="tunnus-whois", daemon=True).start()
    return server
