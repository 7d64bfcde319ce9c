"""Who a contact is, as registries with identity rules need it (.fi, .se, .nu): the kind of
holder (person, company, association, public body…), its business or organisation number
and a person's identity code, checked with python-stdnum where the country has a module
(``fi.ytunnus``/``fi.hetu``, ``se.orgnr``/``se.personnummer``).

The numbers are personal data: stored encrypted (``EncryptedText``), shown masked by the
API, sent only to the registry, never to RDAP, WHOIS, events or logs."""

from __future__ import annotations

import importlib
import re

from stdnum.exceptions import ValidationError as StdnumError

from reseller.core.identity import EEA, EU, InvalidIdentifier, normalize_business_id

# Traficom's registrant types are the widest list a registry asks for; other registries
# only tell persons from organisations.
ENTITY_TYPES = ("person", "company", "association", "institution", "political_party",
                "municipality", "government", "public_community")
# TLDs whose registry refuses a registrant without an identity number (the default of
# REGISTRANT_IDENTITY_TLDS).
IDENTITY_TLDS = frozenset({"fi", "se", "nu"})

_PERSONAL_ID = {"FI": "fi.hetu", "SE": "se.personnummer"}
_GENERIC = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./+-]{2,30}$")


def entity_type_of(*, entity_type: str | None, organization: str | None) -> str:
    """The stated type, else a company when there is an organisation, else a person."""
    if entity_type in ENTITY_TYPES:
        return entity_type
    return "company" if organization else "person"


def normalize_personal_id(country: str, value: str) -> str:
    """A person's identity code in its usual written form (``131052-308T``,
    ``880320-0016``); ``InvalidIdentifier`` when its format or checksum is wrong."""
    value = (value or "").strip()
    path = _PERSONAL_ID.get((country or "").upper())
    if path is None:
        if not _GENERIC.match(value):
            raise InvalidIdentifier("Not a valid personal identity code.")
        return value.upper()
    module = importlib.import_module(f"stdnum.{path}")
    try:
        return module.format(module.validate(value))
    except StdnumError as error:
        raise InvalidIdentifier("Not a valid personal identity code for the country.") \
            from error


def normalize_registration_number(country: str, value: str) -> str:
    """A business or organisation number (``2464491-9``, ``802405-0190``)."""
    return normalize_business_id((country or "").upper(), value)


def mask(value: str | None) -> str | None:
    """``******-308T``: only the last four characters stay readable (enough to tell two
    numbers apart), separators keep their place."""
    if not value:
        return value
    keep = 4 if len(value) > 6 else 1
    head, tail = value[:-keep], value[-keep:]
    return "".join("*" if ch.isalnum() else ch for ch in head) + tail


def is_masked(value: str | None) -> bool:
    return bool(value) and "*" in value


def missing_for(*, entity_type: str, registration_number: str | None,
                personal_id: str | None) -> str | None:
    """What a registrant lacks where a registry needs its identity (None: nothing)."""
    if entity_type == "person":
        return None if personal_id else "personal_id"
    return None if registration_number else "registration_number"


def eu_eligible(*, entity_type: str | None, organization: str | None, country: str | None,
                citizenship: str | None) -> bool:
    """Whether EURid takes this holder for .eu (Regulation (EU) 2019/517 art. 3, EURid's
    registration policy since 19 October 2019): an undertaking or organisation established
    in the EU/EEA, a person resident in the EU/EEA, or an EU citizen living anywhere."""
    if (country or "").upper() in EEA:
        return True
    person = entity_type_of(entity_type=entity_type, organization=organization) == "person"
    return person and (citizenship or "").upper() in EU
