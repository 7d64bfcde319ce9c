"""Contacts (registrant, admin, tech): validated, never deleted while a domain or an open
order uses them. A contact reaches a registry when an order first needs it there (any
registry, any profile: ``push_contacts``), so creating one never waits on a registry; an
edit of a contact in use goes to the registry at once (503 when it is down, nothing
changed). Identity numbers (``domains.identity``) are encrypted, masked in the API, sent
only to registries."""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from reseller.core.clock import clock
from reseller.core.db import contains, end_transaction, unit_of_work
from reseller.core.errors import Conflict, NotFound, ValidationFailed
from reseller.core.events import record_event
from reseller.core.extensions import db
from reseller.core.jobs import enqueue
from reseller.domains import identity
from reseller.domains.errors import RegistryDown, RegistryRefused, registry_errors
from reseller.domains.models import LIVE_STATUSES, Contact, Domain, Order
from reseller.domains.records import hold_contact
from reseller.registry.errors import RegistryTimeout
from reseller.registry.models import Registry
from reseller.registry.services import get_registry

FIELDS = ("name", "organization", "email", "phone", "street", "city", "postal_code",
          "country", "language", "citizenship")
IDENTITY_FIELDS = ("entity_type", "registration_number", "personal_id")
PUSH_RETRY_AFTER = 10  # seconds before sending a contact whose answer was lost again


class ContactNotFound(NotFound):
    code = "contact_not_found"
    title = _l("No such contact")


class ContactInUse(Conflict):
    code = "contact_in_use"
    title = _l("The contact is in use and cannot be deleted")


class IdentityRequired(ValidationFailed):
    code = "identity_required"
    title = _l("The registrant's identity is required for this TLD")


class RegistrantNotEligible(ValidationFailed):
    code = "registrant_not_eligible"
    title = _l("The registrant cannot hold a domain under this TLD")


class IdentityLocked(Conflict):
    code = "identity_locked"
    title = _l("The identity of a contact in use cannot change")


def registry_data(contact: Contact) -> dict[str, Any]:
    """What a registry is sent about ``contact``: the address, and the holder type and
    identity numbers that .fi/.se/.nu profiles put in their frames."""
    data = {field: getattr(contact, field) for field in FIELDS}
    data["entity_type"] = identity.entity_type_of(entity_type=contact.entity_type,
                                                  organization=contact.organization)
    for field in ("registration_number", "personal_id"):
        if getattr(contact, field):
            data[field] = getattr(contact, field)
    return data


def require_identity(*, reseller_id: int, tld: str, contact_id: int | None) -> None:
    """A .fi/.se/.nu registrant needs its identity number on file (422 otherwise), checked
    before anything is priced or held."""
    if contact_id is None or tld not in current_app.config.get(
            "REGISTRANT_IDENTITY_TLDS", identity.IDENTITY_TLDS):
        return
    contact = get_contact(reseller_id=reseller_id, contact_id=contact_id)
    kind = identity.entity_type_of(entity_type=contact.entity_type,
                                   organization=contact.organization)
    missing = identity.missing_for(entity_type=kind,
                                   registration_number=contact.registration_number,
                                   personal_id=contact.personal_id)
    if missing:
        raise IdentityRequired({"contacts.registrant": [_l(
            "The .%(tld)s registry needs the registrant's %(field)s: add it to contact "
            "%(id)s.", tld=tld, field=missing, id=contact.id)]})


def check_eligibility(tld: str, data: dict[str, Any] | Contact,
                      field: str = "contacts.registrant") -> None:
    """A holder the TLD's registry would refuse (.eu: EURid's eligibility) is a 422 before
    anything is priced or held."""
    if tld != "eu":
        return
    get = data.get if isinstance(data, dict) else lambda key: getattr(data, key, None)
    if not identity.eu_eligible(entity_type=get("entity_type"), organization=get("organization"),
                                country=get("country"), citizenship=get("citizenship")):
        raise RegistrantNotEligible({field: [_l(
            "A .eu registrant must be established or resident in the EU, Iceland, "
            "Liechtenstein or Norway, or be a person with the citizenship of an EU member "
            "state (give its country of citizenship).")]})


def require_eligible(*, reseller_id: int, tld: str, contact_id: int | None) -> None:
    if contact_id is not None and tld == "eu":
        check_eligibility(tld, get_contact(reseller_id=reseller_id, contact_id=contact_id))


def push_contacts(registry: Registry, contacts: list[tuple[str, dict[str, Any]]], *,
                  name: str) -> None:
    """Create (or bring up to date) each contact at the registry of ``name`` before a
    command names it: contacts reach a registry on first use by an order."""
    for handle, data in contacts:
        registry.contact_set(handle=handle, data=data, name=name)


def get_contact(*, reseller_id: int, contact_id: int, hold: bool = False) -> Contact:
    """The reseller's contact, else 404; ``hold``: read fresh once this transaction holds
    the contact's command lock (``records.hold_contact``), for an update."""
    contact = hold_contact(contact_id) if hold else db.session.get(Contact, contact_id)
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
    """A new contact; the registry gets it when an order first uses it."""
    contact = Contact(reseller_id=reseller_id, handle="TN" + secrets.token_hex(6).upper(),
                      **{field: data.get(field) for field in FIELDS + IDENTITY_FIELDS})
    contact.entity_type = identity.entity_type_of(entity_type=contact.entity_type,
                                                  organization=contact.organization)
    db.session.add(contact)
    db.session.flush()
    return contact


def update_contact(*, reseller_id: int, contact_id: int, **data: Any) -> Contact:
    """New details; a contact a live domain uses is updated at its registries at once
    (refused or registry down: 409/503 and nothing changes; answer lost: kept, and sent
    again by a job until the registry answers, so the registry converges to what we
    hold). Identity fields left out, or sent back masked as the API shows them, stay as
    they are.

    A contact in use is checked under its command lock (``records.hold_contact``) and its
    version (``updated_at``) moved on and committed, so a concurrent ``If-Match`` on the
    old version fails (412); the registry is asked with no transaction open (no lock, no
    snapshot, no transaction id: no reseller's event feed waits on it); the new details
    are recorded under the lock after it answered (``_record_sent``)."""
    contact = get_contact(reseller_id=reseller_id, contact_id=contact_id, hold=True)
    previous = person(contact)
    domains = _domains_using(contact)
    with db.session.no_autoflush:
        for field in FIELDS:
            if field in data:
                setattr(contact, field, data[field])
        _change_identity(contact, data, in_use=bool(domains))
        for tld in {d.tld for d in domains if d.registrant_id == contact.id}:
            check_eligibility(tld, contact, field="country")  # a holder the registry takes
        if domains:
            return _send_then_record(contact, sorted({d.name for d in domains}), previous)
    db.session.flush()
    record_contact_changed(contact=contact, domain=None, previous=previous)
    return contact


def _send_then_record(contact: Contact, names: list[str], previous: dict | None) -> Contact:
    """Send ``contact``'s unsaved new details to the registries of ``names`` with no
    transaction open, then record them (``update_contact``)."""
    contact_id, handle, sent = contact.id, contact.handle, registry_data(contact)
    values = {field: getattr(contact, field) for field in (*FIELDS, *IDENTITY_FIELDS)}
    before = contact.updated_at
    db.session.expire(contact)  # the new details are not saved before the registry has them
    contact.updated_at = version = clock.now()
    db.session.flush()
    end_transaction()
    registry, lost = get_registry(), False
    try:
        with registry_errors():
            try:
                for name in names:
                    registry.contact_set(handle=handle, data=sent, name=name)
            except RegistryTimeout:  # the registry may have it: send it until it says
                lost = True
    except (RegistryRefused, RegistryDown):
        _unversion(contact_id, version, before)
        raise
    with unit_of_work():
        return _record_sent(contact_id, values, version, previous, lost=lost)


def _record_sent(contact_id: int, values: dict[str, Any], version: Any,
                 previous: dict | None, *, lost: bool) -> Contact:
    """Record details the registry was sent (``lost``: its answer was lost; they are sent
    again by a job until it answers). Another update sent meanwhile (the version moved
    on) may have reached the registry after these: the contact is sent again too
    (``resend_contact``), so the registry ends with what we hold."""
    contact = hold_contact(contact_id)
    if lost or contact.updated_at != version:
        enqueue("reseller.domains.tasks.push_contact", contact_id,
                delay=PUSH_RETRY_AFTER if lost else 0)
    for field, value in values.items():
        setattr(contact, field, value)
    db.session.flush()
    for domain in _domains_using(contact) or [None]:
        record_contact_changed(contact=contact, domain=domain, previous=previous)
    return contact


def _unversion(contact_id: int, version: Any, before: Any) -> None:
    """A refused update changed nothing: its version goes back, unless another moved on."""
    with unit_of_work():
        contact = hold_contact(contact_id)
        if contact is not None and contact.updated_at == version:
            contact.updated_at = before
            db.session.flush()


def push_contact(contact: Contact, *, names: list[str] | None = None) -> None:
    """Send the contact's details to the registry of each name (default: its live domains).
    ``contact_set`` sets a state, so sending it again after a lost answer is safe."""
    if names is None:
        names = sorted({d.name for d in _domains_using(contact)})
    for name in names:
        get_registry().contact_set(handle=contact.handle, data=registry_data(contact),
                                   name=name)


def resend_contact(contact_id: int) -> None:
    """Send a contact whose update's answer was lost to the registries of its live domains
    again. What to send is read in a unit of work of its own and the registry called with
    none open: the job holds no row (or the event feed) while it waits."""
    with unit_of_work():
        contact = db.session.get(Contact, contact_id)
        if contact is None:
            return
        handle, data = contact.handle, registry_data(contact)
        names = sorted({d.name for d in _domains_using(contact)})
    registry = get_registry()
    for name in names:
        registry.contact_set(handle=handle, data=data, name=name)
    # An edit may have been sent and recorded while this job was sending what it read
    # before (edits take turns on the contact's lock; this job does not wait on it): then
    # the registry may now hold the older data, so the current data goes out again.
    with unit_of_work():
        contact = hold_contact(contact_id)
        if contact is not None and registry_data(contact) != data:
            enqueue("reseller.domains.tasks.push_contact", contact_id)


def _change_identity(contact: Contact, data: dict[str, Any], *, in_use: bool) -> None:
    """Registries tie a holder to its identity (IIS refuses to change an ``orgno``): a
    contact whose domains are live keeps it; a new holder is an owner change."""
    wanted = {}
    for field in IDENTITY_FIELDS:
        if field not in data:
            continue
        if field != "entity_type" and identity.is_masked(data[field]):
            if data[field] != identity.mask(getattr(contact, field)):
                raise ValidationFailed({field: [_l("Send the number in full, or leave it "
                                                   "out to keep the one on file.")]})
            continue
        wanted[field] = data[field]
    if "entity_type" in wanted and wanted["entity_type"] is None:
        wanted["entity_type"] = identity.entity_type_of(entity_type=None,
                                                        organization=contact.organization)
    changed = {k: v for k, v in wanted.items() if v != getattr(contact, k)}
    if changed and in_use:
        raise IdentityLocked(_l("Contact %(id)s holds live domains: its identity cannot "
                                "change. Create a new contact and change the owner.",
                                id=contact.id))
    for field, value in changed.items():
        setattr(contact, field, value)


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
