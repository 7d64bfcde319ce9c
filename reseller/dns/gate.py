"""The DNS update gate: an RFC 2136 front of our own for ACME zone keys, for servers that
cannot hold a key to ``_acme-challenge`` names themselves (Knot before 3.3 has no owner
patterns). ACME keys are given the gate's address (``DNS_GATE_SERVER``) and are not
installed on such a server at all; the gate checks each update against the key's zone and
scope and passes it on signed with Tunnus's own key.

* Every request's TSIG is verified (RFC 8945) against the zone keys in the database; a
  key is cached for a second, so a new key works and a revoked one stops within a second.
  Unknown key or algorithm: NOTAUTH/BADKEY, wrong MAC: NOTAUTH/BADSIG (both unsigned,
  RFC 8945 5.3.2); clock skew: NOTAUTH/BADTIME, signed, the server's time in Other Data.
* UPDATE (RFC 2136) signed by an ACME key: the zone section must be the key's zone
  (else NOTAUTH, 3.1.2), every update RR inside it (else NOTZONE, 3.4.1.3) and a TXT add
  or delete at ``_acme-challenge.<a name at or below the apex>`` (else REFUSED, 3.3);
  prerequisites only read. Admitted updates go to the server, its RCODE comes back
  signed with the client's key, and the zone is read back (``tasks.sync_zone``) so the
  API's serial moves at once. Unsigned updates, and other keys' (they use the server
  directly): REFUSED / BADKEY.
* QUERY for an SOA: relayed to the server (certbot-dns-rfc2136 and nsupdate find the zone
  by an SOA query that needs the AA bit); the answer is signed with the client's key if
  the query was. Other queries and zone transfers: REFUSED (the nameservers answer them;
  ``records`` and ``read`` keys use the server directly).
* UDP and TCP (2-byte length prefix, several messages per connection, RFC 1035 4.2),
  bounded threads, sizes and read times; one log line per request, never a secret.
"""

from __future__ import annotations

import logging
import random
import socket
import socketserver
import struct
import threading
import time
from dataclasses import dataclass
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsig
import dns.update
import sqlalchemy as sa
from flask import Flask

from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.core.jobs import enqueue
from reseller.dns import keys
from reseller.dns.models import Zone, ZoneKey
from reseller.dns.publishers import host_port
from reseller.dns.records import RR

log = logging.getLogger(__name__)

MAX_REQUEST = 16_384          # an ACME update is a few hundred bytes
READ_TIMEOUT = 10.0           # seconds to receive one whole TCP message
MESSAGES_PER_CONNECTION = 100
MAX_WORKERS = 32              # requests handled at once (UDP and TCP together)
KEY_TTL = 1.0                 # a revoked key stops working within this many seconds
KNOWN_NAMES = 10_000          # cache entries kept (unknown names included)
TRANSFERS = (dns.rdatatype.AXFR, dns.rdatatype.IXFR)
# dnspython names 16 BADVERS (the EDNS meaning of the same number); in TSIG it is BADSIG.
TSIG_ERRORS = {dns.rcode.BADSIG: "BADSIG", dns.rcode.BADKEY: "BADKEY"}


@dataclass(frozen=True)
class GateKey:
    key: dns.tsig.Key
    zone: dns.name.Name
    zone_id: int


class KeyCache:
    """ACME keys of active zones by name, each looked up again after ``ttl`` seconds
    (unknown names too: a key created a moment ago is found within ``ttl``)."""

    def __init__(self, ttl: float = KEY_TTL) -> None:
        self.ttl = ttl
        self.entries: dict[str, tuple[GateKey | None, float]] = {}
        self.lock = threading.Lock()

    def get(self, name: dns.name.Name) -> GateKey | None:
        """The key named ``name``; call inside an app context."""
        text = name.to_text(omit_final_dot=True).lower()
        now = time.monotonic()
        with self.lock:
            hit = self.entries.get(text)
        if hit is not None and now - hit[1] < self.ttl:
            return hit[0]
        found = self._load(text)
        with self.lock:
            if len(self.entries) >= KNOWN_NAMES:
                self.entries = {k: v for k, v in self.entries.items() if now - v[1] < self.ttl}
            self.entries[text] = (found, now)
        return found

    @staticmethod
    def _load(name: str) -> GateKey | None:
        row = db.session.execute(
            sa.select(ZoneKey.key_name, ZoneKey.secret, Zone.name, Zone.id)
            .join(Zone, Zone.id == ZoneKey.zone_id)
            .where(ZoneKey.key_name == name, ZoneKey.scope == "acme",
                   Zone.status == "active")).first()
        if row is None:
            return None
        key_name, secret, zone, zone_id = row
        return GateKey(dns.tsig.Key(key_name, secret, dns.tsig.HMAC_SHA256),
                       dns.name.from_text(zone), zone_id)


@dataclass
class Outcome:
    """What one request's log line says."""
    opcode: str = "-"
    key: str = "-"
    zone: str = "-"
    result: str = "-"


class Gate:
    """Answers one DNS message at a time; the servers below carry them."""

    def __init__(self, app: Flask, *, config: dict[str, Any] | None = None,
                 cache: KeyCache | None = None) -> None:
        config = app.config if config is None else config
        if config.get("DNS_ADAPTER") != "knot":
            raise RuntimeError("the DNS update gate fronts a Knot server: set DNS_ADAPTER=knot")
        self.app = app
        self.upstream = host_port(config["DNS_SERVER"])
        self.own_key = dns.tsig.Key(config["DNS_TSIG_NAME"], config["DNS_TSIG_SECRET"],
                                    dns.tsig.HMAC_SHA256)
        self.timeout = float(config.get("DNS_TIMEOUT", 5))
        self.keys = cache or KeyCache()

    def answer(self, wire: bytes, *, client: str = "-", max_size: int = 65535) -> bytes | None:
        """The reply to ``wire`` (None: nothing to answer). Never raises."""
        outcome = Outcome()
        try:
            with self.app.app_context():
                reply = self._answer(wire, outcome)
        except Exception:
            log.exception("DNS gate: request from %s failed", client)
            outcome.result = "SERVFAIL (internal error)"
            reply = _bare_reply(wire, dns.rcode.SERVFAIL)
        log.info("dns-gate %s %s key=%s zone=%s %s", client, outcome.opcode, outcome.key,
                 outcome.zone, outcome.result)
        if reply is None:
            return None
        try:
            return reply.to_wire(max_size=max_size, prefer_truncation=True)
        except Exception:
            log.exception("DNS gate: reply to %s could not be rendered", client)
            return None

    def _answer(self, wire: bytes, outcome: Outcome) -> dns.message.Message | None:
        if len(wire) < 12 or wire[2] & 0x80:  # too short to answer, or itself a response
            outcome.result = "dropped"
            return None
        used: dict[str, GateKey | None] = {}

        def keyring(_message: dns.message.Message, name: dns.name.Name) -> dns.tsig.Key | None:
            outcome.key = name.to_text(omit_final_dot=True)
            try:
                used["key"] = self.keys.get(name)
            except Exception as error:  # the database, not the request: SERVFAIL
                used["failure"] = error
                raise
            return used["key"].key if used["key"] else None

        try:
            query = dns.message.from_wire(wire, keyring=keyring)
        except (dns.message.UnknownTSIGKey, dns.tsig.BadKey, dns.tsig.BadAlgorithm):
            return self._tsig_error(wire, dns.rcode.BADKEY, outcome)
        except dns.tsig.BadSignature:
            return self._tsig_error(wire, dns.rcode.BADSIG, outcome)
        except dns.tsig.BadTime:
            return self._bad_time(wire, used["key"], outcome)
        except Exception as error:  # malformed: dnspython raises many kinds
            if "failure" in used:
                raise used["failure"] from error
            outcome.result = f"FORMERR ({type(error).__name__})"
            return _bare_reply(wire, dns.rcode.FORMERR)
        outcome.opcode = dns.opcode.to_text(query.opcode())
        if query.opcode() == dns.opcode.UPDATE:
            return self._update(query, used.get("key"), outcome)
        if query.opcode() == dns.opcode.QUERY:
            return self._query(query, outcome)
        return _refuse(query, dns.rcode.NOTIMP, outcome, "opcode not served")

    # -- UPDATE ----------------------------------------------------------------------------
    def _update(self, query: dns.message.Message, key: GateKey | None,
                outcome: Outcome) -> dns.message.Message:
        if key is None:
            return _refuse(query, dns.rcode.REFUSED, outcome, "unsigned update")
        if len(query.question) != 1 or query.question[0].rdtype != dns.rdatatype.SOA:
            return _refuse(query, dns.rcode.FORMERR, outcome, "zone section")
        zone = query.question[0].name
        outcome.zone = zone.to_text(omit_final_dot=True)
        if zone != key.zone:
            return _refuse(query, dns.rcode.NOTAUTH, outcome, "not the key's zone")
        for rrset in query.update:
            if not rrset.name.is_subdomain(zone):
                return _refuse(query, dns.rcode.NOTZONE, outcome, f"{rrset.name} outside")
            if not _acme_admits(rrset, zone):
                return _refuse(query, dns.rcode.REFUSED, outcome,
                               f"{rrset.name} {dns.rdatatype.to_text(rrset.rdtype)} "
                               "outside the key's scope")
        forward = dns.update.UpdateMessage(zone, rdclass=query.question[0].rdclass,
                                           keyring=self.own_key)
        forward.prerequisite.extend(query.prerequisite)
        forward.update.extend(query.update)
        rcode = self._forward_update(forward)
        reply = dns.message.make_response(query)
        reply.set_rcode(rcode)
        outcome.result = dns.rcode.to_text(rcode) + (" (server)" if rcode else "")
        if rcode == dns.rcode.NOERROR and query.update:
            with unit_of_work():  # the read-back moves the API's serial
                enqueue("reseller.dns.tasks.sync_zone", key.zone_id)
        return reply

    def _forward_update(self, forward: dns.message.Message) -> int:
        host, port = self.upstream
        try:
            return dns.query.tcp(forward, host, port=port, timeout=self.timeout).rcode()
        except (OSError, dns.exception.DNSException) as error:
            log.warning("DNS gate: the server %s:%s did not take an update: %s",
                        host, port, error)
            return dns.rcode.SERVFAIL

    # -- QUERY -----------------------------------------------------------------------------
    def _query(self, query: dns.message.Message, outcome: Outcome) -> dns.message.Message:
        if query.question:
            outcome.zone = query.question[0].name.to_text(omit_final_dot=True)
        if any(q.rdtype in TRANSFERS for q in query.question):
            return _refuse(query, dns.rcode.REFUSED, outcome, "transfers: use the server")
        if [q.rdtype for q in query.question] != [dns.rdatatype.SOA]:
            # Zone discovery is all an update client asks here; the nameservers answer
            # the rest (and the gate is no reflector for large answers).
            return _refuse(query, dns.rcode.REFUSED, outcome, "only SOA queries")
        forward = dns.message.QueryMessage(id=random.getrandbits(16))
        forward.flags = query.flags & (dns.flags.RD | dns.flags.CD | dns.flags.AD)
        forward.question = list(query.question)
        if query.edns >= 0:
            forward.use_edns(0, query.ednsflags & dns.flags.DO, 65535)
        host, port = self.upstream
        try:
            served = dns.query.tcp(forward, host, port=port, timeout=self.timeout)
        except (OSError, dns.exception.DNSException) as error:
            log.warning("DNS gate: the server %s:%s did not answer: %s", host, port, error)
            return _refuse(query, dns.rcode.SERVFAIL, outcome, "server unreachable")
        reply = dns.message.make_response(query)
        reply.flags = dns.flags.QR | (query.flags & dns.flags.RD) | (
            served.flags & (dns.flags.AA | dns.flags.RA | dns.flags.AD | dns.flags.CD))
        reply.set_rcode(served.rcode())
        reply.answer, reply.authority = served.answer, served.authority
        reply.additional = served.additional
        outcome.result = dns.rcode.to_text(served.rcode())
        return reply

    # -- TSIG errors (RFC 8945 5.2, 5.3.2) -------------------------------------------------
    def _tsig_error(self, wire: bytes, error: int, outcome: Outcome) -> dns.message.Message:
        """NOTAUTH with the TSIG error, unsigned: an empty MAC, the request's time."""
        outcome.result = f"NOTAUTH ({TSIG_ERRORS[error]})"
        try:
            request = dns.message.from_wire(wire, keyring=False)
        except Exception:
            return _bare_reply(wire, dns.rcode.FORMERR)
        outcome.opcode = dns.opcode.to_text(request.opcode())
        reply = _response_to(request)
        signed = request.tsig[0]
        reply.tsig = dns.message.Message._make_tsig(
            request.keyname, signed.algorithm, signed.time_signed, signed.fudge, b"",
            signed.original_id, error, b"")
        reply.set_rcode(dns.rcode.NOTAUTH)
        return reply

    def _bad_time(self, wire: bytes, key: GateKey | None, outcome: Outcome
                  ) -> dns.message.Message:
        """NOTAUTH/BADTIME, signed with the key (dnspython checked the MAC first): the
        request's Time Signed, our clock in Other Data, as RFC 8945 5.2.3 asks."""
        request = dns.message.from_wire(wire, keyring=False)
        outcome.opcode = dns.opcode.to_text(request.opcode())
        outcome.result = "NOTAUTH (BADTIME)"
        reply = _response_to(request)
        reply.set_rcode(dns.rcode.NOTAUTH)
        signed = request.tsig[0]
        now = int(time.time())
        template = dns.message.Message._make_tsig(
            key.key.name, key.key.algorithm, signed.time_signed, signed.fudge, b"",
            signed.original_id, dns.rcode.BADTIME, struct.pack("!HI", now >> 32,
                                                              now & 0xFFFFFFFF))
        unsigned = reply.to_wire()
        rdata, _ = dns.tsig.sign(unsigned, key.key, template[0], signed.time_signed,
                                 signed.mac)
        reply.tsig = dns.rrset.from_rdata(key.key.name, 0, rdata)
        return reply


def _acme_admits(rrset: dns.rrset.RRset, zone: dns.name.Name) -> bool:
    """A TXT add or delete (of the RRset: class ANY; of one RR: class NONE) at an
    ``_acme-challenge`` name, as ``keys.admits`` rules for the ``acme`` scope."""
    if rrset.rdtype != dns.rdatatype.TXT:
        return False
    return keys.admits("acme", RR(rrset.name.relativize(zone).to_text(), "TXT", 0, ""))


def _response_to(request: dns.message.Message) -> dns.message.Message:
    """An unsigned response to ``request`` (which may carry a TSIG we could not use)."""
    reply = dns.message.make_response(request)
    reply.tsig, reply.keyring, reply.want_tsig_sign = None, None, False
    return reply


def _refuse(query: dns.message.Message, rcode: int, outcome: Outcome,
            why: str) -> dns.message.Message:
    outcome.result = f"{dns.rcode.to_text(rcode)} ({why})"
    reply = dns.message.make_response(query)  # signed with the client's key, if any
    reply.set_rcode(rcode)
    return reply


def _bare_reply(wire: bytes, rcode: int) -> dns.message.Message | None:
    """A reply with only the header of a request we could not parse (RFC 1035 4.1.1)."""
    if len(wire) < 12 or wire[2] & 0x80:
        return None
    header = int.from_bytes(wire[2:4], "big")
    reply = dns.message.Message(id=int.from_bytes(wire[:2], "big"))
    reply.flags = dns.flags.QR | (header & (0xF << 11)) | (header & dns.flags.RD)
    reply.set_rcode(rcode)
    return reply


# -- transport ------------------------------------------------------------------------------
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
            except OSError:
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

    def start(self) -> GateServer:
        for server in self.servers:
            thread = threading.Thread(target=server.serve_forever, daemon=True,
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
