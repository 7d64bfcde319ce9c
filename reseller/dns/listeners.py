"""Domains meet DNS hosting: a domain registered or transferred in with the reseller's
Tunnus nameservers gets its zone hosted (default template), so it never resolves lame."""

from __future__ import annotations

from reseller.core.events import Event, on_event
from reseller.dns import services
from reseller.dns.settings import dns_settings


def default_nameservers(reseller_id: int) -> list[str]:
    """The nameservers a new domain of this reseller gets when none are given."""
    return services.nameservers_for(reseller_id, dns_settings())


@on_event("domain.registered", deferred=True)
@on_event("domain.transferred_in", deferred=True)
def host_zone_for_new_domain(event: Event) -> None:
    """Deferred: the zone is made in the dispatch job right after the order commits, not
    in the order's own transaction (it was a quarter of a registration's worker time).
    The event row is the outbox, so it is never skipped; a zone the reseller made first
    is left alone."""
    from reseller.domains.records import find_live_domain

    domain = find_live_domain(str(event.data.get("domain") or ""))
    if domain is None or not domain.nameservers or services.find_zone(domain.name):
        return
    settings = dns_settings()
    ours = {ns.lower() for ns in (*services.nameservers_for(domain.reseller_id, settings),
                                  *settings.nameservers)}
    if {ns.lower().rstrip(".") for ns in domain.nameservers} <= ours:
        services.create_zone(reseller_id=domain.reseller_id, name=domain.name,
                             settings=settings)
