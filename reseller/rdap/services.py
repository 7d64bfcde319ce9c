"""Registration data for RDAP and WHOIS: one public view of a domain, built from the
Domain model, with the reseller's brand and the registrar (operator) from config.

Privacy and redaction are decided here once, so RDAP and WHOIS can never disagree."""

from __future__ import annotations

import re
from typing import Any

import idna

from reseller.accounts.models import Reseller
from reseller.core.extensions import db
from reseller.domains import services as domains
from reseller.rdap.contact import contact_url
from reseller.rdap.models import Brand, Person, Registrar, RegistrationData
from whitelabel import brands

# RDAP status values are RFC 8056's mapping of EPP statuses: ``ok`` is ``active``, the
# rest are their words (``serverTransferProhibited`` → ``server transfer prohibited``).
_RDAP_WORDS = {"ok": "active"}


def rdap_status(epp_status: str) -> str:
    return _RDAP_WORDS.get(epp_status) or re.sub(r"(?<!^)([A-Z])", r" \1", epp_status).lower()


def epp_statuses(domain: Any) -> list[str]:
    """The registry's statuses (as the last sync or command saw them) with our own client
    statuses as we last set them; ``ok`` only alone (RFC 5731), redemption also shows
    ``pendingDelete`` as EPP does."""
    known = list(domain.registry_statuses or [])
    if domain.registry_statuses is None and domain.status == "redemption":
        known.append("redemptionPeriod")
    if domain.status == "expired":
        known.append("autoRenewPeriod")
    for status, on in (("clientTransferProhibited", domain.locked),
                       ("clientHold", domain.suspended)):
        known = [s for s in known if s != status] + ([status] if on else [])
    if "redemptionPeriod" in known and "pendingDelete" not in known:
        known.append("pendingDelete")
    known = list(dict.fromkeys(s for s in known if s != "ok"))
    return known or ["ok"]


def normalize_query(name: str) -> str:
    """A query name in A-label form; ValueError for something that is not a name."""
    text = (name or "").strip().rstrip(".").lower()
    if not text or len(text) > 253 or "." not in text:
        raise ValueError("not a domain name")
    try:
        return idna.encode(text, uts46=True).decode("ascii")
    except idna.IDNAError as error:
        raise ValueError(str(error)) from error


def registrar_from_config(config: Any) -> Registrar:
    return Registrar(name=config["OPERATOR_NAME"], iana_id=str(config["OPERATOR_IANA_ID"]),
                     abuse_email=config["OPERATOR_ABUSE_EMAIL"],
                     abuse_phone=config.get("OPERATOR_ABUSE_PHONE"),
                     url=config.get("OPERATOR_URL"))


def reseller_brand(reseller_id: int) -> Brand:
    """The reseller's white-label brand if it has one, else its company name and website."""
    reseller = db.session.get(Reseller, reseller_id)
    brand = brands.find_brand(reseller_id)
    if brand is not None and brand.name:
        return Brand(name=brand.name, url=brand.support_url or reseller.website,
                     email=brand.support_email)
    return Brand(name=reseller.company_name, url=reseller.website,
                 email=reseller.contact_email)


def _person(contact: Any) -> Person:
    return Person(handle=contact.handle, name=contact.name, organization=contact.organization,
                  email=contact.email, phone=contact.phone, street=contact.street,
                  city=contact.city, postal_code=contact.postal_code, country=contact.country)


def lookup(name: str, config: Any) -> RegistrationData | None:
    """The public registration data of a live domain, or None if we do not have it."""
    domain = domains.find_live_domain(name)
    if domain is None or not domain.is_live:
        return None
    status = [rdap_status(s) for s in epp_statuses(domain)]
    contact = domain.registrant
    return RegistrationData(
        # The registry's object id; ours only for a name never read from the registry.
        handle=domain.roid or f"D{domain.id}-TUNNUS", ldh_name=domain.name,
        unicode_name=domain.unicode_name,
        status=status, created_at=domain.created_at, expires_at=domain.expires_at,
        updated_at=domain.updated_at, nameservers=list(domain.nameservers or []),
        ds=list(domain.ds or []), privacy=bool(domain.privacy),
        registrant=None if domain.privacy else _person(contact),
        registrant_country=contact.country if contact else None,
        registrant_contact_url=contact_url(reseller_id=domain.reseller_id, name=domain.name)
        if domain.privacy else None,
        reseller=reseller_brand(domain.reseller_id), registrar=registrar_from_config(config),
        locked=bool(domain.locked))
