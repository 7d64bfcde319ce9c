"""Looking up a reseller's domains (tenancy: another reseller's names are 404)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reseller.accounts.models import Reseller
from reseller.core.errors import DomainError
from reseller.core.extensions import db
from reseller.domains import names
from reseller.domains.errors import DomainNotFound
from reseller.domains.models import Contact, Domain

# Built once: an order asks it twice (see BUILT ONCE in reseller.core.db)
_LIVE = sa.select(Domain).where(Domain.live_name == sa.bindparam("name"))


def find_live_domain(ascii_name: str) -> Domain | None:
    return db.session.scalar(_LIVE, {"name": ascii_name})


_LIVE_MANY = sa.select(Domain).where(Domain.live_name.in_(sa.bindparam("names", expanding=True)))


def find_live_domains(ascii_names: list[str]) -> dict[str, Domain]:
    """``find_live_domain`` for several names in one read, by name (those found)."""
    if not ascii_names:
        return {}
    return {domain.live_name: domain
            for domain in db.session.scalars(_LIVE_MANY, {"names": sorted(set(ascii_names))})}


_COMMANDS = 0x1D4  # advisory-lock namespaces: one registry command at a time per domain,
_CONTACT_COMMANDS = 0x1D5  # and per contact


def _take_turn(namespace: int, key: int) -> None:
    """Wait for, then hold until this transaction ends, the advisory lock ``(namespace,
    key)`` (PostgreSQL ``pg_advisory_xact_lock``). Unlike a row lock (``FOR UPDATE``) it
    gives the transaction no id: an id held while the registry answers would hold back
    every reseller's event feed (it shows only what no running transaction precedes).
    SQLite serialises writers already (``BEGIN IMMEDIATE``)."""
    if db.engine.dialect.name != "sqlite":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(
            sa.literal(namespace), sa.literal(key & 0x7FFFFFFF))))


def hold_domain(domain_id: int) -> Domain | None:
    """The domain, read fresh once this transaction holds the domain's command lock
    (``_take_turn``): one writer of its pending change at a time. A command is journaled
    under it, leased and committed, and its answer recorded under it again; the registry
    is asked in between with no transaction (and no lock) open, the lease keeping other
    commands off the domain meanwhile (``reseller.domains.pending``)."""
    _take_turn(_COMMANDS, domain_id)
    return db.session.get(Domain, domain_id, populate_existing=True)


def hold_contact(contact_id: int) -> Contact | None:
    """The contact, read fresh once this transaction holds the contact's command lock: one
    update of a contact (its ``If-Match`` check, the registry's ``contact_set`` and our
    record of it) at a time, so the registry and our record end in the same order."""
    _take_turn(_CONTACT_COMMANDS, contact_id)
    return db.session.get(Contact, contact_id, populate_existing=True)


def get_domain(*, reseller_id: int, name: str, for_update: bool = False,
               load: tuple = ()) -> Domain:
    """The reseller's live domain called ``name`` (either form), else 404; ``load``:
    loader options for what the caller shows with it (its contacts, its hosts);
    ``for_update``: held for a registry command's journal (``hold_domain``)."""
    try:
        parsed = names.parse(name)
    except DomainError:  # an unparsable name cannot be one of ours
        raise DomainNotFound(_l("%(name)s is not in this account.", name=name)) from None
    stmt = sa.select(Domain).where(Domain.live_name == parsed.ascii,
                                   Domain.reseller_id == reseller_id).options(*load)
    domain = db.session.scalar(stmt)
    if domain is not None and for_update:
        domain = hold_domain(domain.id)
        if domain is None or domain.live_name != parsed.ascii \
                or domain.reseller_id != reseller_id:  # it ended while we waited
            domain = None
    if domain is None:
        raise DomainNotFound(_l("%(name)s is not in this account.", name=parsed.unicode))
    return domain


def reseller_contact(reseller_id: int) -> Contact:
    """The reseller itself as a contact: registrant of names transferred in without one."""
    handle = f"TNR{reseller_id}"
    contact = db.session.scalar(sa.select(Contact).where(Contact.handle == handle))
    if contact is None:
        reseller = db.session.get(Reseller, reseller_id)
        contact = Contact(
            reseller_id=reseller_id, handle=handle, name=reseller.company_name,
            organization=reseller.company_name, email=reseller.contact_email,
            phone=reseller.contact_phone or "+358.000000", street=reseller.street or "-",
            city=reseller.city or "-", postal_code=reseller.postal_code or "-",
            country=reseller.country, language=reseller.language, entity_type="company",
            registration_number=reseller.business_id)
        db.session.add(contact)
        db.session.flush()
    return contact
