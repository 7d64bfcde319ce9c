"""Zones that need the reseller: waiting for proof of control, taken off the server, or
served by us while the domain is delegated to other nameservers (then nothing published
here is seen by the world)."""

from __future__ import annotations

from typing import Any

from reseller.dns import services
from reseller.dns.models import Zone
from reseller.dns.settings import DnsSettings, dns_settings
from reseller.domains import services as domains


def _host(name: str) -> str:
    return name.strip().rstrip(".").lower()


def delegation_problem(zone: Zone, settings: DnsSettings) -> dict[str, list[str]] | None:
    """When the zone's domain is in this account and its nameservers are not the ones that
    serve the zone: ``{"delegated": [...], "serving": [...]}``; else None."""
    domain = domains.find_live_domain(zone.name)
    if domain is None or domain.reseller_id != zone.reseller_id:
        return None
    serving = sorted(_host(h) for h in services.nameservers_for(zone.reseller_id, settings))
    delegated = sorted(_host(h) for h in domain.nameservers or [])
    if set(serving) <= set(delegated):
        return None
    return {"delegated": delegated, "serving": serving}


def zones_attention(reseller_id: int) -> dict[str, Any] | None:
    settings = dns_settings()
    rows = []
    for zone in services.list_zones(reseller_id=reseller_id):
        if not zone.active:
            rows.append({"zone": zone, "problem": "unverified"})
        elif zone.unpublished_reason:
            rows.append({"zone": zone, "problem": "unpublished"})
        elif (found := delegation_problem(zone, settings)) is not None:
            rows.append({"zone": zone, "problem": "not_delegated", **found})
    return {"zones": rows} if rows else None
