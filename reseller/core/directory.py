"""Who a reseller is, for the packages that must not import the accounts feature.

The wallet prints a buyer's details on invoices and names resellers in the operator's
console; white-label mail goes to a reseller's contacts in its language. They ask here;
the accounts feature answers (its ``init_app`` calls ``set_reseller_directory``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask, current_app

_DIRECTORY = "tunnus.reseller_directory"


@dataclass(frozen=True)
class Contact:
    """An active user of the reseller: who may be named on the billing page or mailed."""

    name: str
    email: str
    role: str  # owner, admin, billing or technical


@dataclass(frozen=True)
class ResellerProfile:
    """A reseller's details as the accounts feature keeps them (a copy, read-only)."""

    id: int
    company_name: str
    country: str
    business_id: str
    vat_id: str | None
    vat_status: str  # domestic, reverse_charge or outside_scope
    street: str | None
    postal_code: str | None
    city: str | None
    contact_email: str
    billing_email: str | None
    einvoice_address: str | None
    language: str
    tier: str
    contacts: tuple[Contact, ...] = ()

    @property
    def invoice_email(self) -> str:
        """Where invoices go: the billing email, else the contact email."""
        return self.billing_email or self.contact_email

    def billing_recipients(self) -> list[str]:
        """The invoice email plus every active user with the billing role, once each."""
        emails = [self.invoice_email, *(c.email for c in self.contacts if c.role == "billing")]
        return list(dict.fromkeys(email.lower() for email in emails if email))


@dataclass(frozen=True)
class Directory:
    """``profile(id)``: one reseller or None; ``names(ids)``: id -> company name of those
    ids (of every reseller when ``ids`` is None), in one query."""

    profile: Callable[[int], ResellerProfile | None]
    names: Callable[[Iterable[int] | None], dict[int, str]]


def set_reseller_directory(app: Flask, directory: Directory) -> None:
    app.extensions[_DIRECTORY] = directory


def _directory() -> Directory:
    return current_app.extensions[_DIRECTORY]


def reseller_profile(reseller_id: int) -> ResellerProfile | None:
    return _directory().profile(reseller_id)


def reseller_names(ids: Iterable[int] | None = None) -> dict[int, str]:
    """Company names by reseller id: of ``ids`` (one lookup for a page), or of all."""
    wanted = None if ids is None else set(ids)
    return {} if wanted == set() else _directory().names(wanted)
