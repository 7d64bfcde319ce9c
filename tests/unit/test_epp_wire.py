"""EPP framing and parsing refuse hostile input before acting on it."""

import socket

import pytest

from reseller.registry.epp import wire
from reseller.registry.epp.schema import validation_errors

HELLO = b'<?xml version="1.0" encoding="UTF-8"?><epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><hello/></epp>'


def test_frame_round_trips_over_a_socket():
    a, b = socket.socketpair()
    with a, b:
        wire.write_frame(a, HELLO)
        assert wire.read_frame(b) == HELLO


def test_oversized_frame_is_refused_before_its_body_is_read():
    a, b = socket.socketpair()
    with a, b:
        a.sendall(wire.HEADER.pack(wire.MAX_FRAME + 1))
        with pytest.raises(wire.FrameError, match="outside"):
            wire.read_frame(b)


def test_truncated_frame_is_a_closed_connection():
    a, b = socket.socketpair()
    with b:
        a.sendall(wire.HEADER.pack(100) + b"<epp")
        a.close()
        with pytest.raises(wire.ConnectionClosed):
            wire.read_frame(b)


@pytest.mark.parametrize("document", [
    b"<epp xmlns='urn:ietf:params:xml:ns:epp-1.0'><hello>",
    b'<!DOCTYPE epp [<!ENTITY x "boom">]><epp xmlns="urn:ietf:params:xml:ns:epp-1.0">&x;</epp>',
    b'<!DOCTYPE epp SYSTEM "http://example.invalid/epp.dtd"><epp xmlns="urn:ietf:params:xml:ns:epp-1.0"/>',
    b"<html/>",
])
def test_hostile_or_malformed_documents_are_refused(document):
    with pytest.raises(wire.FrameError):
        wire.parse(document)


def test_hello_is_valid_epp_and_garbage_is_not():
    assert validation_errors(HELLO) == []
    assert validation_errors(b'<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><nonsense/></epp>')
