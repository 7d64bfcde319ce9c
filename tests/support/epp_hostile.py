"""A registry that misbehaves, for our EPP client's tests: a TLS server that greets, lets
us log in and answers commands with ``1000``, except that at a chosen point (the greeting,
or the first command matching ``trigger``) it sends something that is not acceptable EPP:
a DOCTYPE with an entity, malformed XML, or a frame header announcing more than
``wire.MAX_FRAME`` bytes. No database."""

from __future__ import annotations

import socket
import ssl
import struct
import threading
from datetime import UTC, datetime

from reseller.registry.epp import wire
from reseller.registry.epp.server.frames import Reply, greeting, response

EPP_NS = wire.NS["epp"]
BAD = {
    "doctype": wire.encode_frame(
        b'<?xml version="1.0"?><!DOCTYPE epp [<!ENTITY big "aaaaaaaaaa">]>'
        b'<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><response><result code="1000">'
        b"<msg>&big;</msg></result></response></epp>"),
    "malformed": wire.encode_frame(b'<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><response>'),
    "oversized": struct.pack(">I", wire.MAX_FRAME + 100) + b"<epp" + b" " * 1000,
    "no_result": wire.encode_frame(
        f'<epp xmlns="{EPP_NS}"><response><trID><svTRID>X</svTRID></trID></response>'
        f"</epp>".encode()),
}


class HostileServer:
    def __init__(self, context: ssl.SSLContext, *, mode: str, trigger: str = "domain:create",
                 at_greeting: bool = False) -> None:
        self.context, self.mode, self.trigger = context, mode, trigger
        self.at_greeting = at_greeting
        self.received: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            with self.context.wrap_socket(conn, server_side=True) as tls:
                tls.settimeout(5)
                if self.at_greeting:
                    tls.sendall(BAD[self.mode])
                    return
                wire.write_frame(tls, greeting("Hostile", datetime.now(UTC)))
                while True:
                    frame = wire.read_frame(tls)
                    self.received.append(frame)
                    if b"<hello/>" in frame:
                        wire.write_frame(tls, greeting("Hostile", datetime.now(UTC)))
                        continue
                    if self.trigger.encode() in frame:
                        tls.sendall(BAD[self.mode])
                        return
                    wire.write_frame(tls, response(Reply(1000), client_trid=None,
                                                   server_trid="HOSTILE-1"))
        except (OSError, ssl.SSLError, wire.FrameError):
            return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.listener.close()
