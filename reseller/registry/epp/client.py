"""Our EPP client's sessions (RFC 5730, 5734): TLS with a client certificate, the greeting
(which object and extension URIs the registry offers), login and logout, one command at a
time, and a small thread-safe pool that keeps sessions alive with ``<hello>``.

What a failure means for the caller is decided here, by when it happens:

* before the command's bytes were handed to the socket (connect, TLS, greeting, login,
  a closed pooled session noticed while sending nothing): ``RegistryUnavailable``;
* after sending (no answer in time, the connection dropped, an answer that is not EPP):
  ``RegistryTimeout`` (``ProtocolError`` for garbage): the outcome is unknown.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import select
import socket
import ssl
import threading
import time
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from lxml import etree

from reseller.registry.epp import commands, wire
from reseller.registry.epp.responses import ProtocolError, Response, parse_response
from reseller.registry.epp.wire import NS, OBJECT_URIS
from reseller.registry.errors import RegistryTimeout, RegistryUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Endpoint:
    """Where one registry listens and how we log in (from ``EPP_REGISTRIES``)."""

    name: str
    host: str
    port: int
    client_id: str
    password: str = field(repr=False)
    cert: str | None = None
    key: str | None = None
    ca: str | None = None  # None: the system's trust store
    server_name: str | None = None  # TLS name to verify, default ``host``
    timeout: float = 30.0  # seconds per command (and to connect)
    objects: tuple[str, ...] = OBJECT_URIS
    extensions: tuple[str, ...] = ()  # those we would use, if the greeting offers them

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.ca)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.cert:
            context.load_cert_chain(self.cert, self.key)
        return context


@dataclass
class Greeting:
    server_id: str
    objects: tuple[str, ...]
    extensions: tuple[str, ...]


def read_greeting(root: etree._Element) -> Greeting:
    menu = root.find("epp:greeting/epp:svcMenu", NS)
    if menu is None:
        raise ProtocolError("no greeting")
    return Greeting(server_id=root.findtext("epp:greeting/epp:svID", namespaces=NS) or "",
                    objects=tuple(e.text for e in menu.findall("epp:objURI", NS)),
                    extensions=tuple(e.text for e in menu.findall(
                        "epp:svcExtension/epp:extURI", NS)))


def new_trid(prefix: str = "TNR") -> str:
    """A clTRID for commands that change nothing (checks, info, poll, login)."""
    return f"{prefix}-{uuid.uuid4().hex}"


class Session:
    """One logged-in EPP connection. Not thread-safe: the pool lends it to one caller."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.sock: ssl.SSLSocket | None = None
        self.greeting: Greeting | None = None
        self.extensions: frozenset[str] = frozenset()
        self.objects: frozenset[str] = frozenset()
        self.last_used = time.monotonic()

    @property
    def alive(self) -> bool:
        return self.sock is not None

    def stale(self) -> bool:
        """Whether an idle session has something to read: the server closed it (or sent
        something unasked), so it must not carry a command."""
        if self.sock is None:
            return True
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable) or bool(self.sock.pending())

    def open(self) -> Session:
        """Connect, read the greeting and log in; any failure is ``RegistryUnavailable``."""
        endpoint = self.endpoint
        try:
            raw = socket.create_connection((endpoint.host, endpoint.port),
                                           timeout=endpoint.timeout)
            self.sock = endpoint.tls_context().wrap_socket(
                raw, server_hostname=endpoint.server_name or endpoint.host)
            self.greeting = read_greeting(self._read())
            self.objects = frozenset(u for u in endpoint.objects
                                     if u in self.greeting.objects)
            self.extensions = frozenset(u for u in endpoint.extensions
                                        if u in self.greeting.extensions)
            response = self._exchange(commands.login(
                endpoint.client_id, endpoint.password,
                [u for u in endpoint.objects if u in self.objects],
                [u for u in endpoint.extensions if u in self.extensions], new_trid("TNL")))
        except (OSError, RegistryTimeout) as error:
            self.close()
            raise RegistryUnavailable(f"EPP {endpoint.name}: cannot connect: {error}") from error
        if not response.ok:
            self.close()
            log.error("EPP %s: login refused: %s %s", endpoint.name, response.code,
                      response.message)
            raise RegistryUnavailable(f"EPP {endpoint.name}: login refused: {response.code} "
                                      f"{response.message}")
        return self

    def command(self, document: etree._Element) -> Response:
        """Send one command and read its answer (timeouts and garbage as above)."""
        if self.sock is None:
            raise RegistryUnavailable(f"EPP {self.endpoint.name}: session closed")
        try:
            payload = wire.encode_frame(wire.serialize(document))
        except wire.FrameError as error:
            raise RegistryUnavailable(str(error)) from error
        try:
            self.sock.sendall(payload)
        except OSError as error:  # some bytes may have gone: the outcome is unknown
            self.close()
            raise RegistryTimeout(f"EPP {self.endpoint.name}: sending failed: {error}") from error
        try:
            response = parse_response(self._read())
        except ProtocolError:
            self.close()
            raise
        self.last_used = time.monotonic()
        if response.closing:
            self.close()
        return response

    def hello(self) -> None:
        """Keep the session alive; a dead one is closed (``RegistryUnavailable``)."""
        try:
            wire.write_frame(self.sock, wire.serialize(commands.hello()))
            read_greeting(self._read())
        except (OSError, AttributeError, RegistryTimeout) as error:
            self.close()
            raise RegistryUnavailable(f"EPP {self.endpoint.name}: hello failed") from error
        self.last_used = time.monotonic()

    def logout(self) -> None:
        if self.sock is None:
            return
        try:
            # at shutdown a silent registry must not hold the process for a full timeout
            self.sock.settimeout(min(self.endpoint.timeout, LOGOUT_TIMEOUT_S))
            self.command(commands.logout(new_trid("TNO")))
        except (RegistryTimeout, RegistryUnavailable, OSError) as error:
            # best effort: the session ends either way, the registry's idle timeout reaps it
            log.info("EPP %s: logout not confirmed: %s", self.endpoint.name, error)
        self.close()

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None

    def _exchange(self, document: etree._Element) -> Response:
        wire.write_frame(self.sock, wire.serialize(document))
        return parse_response(self._read())

    def _read(self) -> etree._Element:
        """One frame, parsed by the hardened parser. A bad frame ends the session."""
        try:
            return wire.parse(wire.read_frame(self.sock))
        except wire.ConnectionClosed as error:
            self.close()
            raise RegistryTimeout(f"EPP {self.endpoint.name}: connection closed: {error}") \
                from error
        except wire.FrameError as error:
            self.close()
            log.warning("EPP %s sent a bad frame: %s", self.endpoint.name, error)
            raise ProtocolError(f"EPP {self.endpoint.name}: {error}") from error
        except (TimeoutError, OSError) as error:
            self.close()
            raise RegistryTimeout(f"EPP {self.endpoint.name}: no answer: {error}") from error


LOGOUT_TIMEOUT_S = 3.0
_POOLS: weakref.WeakSet[Pool] = weakref.WeakSet()


@atexit.register
def close_pools() -> None:
    """Log out of every pooled session when the process exits normally (a worker's warm
    shutdown, gunicorn recycling a worker), so the registry is not left holding sessions
    until its idle timeout; registries limit how many a registrar may have open.

    A forked child (``flask worker --fork``) leaves with ``os._exit`` and runs no atexit
    hooks; a pool it inherited belongs to its parent, so it is skipped here as well."""
    for pool in list(_POOLS):
        if pool.owner_pid == os.getpid():
            pool.close()


class Pool:
    """Up to ``size`` logged-in sessions shared by threads. A session idle for longer
    than ``keepalive`` seconds says ``<hello>`` before it is lent (and is replaced if that
    fails); with ``keepalive_thread`` a daemon does the same for idle sessions. Idle
    sessions are logged out at exit (``close_pools``)."""

    def __init__(self, endpoint: Endpoint, *, size: int = 2, keepalive: float = 300.0,
                 wait: float | None = None, keepalive_thread: bool = False) -> None:
        self.owner_pid = os.getpid()
        _POOLS.add(self)
        self.endpoint = endpoint
        self.size = max(1, size)
        self.keepalive = keepalive
        self.wait = endpoint.timeout if wait is None else wait
        self._idle: queue.LifoQueue[Session] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(self.size)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._want_thread = keepalive_thread

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Lend a logged-in session; a broken one is dropped, a healthy one returned."""
        if not self._slots.acquire(timeout=self.wait):
            raise RegistryUnavailable(f"EPP {self.endpoint.name}: all {self.size} sessions busy")
        session = None
        try:
            session = self._take()
            yield session
        finally:
            if session is not None and session.alive:
                self._idle.put(session)
            self._slots.release()

    def _take(self) -> Session:
        self._start_keepalive()
        while True:
            try:
                session = self._idle.get_nowait()
            except queue.Empty:
                return Session(self.endpoint).open()
            if session.stale():
                session.close()
                continue
            if time.monotonic() - session.last_used < self.keepalive:
                return session
            try:
                session.hello()
                return session
            except RegistryUnavailable:
                continue  # reconnect with the next idle one or a new session

    def _start_keepalive(self) -> None:
        if not self._want_thread or self._thread is not None or self.keepalive <= 0:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._keepalive_loop, daemon=True,
                                                name=f"epp-keepalive-{self.endpoint.name}")
                self._thread.start()

    def _keepalive_loop(self) -> None:
        while not self._stopping.wait(self.keepalive / 2):
            self.ping_idle()

    def ping_idle(self) -> int:
        """Say hello on every idle session that has been quiet too long; drop dead ones."""
        pinged = 0
        for _ in range(self._idle.qsize()):
            if not self._slots.acquire(blocking=False):
                break
            try:
                try:
                    session = self._idle.get_nowait()
                except queue.Empty:
                    break
                if time.monotonic() - session.last_used >= self.keepalive / 2:
                    try:
                        session.hello()
                        pinged += 1
                    except RegistryUnavailable:
                        continue
                self._idle.put(session)
            finally:
                self._slots.release()
        return pinged

    def close(self) -> None:
        """Log out of every idle session (at shutdown)."""
        self._stopping.set()
        while True:
            try:
                self._idle.get_nowait().logout()
            except queue.Empty:
                return
