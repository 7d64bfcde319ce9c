"""The DNS update gate's rules without a server: which update RRs an ACME key may send,
when a key goes through the gate instead of Knot, and the header-only FORMERR reply."""

from __future__ import annotations

import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.update
import pytest

from reseller.dns.gate import _acme_admits, _bare_reply
from reseller.dns.publishers import KnotPublisher

ZONE = dns.name.from_text("example.fi")


def update_rrsets(*steps) -> list[dns.rrset.RRset]:
    message = dns.update.UpdateMessage(ZONE)
    for method, *args in steps:
        getattr(message, method)(*args)
    return list(dns.message.from_wire(message.to_wire()).update)


@pytest.mark.parametrize(("steps", "admitted"), [
    ([("add", "_acme-challenge", 120, "TXT", "t")], True),
    ([("add", "_ACME-Challenge.new", 120, "TXT", "t")], True),       # names ignore case
    ([("add", "_acme-challenge.a.b.c", 120, "TXT", "t")], True),     # any depth, any host
    ([("delete", "_acme-challenge.new", "TXT")], True),              # the RRset: class ANY
    ([("delete", "_acme-challenge.new", "TXT", "t")], True),         # one RR: class NONE
    ([("delete", "_acme-challenge.new")], False),                    # every type: ANY ANY
    ([("add", "_acme-challenge", 120, "A", "192.0.2.1")], False),
    ([("add", "www", 120, "TXT", "t")], False),
    ([("add", "@", 120, "TXT", "t")], False),
    ([("add", "x._acme-challenge", 120, "TXT", "t")], False),        # the label must be first
])
def test_an_acme_key_may_send_txt_at_challenge_names_only(steps, admitted):
    assert all(_acme_admits(rrset, ZONE) for rrset in update_rrsets(*steps)) is admitted


class _Version(KnotPublisher):
    def __init__(self, version: tuple[int, ...], gate: str | None) -> None:
        super().__init__({"DNS_SERVER": "127.0.0.1:53", "DNS_TSIG_NAME": "tunnus",
                          "DNS_TSIG_SECRET": "c2VjcmV0", "DNS_GATE_SERVER": gate})
        self._version = version


@pytest.mark.parametrize(("version", "gate", "routed"), [
    ((3, 2, 6), "gate.example.net:53", True),
    ((3, 2, 6), None, False),              # no gate: today's TXT-anywhere rule and the sync
    ((3, 3, 0), "gate.example.net:53", False),  # Knot holds the key to its names itself
])
def test_acme_keys_stay_off_knot_only_where_knot_cannot_hold_them(version, gate, routed):
    publisher = _Version(version, gate)
    assert publisher.routed_through_gate("acme") is routed
    assert publisher.routed_through_gate("records") is False
    assert publisher.routed_through_gate("read") is False


def test_an_unparsable_request_gets_a_header_only_formerr_and_a_response_nothing():
    query = dns.update.UpdateMessage(ZONE).to_wire()
    reply = dns.message.from_wire(_bare_reply(query[:12] + b"\xff\xff", dns.rcode.FORMERR)
                                  .to_wire())
    assert reply.id == int.from_bytes(query[:2], "big") and reply.rcode() == dns.rcode.FORMERR
    assert reply.opcode() == dns.opcode.UPDATE and reply.question == []
    assert _bare_reply(b"\x00" * 11, dns.rcode.FORMERR) is None
    answer = bytearray(query)
    answer[2] |= 0x80  # QR: a response, never answered (no loops between servers)
    assert _bare_reply(bytes(answer), dns.rcode.FORMERR) is None
