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
* One log line per request, never a secret. The transport (UDP and TCP, RFC 1035 4.2)
  is ``reseller.dns.gate_server``'s.
"""

from __future__ import annotations

import logging
import random
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
        # Its own unit of work: the read ends here, so no transaction is open while the
        # update is forwarded to the server.
        with unit_of_work():
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
