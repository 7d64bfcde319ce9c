"""The DNS update gate's transport (RFC 1035 4.2): UDP, and TCP with a 2-byte length
before each message and several messages per connection, on one port; bounded threads,
request sizes and read times. What to answer is ``reseller.dns.gate``'s."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from typing import Any

import dns.message
from flask import Flask

from reseller.dns.gate import Gate

MAX_REQUEST = 16_384          # an ACME update is a few hundred bytes
READ_TIMEOUT = 10.0           # seconds to receive one whole TCP message
MESSAGES_PER_CONNECTION = 100
MAX_WORKERS = 32              # requests handled at once (UDP and TCP together)


class _Bounded:
    """At most ``slots`` requests at once: past it the accept loop waits (TCP connections
    queue in the backlog, datagrams in the socket buffer) instead of spawning threads."""

    daemon_threads = True
    allow_reuse_address = True
    slots: threading.BoundedSemaphore
    gate: Gate

    def process_request(self, request: Any, client_address: Any) -> None:
        self.slots.acquire()
        try:
            super().process_request(request, client_address)  # type: ignore[misc]
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)  # type: ignore[misc]
        finally:
            self.slots.release()


class _UDPHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        if len(data) > MAX_REQUEST:
            return
        reply = self.server.gate.answer(data, client=self.client_address[0],
                                        max_size=_udp_size(data))
        if reply is not None:
            try:
                sock.sendto(reply, self.client_address)
            except OSError:  # the client is gone (UDP): it asks again or gives up
                pass


def _udp_size(wire: bytes) -> int:
    """The client's EDNS payload size, or 512 (RFC 1035 4.2.1); the reply is truncated
    (TC) beyond it and the client asks again over TCP."""
    try:
        request = dns.message.from_wire(wire, keyring=False, ignore_trailing=True)
    except Exception:
        return 512
    return max(512, min(request.payload, 65535)) if request.edns >= 0 else 512


class _TCPHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        for _ in range(MESSAGES_PER_CONNECTION):
            head = _receive(sock, 2)
            if head is None:
                return
            length = int.from_bytes(head, "big")
            if not 12 <= length <= MAX_REQUEST:
                return
            wire = _receive(sock, length)
            if wire is None:
                return
            reply = self.server.gate.answer(wire, client=self.client_address[0])
            if reply is None:
                return
            try:
                sock.sendall(len(reply).to_bytes(2, "big") + reply)
            except OSError:
                return


def _receive(sock: socket.socket, count: int) -> bytes | None:
    """Exactly ``count`` bytes within READ_TIMEOUT, or None (closed, slow or broken)."""
    deadline = time.monotonic() + READ_TIMEOUT
    data = b""
    while len(data) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            chunk = sock.recv(count - len(data))
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    return data


class _UDPServer(_Bounded, socketserver.ThreadingMixIn, socketserver.UDPServer):
    max_packet_size = MAX_REQUEST + 1
    allow_reuse_address = False  # for UDP it would let a second process share the port


class _TCPServer(_Bounded, socketserver.ThreadingMixIn, socketserver.TCPServer):
    request_queue_size = 256


class GateServer:
    """The gate on one address, UDP and TCP on the same port."""

    def __init__(self, app: Flask, host: str, port: int, *,
                 config: dict[str, Any] | None = None, max_workers: int = MAX_WORKERS) -> None:
        self.gate = Gate(app, config=config)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        slots = threading.BoundedSemaphore(max_workers)
        servers: list[socketserver.BaseServer] = []
        for kind, handler in ((_TCPServer, _TCPHandler), (_UDPServer, _UDPHandler)):
            server_class = type(kind.__name__, (kind,), {"address_family": family})
            server = server_class((host, port), handler, bind_and_activate=False)
            server.slots, server.gate = slots, self.gate
            try:
                server.server_bind()
                server.server_activate()
            except OSError:
                server.server_close()
                for started in servers:
                    started.server_close()
                raise
            port = server.server_address[1]  # port 0: UDP takes the port TCP was given
            servers.append(server)
        self.servers, self.host, self.port = servers, host, port
        self.threads: list[threading.Thread] = []

    def start(self, *, poll_interval: float = 0.5) -> GateServer:
        """Serve on daemon threads; ``stop`` waits up to ``poll_interval`` per server
        (socketserver's shutdown check; tests that stop a gate per test pass less)."""
        for server in self.servers:
            thread = threading.Thread(target=server.serve_forever, daemon=True,
                                      kwargs={"poll_interval": poll_interval},
                                      name=f"tunnus-dns-gate-{type(server).__name__}")
            thread.start()
            self.threads.append(thread)
        return self

    def wait(self) -> None:
        for thread in self.threads:
            thread.join()

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()
