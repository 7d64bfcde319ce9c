"""Registration data: the one public view of a domain that RDAP and WHOIS both answer
with (built by ``reseller.rdap.services.lookup``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Person:
    handle: str
    name: str
    organization: str | None
    email: str
    phone: str
    street: str
    city: str
    postal_code: str
    country: str


@dataclass(frozen=True)
class Brand:
    """Who the reseller is to its customers."""

    name: str
    url: str | None
    email: str | None = None


@dataclass(frozen=True)
class Registrar:
    name: str
    iana_id: str
    abuse_email: str
    abuse_phone: str | None
    url: str | None


@dataclass(frozen=True)
class RegistrationData:
    handle: str
    ldh_name: str
    unicode_name: str
    status: list[str]
    created_at: datetime
    expires_at: datetime
    updated_at: datetime
    nameservers: list[str]
    ds: list[dict[str, Any]]
    privacy: bool
    registrant: Person | None  # None when privacy hides it
    registrant_country: str | None
    reseller: Brand
    registrar: Registrar
    # Privacy on: the web form through which the registrant can be reached instead
    # (ICANN Registration Data Policy; RDAP ``contact-uri``, WHOIS Registrant Email).
    registrant_contact_url: str | None = None
    locked: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
