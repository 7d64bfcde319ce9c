"""EPP on the wire, shared by our client and the sandbox EPP server: RFC 5734 framing
(a 4-byte big-endian total length, header included, then one XML document), a hardened
XML parser, and the namespaces of the mappings we speak.

Both ends treat the peer as untrusted: a frame larger than ``MAX_FRAME`` is refused before
its body is read, and a document with a DOCTYPE, entities or network access is refused by
the parser, so neither a malicious registry nor a malicious client can make us expand
entities, fetch URLs or buffer unbounded input.
"""

from __future__ import annotations

import socket
import struct

from lxml import etree

MAX_FRAME = 1 << 20  # 1 MiB: the largest EPP answer we expect is a few kB
HEADER = struct.Struct(">I")

NS = {
    "epp": "urn:ietf:params:xml:ns:epp-1.0",
    "eppcom": "urn:ietf:params:xml:ns:eppcom-1.0",
    "domain": "urn:ietf:params:xml:ns:domain-1.0",
    "host": "urn:ietf:params:xml:ns:host-1.0",
    "contact": "urn:ietf:params:xml:ns:contact-1.0",
    "secDNS": "urn:ietf:params:xml:ns:secDNS-1.1",
    "rgp": "urn:ietf:params:xml:ns:rgp-1.0",
}
OBJECT_URIS = (NS["domain"], NS["host"], NS["contact"])
EXTENSION_URIS = (NS["secDNS"], NS["rgp"])


class FrameError(Exception):
    """The peer sent something that is not an acceptable EPP frame (size, XML, DOCTYPE).
    The connection must be dropped: framing is lost or the peer is hostile."""


class ConnectionClosed(FrameError):
    """The peer closed the connection (cleanly or not) before a whole frame arrived."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_blank_text=True,
                           remove_comments=True, remove_pis=True)


def parse(data: bytes) -> etree._Element:
    """Parse one EPP document, refusing DOCTYPEs (and so any entity definitions)."""
    if len(data) > MAX_FRAME:
        raise FrameError(f"document of {len(data)} bytes exceeds {MAX_FRAME}")
    try:
        tree = etree.fromstring(data, _parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        raise FrameError(f"malformed XML: {exc}") from exc
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise FrameError("DOCTYPE is not allowed in EPP")
    root = tree.getroot()
    if root.tag != f"{{{NS['epp']}}}epp":
        raise FrameError(f"root element is {root.tag}, not epp")
    return root


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=False)


def encode_frame(document: bytes) -> bytes:
    if len(document) + HEADER.size > MAX_FRAME:
        raise FrameError("document too large to send")
    return HEADER.pack(len(document) + HEADER.size) + document


def _read_exact(sock: socket.socket, count: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < count:
        chunk = sock.recv(min(count - len(chunks), 65536))
        if not chunk:
            raise ConnectionClosed(f"connection closed after {len(chunks)} of {count} bytes")
        chunks += chunk
    return bytes(chunks)


def read_frame(sock: socket.socket) -> bytes:
    """Read one frame's XML body. Raises ``FrameError`` for a bad length (too small to
    hold a header, or over ``MAX_FRAME``) before reading the body."""
    (total,) = HEADER.unpack(_read_exact(sock, HEADER.size))
    if total <= HEADER.size or total > MAX_FRAME:
        raise FrameError(f"frame length {total} outside 5..{MAX_FRAME}")
    return _read_exact(sock, total - HEADER.size)


def write_frame(sock: socket.socket, document: bytes) -> None:
    sock.sendall(encode_frame(document))
