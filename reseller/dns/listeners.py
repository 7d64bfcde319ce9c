"""Domains meet DNS hosting, through the domains' events (domains know nothing of DNS): a
domain registered or transferred in with the reseller's Tunnus nameservers gets its zone
hosted (default template), so it never resolves lame; the holder's zone wins over anyone
else's; and a domain that leaves the reseller takes the reseller's zones of it off the
server, ACME keys included. New domains' default nameservers are DNS's too
(``default_nameservers``, plugged into the domains by ``reseller.dns.init_app``)."""

from __future__ import annotations

from reseller.core.events import Event, on_event, on_events
from reseller.dns import ownership, services
from reseller.dns.records import normalize_zone_name
from reseller.dns.settings import dns_settings
from reseller.domains import services as domains


def default_nameservers(reseller_id: int) -> list[str]:
    """The nameservers a new domain of this reseller gets when none are given."""
    return services.nameservers_for(reseller_id, dns_settings())


def _name(event: Event) -> str | None:
    try:
        return normalize_zone_name(str(event.data.get("domain") or ""))
    except ValueError:
        return None


@on_event("domain.registered")
@on_event("domain.transferred_in")
def claim_zones_for_holder(event: Event) -> None:
    """In the order's transaction: another account's zones of the name (or inside it)
    stop serving, and the holder's own pending zones of it go live."""
    if name := _name(event):
        ownership.domain_arrived(reseller_id=event.reseller_id, name=name)


@on_event("domain.transferred_out")
@on_event("domain.deleted")
def unpublish_zones_of_leaving_domain(event: Event) -> None:
    """In the same transaction as the domain leaving: nothing of the old holder keeps
    serving or signing for it. (A transfer merely requested is ``status: pending``.)"""
    if event.data.get("status") != "pending" and (name := _name(event)):
        ownership.domain_left(reseller_id=event.reseller_id, name=name)


@on_events("domain.registered", "domain.transferred_in")
def host_zones_for_new_domains(events: list[Event]) -> None:
    """Deferred: a new domain's zone is made in the dispatch job right after the order
    commits, not in the order's own transaction (it was a quarter of a registration's
    worker time), and the zones of a batch of new domains together, in a few statements
    for them all (``on_events``). The event row is the outbox, so none is skipped; a zone
    the reseller made first is left alone. Only a domain delegated to Tunnus's nameservers
    (the reseller's vanity ones or the defaults) gets one."""
    names = [str(event.data.get("domain") or "") for event in events]
    found = domains.find_live_domains(names)
    settings = dns_settings()
    wanted = []
    for domain in dict.fromkeys(found[name] for name in names if name in found):
        if not domain.nameservers:
            continue
        ours = {ns.lower() for ns in (*services.nameservers_for(domain.reseller_id, settings),
                                      *settings.nameservers)}
        if {ns.lower().rstrip(".") for ns in domain.nameservers} <= ours:
            wanted.append((domain.reseller_id, domain.name))
    if wanted:
        # create_zones leaves a zone the reseller already has as it is
        services.create_zones(wanted, settings=settings)
