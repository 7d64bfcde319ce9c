"""The IETF EPP schemas (RFC 5730-5733, 5910, 3915, 8748), bundled under ``xsd/`` and loaded
through one master schema, so frames can be validated by the tests and, when
``EPP_VALIDATE`` is on, by the server before it acts on a command."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path

from lxml import etree

from reseller.registry.epp import iis

XSD_DIR = Path(__file__).with_name("xsd")
EPP_URI = "urn:ietf:params:xml:ns:epp-1.0"
_FILES = {
    "urn:ietf:params:xml:ns:eppcom-1.0": "eppcom-1.0.xsd",
    "urn:ietf:params:xml:ns:epp-1.0": "epp-1.0.xsd",
    "urn:ietf:params:xml:ns:host-1.0": "host-1.0.xsd",
    "urn:ietf:params:xml:ns:contact-1.0": "contact-1.0.xsd",
    "urn:ietf:params:xml:ns:domain-1.0": "domain-1.0.xsd",
    "urn:ietf:params:xml:ns:secDNS-1.1": "secDNS-1.1.xsd",
    "urn:ietf:params:xml:ns:rgp-1.0": "rgp-1.0.xsd",
    "urn:ietf:params:xml:ns:epp:fee-1.0": "fee-1.0.xsd",  # RFC 8748, transcribed
}


class _Resolver(etree.Resolver):
    """The published schemas import by namespace only; map each to its bundled file and
    refuse anything else (no network, no file outside ``xsd/``)."""

    def resolve(self, url, pubid, context):  # noqa: ANN001 - lxml's signature
        name = Path(url or "").name
        if name in _FILES.values():
            return self.resolve_filename(str(XSD_DIR / name), context)
        return None


@lru_cache(maxsize=1)
def epp_schema() -> etree.XMLSchema:
    imports = "".join(
        f'<xs:import namespace="{ns}" schemaLocation="{(XSD_DIR / f).as_uri()}"/>'
        for ns, f in _FILES.items())
    master = ('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
              f'targetNamespace="urn:tunnus:epp-master">{imports}</xs:schema>')
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_Resolver())
    return etree.XMLSchema(etree.fromstring(master.encode(), parser))


def validation_errors(document: bytes | etree._Element) -> list[str]:
    """Every schema violation in ``document`` (empty when it is valid EPP).

    The EPP schema validates extension and object elements laxly through ``<any>``; the
    master schema knows all bundled namespaces, so their content is checked too.
    Extensions whose XSD is not bundled (IIS's ``iis-1.2``) are checked structurally
    (``iis.problems``) and the rest of the frame by the XSDs."""
    root = document if isinstance(document, etree._Element) else etree.fromstring(
        document, etree.XMLParser(resolve_entities=False, no_network=True))
    unschemed = root.findall(f".//{{{EPP_URI}}}extension/{{{iis.IIS_URI}}}*")
    if unschemed:
        errors = [e for element in unschemed for e in iis.problems(element)]
        if errors:
            return errors
        root = copy.deepcopy(root)
        for element in root.findall(f".//{{{EPP_URI}}}extension/{{{iis.IIS_URI}}}*"):
            parent = element.getparent()
            parent.remove(element)
            if not len(parent):  # an extension with nothing else left is no extension
                parent.getparent().remove(parent)
    schema = epp_schema()
    if schema.validate(root):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def assert_valid(document: bytes | etree._Element) -> None:
    errors = validation_errors(document)
    if errors:
        raise AssertionError("invalid EPP:\n" + "\n".join(errors))
