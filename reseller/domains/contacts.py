"""Contacts (registrant, admin, tech): validated, mirrored to the registry, never deleted
while a domain or an open order uses them."""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reseller.core.clock import clock
from reseller.core.db import contains
from reseller.core.errors import Conflict, NotFound
from reseller.core.events import record_event
from reseller.core.extensions import db
from reseller.domains.models import LIVE_STATUSES, Contact, Domain, Order
from reseller.registry.services import get_registry

FIELDS = ("name", "organization", "email", "phone", "street", "city", "postal_code",
          "country", "language")


class ContactNotFound(NotFound):
    code = "contact_not_found"
    title = _l("No such contact")


class ContactInUse(Conflict):
    code = "contact_in_use"
    title = _l("The contact is in use and cannot be deleted")


def registry_data(contact: Contact) -> dict[str, Any]:
    return {field: getattr(contact, field) for field in FIELDS}


def get_contact(*, reseller_id: int, contact_id: int) -> Contact:
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.reseller_id != reseller_id:
        raise ContactNotFound(_l("Contact %(id)s not found.", id=contact_id))
    return contact


def list_contacts(*, reseller_id: int, q: str | None = None) -> sa.Select:
    """The reseller's contacts; ``q`` keeps those whose name, organisation or email
    contains it (any case; trigram-indexed on PostgreSQL)."""
    stmt = sa.select(Contact).where(Contact.reseller_id == reseller_id)
    if q and q.strip():
        stmt = stmt.where(sa.or_(*(contains(column, q.strip(), ignore_case=True) for column in
                                   (Contact.name, Contact.organization, Contact.email))))
    return stmt


def create_contact(*, reseller_id: int, **data: Any) -> Contact:
    contact = Contact(reseller_id=reseller_id, handle="TN" + secrets.token_hex(6).upper(),
                      **{field: data.get(field) for field in FIELDS})
    db.session.add(contact)
    db.session.flush()
    get_registry().contact_set(handle=contact.handle, data=registry_data(contact))
    return contact


def update_contact(*, reseller_id: int, contact_id: int, **data: Any) -> Contact:
    contact = get_contact(reseller_id=reseller_id, contact_id=contact_id)
    previous = person(contact)
    for field in FIELDS:
        if field in data:
            setattr(contact, field, data[field])
    db.session.flush()
    get_registry().contact_set(handle=contact.handle, data=registry_data(contact))
    domains = _domains_using(contact)
    for domain in domains or [None]:
        record_contact_changed(contact=contact, domain=domain, previous=previous)
    return contact


def person(contact: Contact | None) -> dict[str, Any] | None:
    """A contact as event data (white label reads ``registrant.email``/``language``)."""
    if contact is None:
        return None
    return {"id": contact.id, "name": contact.name, "organization": contact.organization,
            "email": contact.email, "language": contact.language}


def record_contact_changed(*, contact: Contact, domain: Domain | None,
                           order_id: int | None = None,
                           previous: dict[str, Any] | None = None) -> None:
    """``contact.changed`` for one domain using ``contact`` (or none); ``previous`` is the
    registrant before an owner change or the contact's details before an update."""
    roles = []
    if domain is not None:
        roles = [role for role in ("registrant", "admin", "tech")
                 if getattr(domain, f"{role}_id") == contact.id]
    registrant = domain.registrant if domain is not None else None
    record_event(reseller_id=contact.reseller_id, type="contact.changed", data={
        "contact_id": contact.id, "domain": domain.name if domain else None,
        "unicode_name": domain.unicode_name if domain else None, "roles": roles,
        "role": roles[0] if roles else None, "order_id": order_id,
        "registrant_contact_id": domain.registrant_id if domain else None,
        "registrant": person(registrant), "contact": person(contact),
        "previous_email": (previous or {}).get("email"),
        "previous_language": (previous or {}).get("language"),
        "changed_at": clock.now().isoformat(),
    })


def delete_contact(*, reseller_id: int, contact_id: int) -> None:
    contact = get_contact(reseller_id=reseller_id, contact_id=contact_id)
    referenced = db.session.scalar(sa.select(sa.func.count()).select_from(Domain).where(
        sa.or_(Domain.registrant_id == contact.id, Domain.admin_id == contact.id,
               Domain.tech_id == contact.id)))
    if referenced or _open_orders_using(contact):
        raise ContactInUse(_l("Contact %(id)s is used by a domain or an open order.",
                              id=contact_id))
    db.session.delete(contact)
    db.session.flush()


def _domains_using(contact: Contact) -> list[Domain]:
    return list(db.session.scalars(sa.select(Domain).where(
        Domain.reseller_id == contact.reseller_id, Domain.status.in_(LIVE_STATUSES),
        sa.or_(Domain.registrant_id == contact.id, Domain.admin_id == contact.id,
               Domain.tech_id == contact.id)).order_by(Domain.id)))


def _open_orders_using(contact: Contact) -> bool:
    orders = db.session.scalars(sa.select(Order).where(
        Order.reseller_id == contact.reseller_id, Order.state.in_(("pending", "held"))))
    return any(contact.id in (order.params.get("contacts") or {}).values()
               or order.params.get("registrant") == contact.id for order in orders)
