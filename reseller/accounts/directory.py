"""The accounts feature's answer to the kernel's reseller directory
(``reseller.core.directory``): profiles and names read from ``Reseller`` and its users."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from reseller.accounts.models import Reseller, User
from reseller.core.directory import Contact, Directory, ResellerProfile
from reseller.core.extensions import db
from reseller.core.identity import vat_status


def profile(reseller_id: int) -> ResellerProfile | None:
    reseller = db.session.get(Reseller, reseller_id)
    if reseller is None:
        return None
    users = db.session.scalars(sa.select(User).where(
        User.reseller_id == reseller_id, User.active.is_(True)).order_by(User.id))
    return ResellerProfile(
        id=reseller.id, company_name=reseller.company_name, country=reseller.country,
        business_id=reseller.business_id, vat_id=reseller.vat_id,
        vat_status=vat_status(reseller.country, reseller.vat_id), street=reseller.street,
        postal_code=reseller.postal_code, city=reseller.city,
        contact_email=reseller.contact_email, billing_email=reseller.billing_email,
        einvoice_address=reseller.einvoice_address, language=reseller.language,
        tier=reseller.tier,
        contacts=tuple(Contact(name=u.name, email=u.email, role=u.role) for u in users))


def names(ids: Iterable[int] | None) -> dict[int, str]:
    query = sa.select(Reseller.id, Reseller.company_name)
    if ids is not None:
        query = query.where(Reseller.id.in_(list(ids)))
    return dict(db.session.execute(query).all())


DIRECTORY = Directory(profile=profile, names=names)
