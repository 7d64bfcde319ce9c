"""What differs between registries, kept small: which extensions we ask for, whether
contacts are sent at all (thin gTLDs), which contact roles exist, and the extra contact
data some ccTLDs want. ``docs/epp.md`` says what each profile is based on and what the
sandbox cannot check.

* ``generic`` / ``thick``: RFC 5730-5733 with secDNS-1.1, rgp-1.0 and fee-1.0 when the
  greeting offers them; registrant, admin and tech contacts.
* ``thin``: as generic, but no contact objects and no contacts on domains (a thin gTLD
  registry such as .com/.net before the RDAP transition).
* ``fi``: Traficom (.fi). Contact objects carry Traficom's own elements inside the
  contact-1.0 namespace (role, type, isfinnish, first/last name, identity or register
  number, birth date, legal email); no admin contact; ``domain-ext-1.0`` is asked for.
* ``se`` / ``nu``: Internetstiftelsen. Contacts carry ``iis:create``/``iis:update`` with
  ``orgno`` (``[CC]number``) and ``vatno``; ``iis-1.2`` is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from reseller.registry.epp.elements import CONTACT, FEE_URI
from reseller.registry.epp.iis import IIS, IIS_URI
from reseller.registry.epp.wire import NS

FI_DOMAIN_EXT = "urn:ietf:params:xml:ns:domain-ext-1.0"
STANDARD_EXTENSIONS = (NS["secDNS"], NS["rgp"], FEE_URI)


@dataclass(frozen=True)
class Profile:
    name: str
    contacts: bool = True  # thin registries hold no contacts
    roles: tuple[str, ...] = ("admin", "tech")
    extensions: tuple[str, ...] = STANDARD_EXTENSIONS

    def contact_create(self, element: etree._Element, data: dict) -> None:
        """Add registry-specific data to a ``<contact:create>`` (in place)."""

    def contact_update(self, element: etree._Element, data: dict) -> None:
        """Add registry-specific data to a ``<contact:update>``'s ``<contact:chg>``."""

    def contact_extension(self, data: dict, *, create: bool) -> etree._Element | None:
        """An ``<extension>`` child for a contact create or update, if the registry
        wants one."""
        return None


# -- .fi (Traficom) -----------------------------------------------------------------------
FI_TYPES = {"person": 0, "company": 1, "association": 2, "institution": 3,
            "political_party": 4, "municipality": 5, "government": 6, "public_community": 7}
FI_ROLES = {"registrant": 5, "tech": 2}


@dataclass(frozen=True)
class TraficomProfile(Profile):
    """.fi: Traficom extends contact-1.0 in its own copy of the schema, so these elements
    sit in the contact namespace and do not validate against the IETF XSD. Element names
    and order follow Traficom's published examples as reproduced in Net::DRI's FICORA
    tests; the numeric roles and types are Traficom's codes (see docs/epp.md)."""

    def contact_create(self, element: etree._Element, data: dict) -> None:
        handle = element.find("contact:id", NS)
        handle.addnext(CONTACT.role(str(FI_ROLES.get(data.get("role") or "registrant", 5))))
        element.find("contact:role", NS).addnext(CONTACT.type(str(fi_type(data))))
        self._postal(element, data)

    def contact_update(self, element: etree._Element, data: dict) -> None:
        chg = element.find("contact:chg", NS)
        chg.insert(0, CONTACT.type(str(fi_type(data))))
        self._postal(chg, data)

    def _postal(self, parent: etree._Element, data: dict) -> None:
        postal = parent.find("contact:postalInfo", NS)
        postal.set("type", "loc")
        name = postal.find("contact:name", NS)
        first, _, last = (data.get("name") or "").rpartition(" ")
        name.addprevious(CONTACT.isfinnish("1" if (data.get("country") or "").upper() == "FI"
                                           else "0"))
        name.addprevious(CONTACT.firstname(first or last or "-"))
        name.addprevious(CONTACT.lastname(last or "-"))
        anchor = postal.find("contact:org", NS)
        anchor = anchor if anchor is not None else name
        # Traficom: a company's Y-tunnus, or a person's henkilötunnus (or, for a
        # foreign person without one, the birth date); never both kinds.
        person = fi_type(data) == FI_TYPES["person"]
        for tag, value in (("registernumber", None if person else registration_number(data)),
                           ("identity", personal_id(data) if person else None),
                           ("birthDate", data.get("birth_date") if person else None)):
            if value:
                anchor.addnext(CONTACT(tag, str(value)))
                anchor = anchor.getnext()
        email = parent.find("contact:email", NS)
        if email is not None:
            email.addnext(CONTACT.legalemail(data.get("legal_email") or data.get("email")
                                             or "-"))


def fi_type(data: dict) -> int:
    """Traficom's registrant type: as given, else a company when there is an organisation
    and a private person otherwise."""
    given = data.get("entity_type") or data.get("registrant_type")
    if given in FI_TYPES:
        return FI_TYPES[given]
    return FI_TYPES["company"] if data.get("organization") else FI_TYPES["person"]


def registration_number(data: dict) -> str | None:
    """A contact's business/organisation number (``reseller.domains.contacts
    .registry_data`` sends ``registration_number``; older callers ``register_number``)."""
    return data.get("registration_number") or data.get("register_number")


def personal_id(data: dict) -> str | None:
    return data.get("personal_id") or data.get("identity")


# -- .se / .nu (Internetstiftelsen) -------------------------------------------------------
@dataclass(frozen=True)
class IisProfile(Profile):
    """.se/.nu: every contact has an organisation or personal identity number, written
    ``[CC]number`` (``[SE]802405-0190``); companies may add a VAT number."""

    def contact_extension(self, data: dict, *, create: bool) -> etree._Element | None:
        element = IIS.create() if create else IIS.update()
        person = (data.get("entity_type") or ("company" if data.get("organization")
                                              else "person")) == "person"
        orgno = data.get("orgno") or (personal_id(data) if person
                                      else registration_number(data))
        orgno = orgno or registration_number(data) or personal_id(data)
        if create and orgno:
            country = (data.get("country") or "SE").upper()
            element.append(IIS.orgno(orgno if orgno.startswith("[") else f"[{country}]{orgno}"))
        if data.get("vatno"):
            element.append(IIS.vatno(data["vatno"]))
        return element if len(element) else None


PROFILES: dict[str, Profile] = {
    "generic": Profile("generic"),
    "thick": Profile("thick"),
    "thin": Profile("thin", contacts=False, roles=()),
    "fi": TraficomProfile("fi", roles=("tech",),
                          extensions=(NS["secDNS"], FI_DOMAIN_EXT)),
    "se": IisProfile("se", extensions=(NS["secDNS"], IIS_URI)),
    "nu": IisProfile("nu", extensions=(NS["secDNS"], IIS_URI)),
}


def profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown EPP profile {name!r} (known: {', '.join(PROFILES)})") \
            from None
