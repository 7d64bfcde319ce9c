"""Contact commands (RFC 5733) over the sandbox registry's contact objects, whose data is
the dict ``reseller.domains.contacts.registry_data`` sends (name, organization, email,
phone, street, city, postal_code, country, language): one postal address, ``int`` when
it is ASCII and ``loc`` otherwise; the auth code is kept as ``auth_info``."""

from __future__ import annotations

from lxml import etree

from reseller.core.clock import clock
from reseller.registry.epp import iis
from reseller.registry.epp.elements import E164, postal_info
from reseller.registry.epp.iis import IIS_URI
from reseller.registry.epp.server.context import (
    CommandError,
    Context,
    existing,
    required,
    texts,
)
from reseller.registry.epp.server.domain import roid
from reseller.registry.epp.server.frames import CONTACT, Reply, availability, timestamp
from reseller.registry.epp.wire import NS
from reseller.registry.sandbox_models import SandboxContact

POSTAL = {"name": "name", "org": "organization", "addr/contact:city": "city",
          "addr/contact:pc": "postal_code", "addr/contact:cc": "country"}


def check(context: Context, element: etree._Element) -> Reply:
    context.operation = "contact_info"
    return Reply(res_data=availability(
        CONTACT, "id", texts(element, "contact:id"),
        lambda handle: context.registry.contact_info(handle) is not None))


def _found(context: Context, handle: str, *, ours: bool = False) -> SandboxContact:
    return existing(context.registry.contact_info(handle), context.client_id, ours=ours)


def info(context: Context, element: etree._Element) -> Reply:
    context.operation = "contact_info"
    handle = required(element, "contact:id")
    row = _found(context, handle)
    data = row.data or {}
    result = CONTACT.infData(CONTACT.id(handle), CONTACT.roid(roid("C", handle)),
                             CONTACT.status(s="ok"), postal_info(data))
    if E164.fullmatch(data.get("phone") or ""):
        result.append(CONTACT.voice(data["phone"]))
    result.append(CONTACT.email(data.get("email") or "-"))
    result.extend([CONTACT.clID(row.sponsor), CONTACT.crID(row.sponsor),
                   CONTACT.crDate(timestamp(row.created_at or clock.now()))])
    if row.sponsor == context.client_id and data.get("auth_info"):
        result.append(CONTACT.authInfo(CONTACT.pw(data["auth_info"])))
    return Reply(res_data=result)


def contact_data(parent: etree._Element, data: dict) -> dict:
    """``data`` with what a ``<contact:create>`` or ``<contact:chg>`` carries."""
    data = dict(data)
    postal = parent.find("contact:postalInfo", NS)
    if postal is not None:
        for path, key in POSTAL.items():
            value = postal.findtext(f"contact:{path}", namespaces=NS)
            if value is not None:
                data[key] = value.strip()
        if postal.find("contact:addr", NS) is not None:
            data["street"] = "\n".join(texts(postal, "contact:addr/contact:street"))
    for tag, key in (("voice", "phone"), ("email", "email"), ("authInfo/contact:pw",
                                                                "auth_info")):
        value = parent.findtext(f"contact:{tag}", namespaces=NS)
        if value is not None:
            data[key] = value.strip()
    return data


def iis_data(context: Context, command: str) -> dict:
    """What ``<iis:create>``/``<iis:update>`` (iis-1.2, .se/.nu) carries: ``orgno``
    (identity, kept to the registry) and ``vatno``. A Swedish orgno must be a valid
    personnummer or organisationsnummer (2005); an update cannot change it (2306)."""
    element = context.extension("iis", command, IIS_URI)
    if element is None:
        return {}
    errors = iis.problems(element)
    if errors:
        raise CommandError(2001, f"Command syntax error: {errors[0]}")
    data = {etree.QName(e).localname: (e.text or "").strip() for e in element}
    if "orgno" in data and not iis.valid_orgno(data["orgno"]):
        raise CommandError(2005, "Parameter value syntax error: orgno")
    return data


def create(context: Context, element: etree._Element) -> Reply:
    context.operation = "contact_set"
    handle = required(element, "contact:id")
    if context.registry.contact_info(handle) is not None:
        raise CommandError(2302, "Object exists")
    context.registry.contact_set(handle=handle, data={**contact_data(element, {}),
                                                      **iis_data(context, "create")})
    return Reply(res_data=CONTACT.creData(CONTACT.id(handle),
                                          CONTACT.crDate(timestamp(clock.now()))))


def update(context: Context, element: etree._Element) -> Reply:
    context.operation = "contact_set"
    row = _found(context, required(element, "contact:id"), ours=True)
    if element.find("contact:add", NS) is not None or element.find("contact:rem",
                                                                     NS) is not None:
        raise CommandError(2306, "Parameter value policy error: contact statuses are not "
                                 "set here")
    chg = element.find("contact:chg", NS)
    data = contact_data(chg, row.data or {}) if chg is not None else dict(row.data or {})
    context.registry.contact_set(handle=row.handle,
                                 data={**data, **iis_data(context, "update")})
    return Reply()


HANDLERS = {"check": check, "info": info, "create": create, "update": update}
