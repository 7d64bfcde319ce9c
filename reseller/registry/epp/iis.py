"""Internetstiftelsen's ``iis-1.2`` contact extension (.se/.nu), as both our client and the
sandbox server write and read it: ``<iis:create>`` with ``orgno`` (``[CC]number``, a Swedish
personnummer or organisationsnummer for ``[SE]``) and an optional ``vatno``;
``<iis:update>`` with ``vatno`` only (IIS never lets an ``orgno`` change).

IIS's XSD is not bundled (it is not among the published IETF schemas, and the EPP
schema's extension wildcard is strict), so these elements are checked here, structurally,
and the rest of each frame by the XSDs (``schema.validation_errors``)."""

from __future__ import annotations

import re

from lxml import etree
from stdnum.exceptions import ValidationError
from stdnum.se import orgnr, personnummer

from reseller.registry.epp.elements import maker

IIS_URI = "urn:se:iis:xml:epp:iis-1.2"
IIS = maker("iis", IIS_URI)
ORGNO = re.compile(r"\[(?P<cc>[A-Z]{2})\](?P<number>[0-9A-Za-z][0-9A-Za-z+-]{0,122})")
VATNO = re.compile(r"[A-Z]{2}[0-9A-Za-z+*.]{2,18}")
# element -> its children in order: (local name, required, pattern)
SHAPES = {"create": (("orgno", True, ORGNO), ("vatno", False, VATNO)),
          "update": (("vatno", False, VATNO),)}


def problems(element: etree._Element) -> list[str]:
    """What is wrong with an ``iis:create``/``iis:update`` element (empty: well formed)."""
    local = etree.QName(element).localname
    shape = SHAPES.get(local)
    if shape is None:
        return [f"iis:{local} is not a command extension of iis-1.2"]
    children = [(etree.QName(c).localname, (c.text or "").strip()) for c in element
                if isinstance(c.tag, str)]
    found, errors = iter(children), []
    pending = next(found, None)
    for name, required, pattern in shape:
        if pending is not None and pending[0] == name:
            if not pattern.fullmatch(pending[1]):
                errors.append(f"iis:{name} {pending[1]!r} is not valid")
            pending = next(found, None)
        elif required:
            errors.append(f"iis:{local} needs iis:{name}")
    if pending is not None:
        errors.append(f"iis:{pending[0]} is not expected in iis:{local}")
    return errors


def valid_orgno(value: str) -> bool:
    """A well-formed ``[CC]number`` whose Swedish number passes its checksum (a
    personnummer or an organisationsnummer); other countries' numbers by form only."""
    match = ORGNO.fullmatch(value or "")
    if match is None:
        return False
    if match["cc"] != "SE":
        return True
    number = match["number"]
    for kind in (personnummer, orgnr):
        try:
            kind.validate(number)
            return True
        except ValidationError:
            continue
    return False
