"""Demo data for domains: the catalogue and price lists, and a few registered names for
Demo Agency Oy (held for us by the sandbox registry too). Idempotent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from reseller.catalog import services as catalog
from reseller.core.clock import clock
from reseller.core.extensions import db
from reseller.domains import names
from reseller.domains.models import Contact, Domain
from reseller.registry import services as registry

DEMO_DOMAINS = {
    "Demo Agency Oy": [("demoagency.fi", 200), ("esimerkkikauppa.fi", 20),
                       ("pääkonttori.fi", 340), ("demoagency.com", 95)],
}


def seed_catalogue(_reseller: Any, _spec: dict, _config: Any) -> None:
    catalog.install_defaults()


def seed_domains(reseller: Any, spec: dict, config: Any) -> None:
    wanted = DEMO_DOMAINS.get(reseller.company_name)
    if not wanted:
        return
    contact = _contact(reseller, spec, config)
    for text, days_left in wanted:
        name = names.parse(text)
        if db.session.scalar(sa.select(Domain).where(Domain.name == name.ascii)) is not None:
            continue
        now = clock.now()
        created = now - timedelta(days=365 - days_left)
        expires = now + timedelta(days=days_left)
        nameservers = ["ns1.demoagency.example", "ns2.demoagency.example"]
        registry.add_sandbox_domain(
            name=name.ascii, sponsor=config.get("REGISTRY_CLIENT_ID", "tunnus"),
            auth_code="demo-" + name.label[:20], created_at=created, expires_at=expires,
            registrant=contact.handle, nameservers=nameservers)
        db.session.add(Domain(
            reseller_id=reseller.id, name=name.ascii, live_name=name.ascii,
            unicode_name=name.unicode, tld=name.tld, status="active", created_at=created,
            expires_at=expires, auto_renew=True, nameservers=nameservers, ds=[],
            registrant_id=contact.id))
    db.session.flush()


def _contact(reseller: Any, spec: dict, config: Any) -> Contact:
    handle = f"TNDEMO{reseller.id}"
    contact = db.session.scalar(sa.select(Contact).where(Contact.handle == handle))
    if contact is None:
        contact = Contact(reseller_id=reseller.id, handle=handle, name=spec["owner"][0],
                          organization=reseller.company_name, email=spec["contact_email"],
                          phone="+358.401234567", street=reseller.street or "Esimerkkikatu 1",
                          city=reseller.city or "Helsinki",
                          postal_code=reseller.postal_code or "00100",
                          country=reseller.country, language=reseller.language,
                          entity_type="company", registration_number=reseller.business_id)
        db.session.add(contact)
        db.session.flush()
        registry.add_sandbox_contact(handle=handle,
                                     sponsor=config.get("REGISTRY_CLIENT_ID", "tunnus"),
                                     data={"name": contact.name, "email": contact.email})
    return contact


def info(_config: Any) -> dict[str, Any]:
    return {"demo_domains": {company: [names.parse(n).unicode for n, _ in items]
                             for company, items in DEMO_DOMAINS.items()}}
