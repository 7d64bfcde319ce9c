"""Vanity nameservers: a reseller's own NS names (``ns1.yourcompany.fi``), the glue it
must create, verification by resolving them, and switching its zones over once verified."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dns.exception
import dns.resolver
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reseller.core.clock import clock
from reseller.core.extensions import db
from reseller.core.jobs import enqueue
from reseller.dns import services
from reseller.dns.errors import VanityNameserversRefused, VanityNotVerified
from reseller.dns.models import VanityNameservers
from reseller.dns.records import is_ip_address, normalize_zone_name
from reseller.dns.settings import DnsSettings
from reseller.dns.verification import make_resolver

Resolve = Callable[[str, str], list[str]]


def get_vanity(reseller_id: int) -> VanityNameservers | None:
    return db.session.scalar(
        sa.select(VanityNameservers).where(VanityNameservers.reseller_id == reseller_id))


def _check_hostname(raw: Any, settings: DnsSettings) -> str:
    try:
        host = normalize_zone_name(str(raw))
    except ValueError as error:
        raise VanityNameserversRefused(_l("%(host)s is not a host name.", host=raw)) from error
    if host.count(".") < 2:
        raise VanityNameserversRefused(_l("Use a name under your own domain, such as "
                                          "ns1.yourcompany.fi."))
    # The operator's brand never reaches a reseller's customers, and the neutral shared
    # names are not the reseller's to claim.
    shared = {settings.operator_domain, *(ns.split(".", 1)[1] for ns in settings.nameservers)}
    if any(host == domain or host.endswith("." + domain) for domain in shared) or (
            settings.operator_brand and settings.operator_brand in host.replace("-", "")):
        raise VanityNameserversRefused(_l("%(host)s is not under your own domain.", host=host))
    return host


def set_vanity(*, reseller_id: int, hostnames: list[str],
               settings: DnsSettings) -> VanityNameservers:
    """Declare the names; they are used only after ``verify_vanity`` succeeds."""
    hosts = [_check_hostname(raw, settings) for raw in hostnames]
    if len(set(hosts)) != len(hosts) or not 2 <= len(hosts) <= 4:
        raise VanityNameserversRefused(_l("Give two to four different names."))
    vanity = get_vanity(reseller_id)
    before = services.nameservers_for(reseller_id, settings)
    if vanity is None:
        vanity = VanityNameservers(reseller_id=reseller_id, hostnames=hosts)
        db.session.add(vanity)
    elif vanity.hostnames != hosts:
        vanity.hostnames, vanity.verified_at, vanity.last_check = hosts, None, {}
    db.session.flush()
    _switch_zones(reseller_id, before, settings)
    return vanity


def clear_vanity(*, reseller_id: int, settings: DnsSettings) -> None:
    vanity = get_vanity(reseller_id)
    if vanity is None:
        return
    before = services.nameservers_for(reseller_id, settings)
    db.session.delete(vanity)
    db.session.flush()
    _switch_zones(reseller_id, before, settings)


def glue(hostnames: list[str], settings: DnsSettings) -> list[dict[str, str]]:
    """The address records the reseller creates at its own DNS for each name."""
    return [{"hostname": host, "type": "AAAA" if ":" in address else "A", "value": address}
            for host in hostnames for address in settings.nameserver_addresses]


def resolver_for(settings: DnsSettings) -> Resolve:
    resolver = make_resolver(settings)

    def resolve(name: str, rtype: str) -> list[str]:
        try:
            return [r.to_text() for r in resolver.resolve(name, rtype, search=False)]
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers):
            return []
        except dns.exception.Timeout:
            return []

    return resolve


def look_up_names(hostnames: list[str], resolve: Resolve) -> Resolve:
    """Resolve the names' A and AAAA records now (no database work: do it with no
    transaction open) and answer ``verify_vanity`` from what was found."""
    found = {(host, rtype): resolve(host, rtype) for host in hostnames for rtype in ("A", "AAAA")}
    return lambda host, rtype: found.get((host, rtype), [])


def declared_names(reseller_id: int) -> list[str]:
    vanity = get_vanity(reseller_id)
    return list(vanity.hostnames) if vanity is not None else []


def verify_vanity(*, reseller_id: int, settings: DnsSettings,
                  resolve: Resolve | None = None) -> VanityNameservers:
    """Resolve each name; all must point only at the Tunnus DNS addresses."""
    vanity = get_vanity(reseller_id)
    if vanity is None:
        raise VanityNotVerified(_l("Declare your nameserver names first."))
    resolve = resolve or resolver_for(settings)
    expected = {a for a in settings.nameserver_addresses if is_ip_address(a)}
    problems: dict[str, str] = {}
    for host in vanity.hostnames:
        found = set(resolve(host, "A")) | set(resolve(host, "AAAA"))
        if not found:
            problems[host] = str(_l("%(host)s has no A or AAAA record yet.", host=host))
        elif not found <= expected:
            problems[host] = str(_l("%(host)s points at %(found)s; expected %(expected)s.",
                                    host=host, found=", ".join(sorted(found)),
                                    expected=", ".join(sorted(expected))))
    vanity.last_check = {"at": clock.now().isoformat(), "problems": problems}
    if problems:
        db.session.flush()
        return vanity
    before = services.nameservers_for(reseller_id, settings)
    vanity.verified_at = vanity.verified_at or clock.now()
    db.session.flush()
    _switch_zones(reseller_id, before, settings)
    return vanity


def _switch_zones(reseller_id: int, before: list[str], settings: DnsSettings) -> None:
    """The zones move to the names now serving the reseller in a job, a chunk of zones per
    unit of work (``dns.tasks.switch_nameservers``), queued with this change."""
    if services.nameservers_for(reseller_id, settings) == before:
        return
    enqueue("reseller.dns.tasks.switch_nameservers", reseller_id, before, 0)


def vanity_view(reseller_id: int, settings: DnsSettings) -> dict[str, Any]:
    vanity = get_vanity(reseller_id)
    hostnames = list(vanity.hostnames) if vanity else []
    return {
        "hostnames": hostnames,
        "verified": bool(vanity and vanity.verified_at),
        "verified_at": vanity.verified_at if vanity else None,
        "glue": glue(hostnames, settings),
        "problems": sorted((vanity.last_check or {}).get("problems", {}).values())
        if vanity else [],
        "in_use": services.nameservers_for(reseller_id, settings),
    }
