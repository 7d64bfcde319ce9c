"""Zones that need the reseller: waiting for proof of control, taken off the server, or
served by us while the domain is delegated to other nameservers (then nothing published
here is seen by the world)."""

from __future__ import annotations

from typing import Any

from reseller.dns import services
from reseller.dns.settings import dns_settings


def zones_attention(reseller_id: int) -> dict[str, Any] | None:
    settings = dns_settings()
    rows = []
    for zone in services.list_zones(reseller_id=reseller_id):
        if not zone.active:
            rows.append({"zone": zone, "problem": "unverified"})
        elif zone.unpublished_reason:
            rows.append({"zone": zone, "problem": "unpublished"})
        elif (found := services.delegation_warning(zone, settings)) is not None:
            rows.append({"zone": zone, "problem": "not_delegated", **found})
    return {"zones": rows} if rows else None
