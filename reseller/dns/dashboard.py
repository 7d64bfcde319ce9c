"""Zones that need the reseller: waiting for proof of control, taken off the server, or
served by us while the domain is delegated to other nameservers (then nothing published
here is seen by the world). One statement reads the zones with their domains' delegation,
however many zones the account has."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import lazyload, load_only

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
            # the panel names zones, not their records: what the checks read, no more
            .options(lazyload(Zone.records),
                     load_only(Zone.reseller_id, Zone.name, Zone.status, Zone.proof,
                               Zone.last_check, Zone.unpublished_reason),
                     load_only(Domain.name, Domain.nameservers))
            .order_by(Zone.name)):
        if not zone.active:
            rows.append({"zone": zone, "problem": "unverified"})
        elif zone.unpublished_reason:
            rows.append({"zone": zone, "problem": "unpublished"})
        elif (found := services.delegation_warning(zone, settings, domain=domain)) is not None:
            rows.append({"zone": zone, "problem": "not_delegated", **found})
    return {"zones": rows} if rows else None
