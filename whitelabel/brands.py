"""Brands: the name, logo, colours and support contacts a reseller's customers see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from reseller.core.db import memo
from reseller.core.errors import NotFound
from reseller.core.extensions import db
from whitelabel.models import Brand

BRAND_FIELDS = ("name", "logo_url", "primary_color", "accent_color", "support_email",
                "support_phone", "support_url", "default_language")


@dataclass(frozen=True)
class ResellerFacts:
    """What white label needs to know about a reseller, read without importing accounts."""

    id: int
    company_name: str
    contact_email: str
    language: str


def reseller_facts(reseller_id: int) -> ResellerFacts:
    table = db.metadata.tables["resellers"]
    row = memo(("reseller_facts", reseller_id), lambda: db.session.execute(
        sa.select(table.c.id, table.c.company_name, table.c.contact_email, table.c.language)
        .where(table.c.id == reseller_id)
    ).one_or_none())
    if row is None:
        raise NotFound()
    return ResellerFacts(row.id, row.company_name, row.contact_email, row.language or "en")


def find_brand(reseller_id: int) -> Brand | None:
    return memo(("brand", reseller_id), lambda: db.session.scalar(
        sa.select(Brand).where(Brand.reseller_id == reseller_id)))


def get_brand(*, reseller_id: int) -> Brand:
    """The reseller's brand; before it saves one, a default from its company details
    (not stored, so the first save decides)."""
    brand = find_brand(reseller_id)
    if brand is not None:
        return brand
    facts = reseller_facts(reseller_id)
    return Brand(reseller_id=reseller_id, name=facts.company_name, primary_color="#1f5f8b",
                 accent_color="#f2f5f8", default_language=facts.language,
                 support_email=facts.contact_email)


def update_brand(*, reseller_id: int, **fields: Any) -> Brand:
    """Change the given brand fields (others keep their value)."""
    unknown = set(fields) - set(BRAND_FIELDS)
    if unknown:
        raise TypeError(f"unknown brand fields: {sorted(unknown)}")
    brand = get_brand(reseller_id=reseller_id)
    for name, value in fields.items():
        setattr(brand, name, value)
    if brand.id is None:
        db.session.add(brand)
    db.session.flush()
    return brand


def preview_brand(*, reseller_id: int, **fields: Any) -> Brand:
    """An unsaved copy of the brand with ``fields`` applied (for the live preview)."""
    current = get_brand(reseller_id=reseller_id)
    values = {name: getattr(current, name) for name in BRAND_FIELDS}
    values.update({k: v for k, v in fields.items() if k in BRAND_FIELDS})
    return Brand(reseller_id=reseller_id, **values)
