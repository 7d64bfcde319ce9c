"""Zones that need the reseller: waiting for proof of control, taken off the server, or
served by us while the domain is delegated to other nameservers (then nothing published
here is seen by the world). One statement reads the candidates, however many zones the
account has; a zone whose domain is delegated to exactly the nameservers serving it (the
common case) is left out in SQL, so the rows read do not grow with a healthy portfolio."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import lazyload, load_only

from reseller.core.extensions import db
from reseller.dns import services
from reseller.dns.models import Zone
from reseller.dns.settings import dns_settings
from reseller.domains.models import Domain

SHOWN = 10  # zones the panel names; the rest are on the zones page
CANDIDATES = 5 * SHOWN  # read to find them (a candidate may turn out fine in Python)


def zones_attention(reseller_id: int) -> dict[str, Any] | None:
    """Up to ``SHOWN`` zones that need the reseller, first by name, and whether there may
    be more: the candidates are read ``CANDIDATES`` at most, so the panel costs the same
    with ten zones or a hundred thousand that all need attention."""
    settings = dns_settings()
    rows, read = [], 0
    for zone, domain in db.session.execute(
            sa.select(Zone, Domain)
            .outerjoin(Domain, sa.and_(Domain.live_name == Zone.name,
                                       Domain.reseller_id == Zone.reseller_id))
            .where(Zone.reseller_id == reseller_id, _may_need_attention(reseller_id, settings))
            # the panel names zones, not their records: what the checks read, no more
            .options(lazyload(Zone.records),
                     load_only(Zone.reseller_id, Zone.name, Zone.status, Zone.proof,
                               Zone.last_check, Zone.unpublished_reason),
                     load_only(Domain.name, Domain.nameservers))
            .order_by(Zone.name).limit(CANDIDATES)):
        read += 1
        if len(rows) == SHOWN:
            break
        if not zone.active:
            rows.append({"zone": zone, "problem": "unverified"})
        elif zone.unpublished_reason:
            rows.append({"zone": zone, "problem": "unpublished"})
        elif (found := services.delegation_warning(zone, settings, domain=domain)) is not None:
            rows.append({"zone": zone, "problem": "not_delegated", **found})
    return {"zones": rows, "more": read == CANDIDATES or len(rows) == SHOWN} if rows else None


def _may_need_attention(reseller_id: int, settings: Any) -> sa.ColumnElement[bool]:
    """Every zone the checks could flag. Left out: an active, published zone of a domain
    whose nameservers are stored exactly as one of the lists serving it (the defaults, the
    vanity names), and an external zone proven by its delegation. Anything else — another
    spelling or order of the same names included — is read and checked in Python."""
    serving = [json.dumps(list(settings.nameservers)),
               json.dumps(services.nameservers_for(reseller_id, settings))]
    return sa.or_(Zone.status != "active", Zone.unpublished_reason.is_not(None),
                  sa.and_(Domain.id.is_(None), sa.func.coalesce(Zone.proof, "") != "delegation"),
                  sa.cast(Domain.nameservers, sa.Text).not_in(serving))
