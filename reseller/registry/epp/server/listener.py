"""The EPP server's sockets: a TLS listener on one thread, one thread per connection up
to a bound, an idle timeout, and a greeting, then frames answered by a ``Session``."""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Mapping
from typing import Any

from flask import Flask

from reseller.registry.epp import wire
from reseller.registry.epp.server.session import Session
from reseller.registry.sandbox import SandboxRegistry

log = logging.getLogger(__name__)
HANDSHAKE_TIMEOUT = 30.0  # seconds a client gets to finish TLS before its slot is freed


def clients_from_config(config: Mapping[str, Any]) -> dict[str, str]:
    """The clIDs that may log in and their passwords: ``REGISTRY_CLIENT_ID`` with
    ``EPP_SERVER_PASSWORD``, and ``EPP_SERVER_CLIENTS`` (``id:pw,id2:pw2``)."""
    clients = {}
    if config.get("EPP_SERVER_PASSWORD"):
        clients[config.get("REGISTRY_CLIENT_ID", "tunnus")] = config["EPP_SERVER_PASSWORD"]
    for item in filter(None, (config.get("EPP_SERVER_CLIENTS") or "").split(",")):
        client_id, _, password = item.strip().partition(":")
        if client_id and password:
            clients[client_id] = password
    return clients


class EppServer:
    """Serves the sandbox registry's rules over EPP. Each logged-in clID acts as a
    ``SandboxRegistry`` of that registrar id; ``registry(clid)`` returns it (the same
    object for every connection), so a test can ``inject`` faults into it."""

    def __init__(self, app: Flask, *, ssl_context: ssl.SSLContext, host: str = "127.0.0.1",
                 port: int = 0, idle_timeout: float | None = None,
                 max_connections: int | None = None, validate: bool | None = None,
                 clients: Mapping[str, str] | None = None,
                 poll_interval: float = 0.2) -> None:
        """``poll_interval``: how often the accept loop looks for ``stop`` (so how long
        ``stop`` may wait for it); tests that start a server per test pass less."""
        config = app.config
        self.app = app
        self.ssl_context = ssl_context
        self.host, self.port = host, port
        self.poll_interval = poll_interval
        self.idle_timeout = float(idle_timeout or config.get("EPP_SERVER_IDLE_TIMEOUT", 300))
        self.max_connections = int(max_connections or config.get(
            "EPP_SERVER_MAX_CONNECTIONS", 32))
        self.validate = bool(config.get("EPP_VALIDATE", True) if validate is None
                             else validate)
        self.clients = dict(clients if clients is not None else clients_from_config(config))
        self.server_id = config.get("EPP_SERVER_ID", "Tunnus sandbox EPP")
        self._registries: dict[str, SandboxRegistry] = {}
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(self.max_connections)
        self._connections: set[socket.socket] = set()
        self._workers: set[threading.Thread] = set()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def registry(self, client_id: str) -> SandboxRegistry:
        with self._lock:
            if client_id not in self._registries:
                registry = SandboxRegistry.from_config(self.app.config)
                registry.registrar_id = client_id
                self._registries[client_id] = registry
            return self._registries[client_id]

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> EppServer:
        """Bind and serve on a background thread; ``port=0`` picks a free port."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(64)
        listener.settimeout(self.poll_interval)
        self._listener, self.port = listener, listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, name="epp-accept",
                                         daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.start()
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            _close(conn)
        with self._lock:
            workers = list(self._workers)
        for worker in workers:  # a command in progress finishes its unit of work
            worker.join(5)
        if self._listener is not None:
            self._listener.close()

    # -- connections ----------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stopping.is_set():
                    return
                log.exception("EPP accept failed")
                continue
            if not self._slots.acquire(blocking=False):
                log.warning("EPP connection from %s refused: %d connections open",
                            address, self.max_connections)
                _close(conn)
                continue
            worker = threading.Thread(target=self._serve, args=(conn, address), daemon=True,
                                      name=f"epp-{address[1]}")
            with self._lock:
                self._workers = {w for w in self._workers if w.is_alive()} | {worker}
            worker.start()

    def _serve(self, conn: socket.socket, address: Any) -> None:
        with self._lock:
            self._connections.add(conn)
        try:
            conn.settimeout(min(self.idle_timeout, HANDSHAKE_TIMEOUT))
            with self.ssl_context.wrap_socket(conn, server_side=True) as tls:
                tls.settimeout(self.idle_timeout)
                with self._lock:
                    self._connections.add(tls)
                self._converse(tls)
        except (TimeoutError, ssl.SSLError, OSError, wire.FrameError) as error:
            log.info("EPP connection from %s ended: %s", address, error)
        except Exception:
            log.exception("EPP connection from %s failed", address)
        finally:
            with self._lock:
                self._connections = {c for c in self._connections
                                     if c is not conn and c.fileno() != -1}
            _close(conn)
            self._slots.release()

    def _converse(self, tls: ssl.SSLSocket) -> None:
        session = Session(self)
        wire.write_frame(tls, session.greeting())
        while not self._stopping.is_set():
            try:
                frame = wire.read_frame(tls)
            except wire.ConnectionClosed:
                return
            except wire.FrameError as error:  # a bad length: framing is lost
                answer = session.refuse(str(error))
                wire.write_frame(tls, answer.document)
                return
            answer = session.respond(frame)
            if answer.document is not None:
                wire.write_frame(tls, answer.document)
            if answer.close:
                return


def _close(conn: socket.socket) -> None:
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    conn.close()
