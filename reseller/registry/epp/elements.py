"""EPP element makers and the pieces of documents both ends write the same way: the
namespaced ``ElementMaker``s and a contact's postal address."""

from __future__ import annotations

import re

from lxml import etree
from lxml.builder import ElementMaker

from reseller.registry.epp.wire import NS

FEE_URI = "urn:ietf:params:xml:ns:epp:fee-1.0"
E164 = re.compile(r"\+[0-9]{1,3}\.[0-9]{1,14}")  # eppcom/contact phone numbers


def maker(prefix: str, uri: str | None = None) -> ElementMaker:
    uri = uri or NS[prefix]
    return ElementMaker(namespace=uri, nsmap={prefix: uri})


EPP = ElementMaker(namespace=NS["epp"], nsmap={None: NS["epp"]})
DOMAIN = maker("domain")
HOST = maker("host")
CONTACT = maker("contact")
SECDNS = maker("secDNS")
RGP = maker("rgp")
FEE = maker("fee", FEE_URI)


def postal_info(data: dict) -> etree._Element:
    """One postal address from a contact's data (``reseller.domains.contacts
    .registry_data``): ``int`` when it is ASCII, ``loc`` otherwise (RFC 5733 allows
    ``int`` only for 7-bit text). Name, city and country are required by EPP, so a
    contact without them shows ``-`` and ``ZZ`` (ISO 3166's unassigned code)."""
    text = " ".join(str(v) for v in data.values() if isinstance(v, str))
    streets = [line for line in (data.get("street") or "").split("\n") if line][:3]
    address = CONTACT.addr(*[CONTACT.street(line) for line in streets],
                           CONTACT.city(data.get("city") or "-"))
    if data.get("postal_code"):
        address.append(CONTACT.pc(data["postal_code"]))
    address.append(CONTACT.cc((data.get("country") or "ZZ").upper()))
    info = CONTACT.postalInfo(CONTACT.name(data.get("name") or "-"),
                              type="int" if text.isascii() else "loc")
    if data.get("organization"):
        info.append(CONTACT.org(data["organization"]))
    info.append(address)
    return info
