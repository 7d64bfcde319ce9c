"""URL forwarding (free): create/remove forwards, keep the zone pointing the host at the
forwarding server, and work out where a request is redirected."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reseller.core.errors import ValidationFailed
from reseller.core.extensions import db
from reseller.dns import services as dns
from reseller.dns.errors import ForwardNotFound
from reseller.dns.models import Forward, Zone
from reseller.dns.records import RR, origin, owner_name
from reseller.dns.settings import DnsSettings


def _fqdn(host: str, zone: str) -> str:
    return zone if host == "@" else f"{host}.{zone}"


def _check_target(target: object, fqdn: str) -> str:
    if not isinstance(target, str):
        raise ValidationFailed({"target": [str(_l("Give the address to forward to."))]})
    parts = urlsplit(target.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or len(target) > 2000:
        raise ValidationFailed({"target": [str(_l("Use a full http:// or https:// address."))]})
    if parts.hostname.lower().rstrip(".") == fqdn:
        raise ValidationFailed({"target": [str(_l("A host cannot forward to itself."))]})
    return target.strip()


def forwards_query(*, reseller_id: int, zone_name: str) -> sa.Select:
    return _of(dns.get_zone(reseller_id=reseller_id, name=zone_name))


def _of(zone: Zone) -> sa.Select:
    return sa.select(Forward).where(Forward.zone_id == zone.id)


def list_forwards(*, reseller_id: int, zone_name: str) -> list[Forward]:
    return forwards_of(dns.get_zone(reseller_id=reseller_id, name=zone_name))


def forwards_of(zone: Zone) -> list[Forward]:
    """``list_forwards`` of a zone the caller has loaded already (its own, found by
    ``dns.get_zone``)."""
    return list(db.session.scalars(_of(zone).order_by(Forward.host)))


def set_forward(*, reseller_id: int, zone_name: str, host: str | None, target: object,
                status: int = 301, preserve_path: bool = True, preserve_query: bool = True,
                settings: DnsSettings) -> Forward:
    """Forward ``host`` (``@`` = the domain itself) and point its address records at us.
    Only in an active zone the reseller may still host."""
    zone = dns.get_zone(reseller_id=reseller_id, name=zone_name)
    dns.check_zone(zone, settings)
    try:
        relative = owner_name(host or "@", origin(zone.name))
    except ValueError as error:
        raise ValidationFailed({"host": [str(error)]}) from error
    if "*" in relative:
        raise ValidationFailed({"host": [str(_l("Wildcards cannot be forwarded."))]})
    if status not in (301, 302):
        raise ValidationFailed({"status": [str(_l("Use 301 (permanent) or 302 (temporary)."))]})
    fqdn = _fqdn(relative, zone.name)
    target = _check_target(target, fqdn)
    forward = db.session.scalar(sa.select(Forward).where(Forward.fqdn == fqdn))
    if forward is not None and forward.zone_id != zone.id:
        other = db.session.get(Zone, forward.zone_id)
        if other.active:  # the reseller's own zone around this one already forwards it
            raise ValidationFailed({"host": [str(_l("%(fqdn)s is forwarded in the zone "
                                                    "%(zone)s.", fqdn=fqdn, zone=other.name))]})
        # Left behind in a zone that was unpublished (only one zone of a name is active,
        # and none inside another account's): it no longer serves; this one replaces it.
        db.session.delete(forward)
        db.session.flush()
        forward = None
    if forward is None:
        forward = Forward(reseller_id=reseller_id, zone_id=zone.id, host=relative, fqdn=fqdn,
                          target=target)
        db.session.add(forward)
    forward.target, forward.status = target, status
    forward.preserve_path, forward.preserve_query = bool(preserve_path), bool(preserve_query)
    db.session.flush()
    _point_at_forwarder(zone, relative, settings)
    return forward


def _addresses(host: str, settings: DnsSettings) -> list[RR]:
    found = [RR(host, "A", 3600, settings.forwarding_ipv4)]
    if settings.forwarding_ipv6:
        found.append(RR(host, "AAAA", 3600, settings.forwarding_ipv6))
    return found


def _point_at_forwarder(zone, host: str, settings: DnsSettings) -> None:
    kept = [rr for rr in dns.current_rrs(zone)
            if not (rr.name == host and rr.type in ("A", "AAAA", "CNAME"))]
    dns.change_records(zone, sorted({*kept, *_addresses(host, settings)}), settings=settings)


def delete_forward(*, reseller_id: int, zone_name: str, host: str,
                   settings: DnsSettings) -> None:
    zone = dns.get_zone(reseller_id=reseller_id, name=zone_name)
    relative = "@" if host in ("@", "", zone.name) else host.lower().removesuffix("." + zone.name)
    forward = db.session.scalar(sa.select(Forward).where(Forward.zone_id == zone.id,
                                                         Forward.host == relative))
    if forward is None:
        raise ForwardNotFound()
    db.session.delete(forward)
    ours = set(_addresses(relative, settings))
    dns.change_records(zone, [rr for rr in dns.current_rrs(zone) if rr not in ours],
                       settings=settings)


def find_forward(host: str) -> Forward | None:
    """The forward answering ``host``: only in an active zone (an unpublished zone's
    forwards stop serving with it)."""
    name = host.split(":", 1)[0].strip().rstrip(".").lower() if host else ""
    if not name:
        return None
    return db.session.scalar(sa.select(Forward).join(Zone, Zone.id == Forward.zone_id)
                             .where(Forward.fqdn == name, Zone.status == "active"))


def redirect_location(forward: Forward, path: str, query: str) -> str:
    """The target plus, as configured, the request's path and query string."""
    parts = urlsplit(forward.target)
    new_path = parts.path
    if forward.preserve_path and path not in ("", "/"):
        new_path = parts.path.rstrip("/") + path
    new_query = parts.query
    if forward.preserve_query and query:
        new_query = f"{parts.query}&{query}" if parts.query else query
    return urlunsplit((parts.scheme, parts.netloc, new_path or "/", new_query, parts.fragment))
