"""Zones that need the reseller: waiting for proof of control, taken off the server, or
served by us while the domain is delegated to other nameservers (then nothing published
here is seen by the world). One statement reads the zones with their domains' delegation,
however many zones the account has."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import lazyload

from reseller.core.extensions import db
from reseller.dns import services
from reseller.dns.models import Zone
from reseller.dns.settings import dns_settings
from reseller.domains.models import Domain


def zones_attention(reseller_id: int) -> dict[str, Any] | None:
    settings = dns_settings()
    rows = []
    for zone, domain in db.session.execute(
            sa.select(Zone, Domain)
            .outerjoin(Domain, sa.and_(Domain.live_name == Zone.name,
                                       Domain.reseller_id == Zone.reseller_id))
            .where(Zone.reseller_id == reseller_id)
            .options(lazyload(Zone.records))  # the panel names zones, not their records
            .order_by(Zone.name)):
        if not zone.active:
            rows.append({"zone": zone, "problem": "unverified"})
        elif zone.unpublished_reason:
            rows.append({"zone": zone, "problem": "unpublished"})
        elif (found := services.delegation_warning(zone, settings, domain=domain)) is not None:
            rows.append({"zone": zone, "problem": "not_delegated", **found})
    return {"zones": rows} if rows else None
