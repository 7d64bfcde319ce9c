"""Zones and records: create, replace, patch, import/export, delete. Every change is
validated first, stored, and logged as an ordered ``ZoneChange`` that a job publishes.

With ``models`` and ``errors`` this is DNS's public surface for other features (e.g.
WHMCS): ``dns_settings()`` gives the settings its functions take."""

from __future__ import annotations

import functools
import logging
import subprocess
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reseller.core.clock import clock
from reseller.core.db import memo
from reseller.core.errors import ValidationFailed
from reseller.core.events import record_event
from reseller.core.extensions import db
from reseller.core.jobs import enqueue
from reseller.dns import ownership
from reseller.dns.errors import InvalidZoneName, ZoneChanged, ZoneNotFound
from reseller.dns.models import Record, VanityNameservers, Zone, ZoneChange, ZoneKey
from reseller.dns.publishers import PublishFailed
from reseller.dns.records import (
    RR,
    apex_ns,
    normalize_zone_name,
    origin,
    owner_name,
    parse_zone_file,
    render_zone,
    validate_record,
    validate_records,
)
from reseller.dns.settings import DnsSettings, dns_settings, publisher  # noqa: F401  (public)
from reseller.domains.models import Domain

# The default zone template: a parked domain that sends no mail and cannot be spoofed.
DEFAULT_TEMPLATE: list[dict[str, Any]] = [
    {"name": "@", "type": "TXT", "ttl": 3600, "value": "v=spf1 -all"},
    {"name": "_dmarc", "type": "TXT", "ttl": 3600, "value": "v=DMARC1; p=reject"},
    {"name": "@", "type": "CAA", "ttl": 3600, "value": '0 issue "letsencrypt.org"'},
]

log = logging.getLogger(__name__)


@functools.cache
def default_records() -> tuple[Any, ...]:
    """``DEFAULT_TEMPLATE`` validated (a new zone's records). Its names are relative and
    its values name no zone, so it is the same for every zone: validated once, not once
    per zone (a registration's zone; a test checks it against a validation per zone)."""
    return tuple(validate_records(DEFAULT_TEMPLATE, "template.invalid"))


def zone_name(name: str) -> str:
    try:
        return normalize_zone_name(name)
    except ValueError as error:
        raise InvalidZoneName(_l("%(name)s is not a valid domain name.", name=name)) from error


def find_zone(name: str) -> Zone | None:
    """The active zone of that name, whoever hosts it (for publishing and serving, never
    for tenant views). Pending zones of several accounts may share a name."""
    return db.session.scalar(sa.select(Zone).where(Zone.name == name, Zone.status == "active"))


_OWN_ZONE = sa.select(Zone).where(Zone.name == sa.bindparam("name"),
                                  Zone.reseller_id == sa.bindparam("reseller_id"))


def find_own_zone(reseller_id: int, name: str) -> Zone | None:
    return db.session.scalar(_OWN_ZONE, {"name": name, "reseller_id": reseller_id})


def get_zone(*, reseller_id: int, name: str) -> Zone:
    zone = find_own_zone(reseller_id, zone_name(name))
    if zone is None:
        raise ZoneNotFound(_l("%(name)s is not a hosted zone in this account.", name=name))
    return zone


def check_zone(zone: Zone, settings: DnsSettings) -> None:
    """Refuse unless the zone is active and still the reseller's to host (before an ACME
    key, an httpreq write or a URL forward)."""
    ownership.check_zone(zone, settings)


def ownership_report() -> list[tuple[Zone, str]]:
    """Operator console: zones unpublished by the ownership rules."""
    return ownership.unpublished_report()


def zones_of(*, reseller_id: int) -> sa.Select:
    """The reseller's zones, for a page at a time (``paginate``)."""
    return sa.select(Zone).where(Zone.reseller_id == reseller_id)


# Built once: an order asks it twice (see BUILT ONCE in reseller.core.db)
_VANITY = sa.select(VanityNameservers).where(
    VanityNameservers.reseller_id == sa.bindparam("reseller_id"))


def nameservers_for(reseller_id: int, settings: DnsSettings) -> list[str]:
    """The reseller's verified vanity nameservers, else the neutral defaults."""
    vanity = memo(("vanity_nameservers", reseller_id), lambda: db.session.scalar(
        _VANITY, {"reseller_id": reseller_id}))
    if vanity is not None and vanity.verified_at is not None and vanity.hostnames:
        return list(vanity.hostnames)
    return list(settings.nameservers)


def acme_keys_unbounded() -> str | None:
    """The DNS server's version when ACME keys would reach TXT names beyond
    ``_acme-challenge`` ones: Knot before 3.3 has no owner patterns, and no DNS update
    gate is configured to hold them instead. None when they are exact (or the server's
    version cannot be read now: the check says nothing rather than something wrong)."""
    server = publisher()
    if dns_settings().gate_server or not hasattr(server, "version"):
        return None
    try:
        version = server.version()
    except (OSError, subprocess.SubprocessError, PublishFailed) as error:
        log.warning("the DNS server's version could not be read: %s", error)
        return None
    return ".".join(map(str, version)) if version < (3, 3) else None


def current_rrs(zone: Zone) -> list[RR]:
    return sorted(RR(r.name, r.type, r.ttl, r.value) for r in zone.records)


def next_serial(current: int, now: datetime) -> int:
    """RFC 1912 date serials (YYYYMMDDnn) that only ever increase."""
    return max(current + 1, int(now.strftime("%Y%m%d")) * 100)


def create_zone(*, reseller_id: int, name: str, settings: DnsSettings,
                records: list[Any] | None = None) -> Zone:
    """Host a zone: the given records, or the default template. A name the reseller holds
    is published at once; an external name waits, pending, for proof of control
    (``ownership``). A refusal raises before anything is stored or queued."""
    return create_zones([(reseller_id, name)], settings=settings, records=records)[0]


def create_zones(wanted: list[tuple[int, str]], *, settings: DnsSettings,
                 records: list[Any] | None = None) -> list[Zone]:
    """``create_zone`` for each (reseller id, name), all with ``records`` or the default
    template, in a few statements for them all (the zones of a burst of registrations);
    the zones in the order given, a zone the reseller already has left as it is. Names at
    or inside one another are done one after the other, as separate calls would. A
    refusal of any of them raises before anything is stored or queued."""
    pairs = [(reseller_id, zone_name(name)) for reseller_id, name in wanted]
    if len(pairs) > 1 and ownership.overlapping([name for _r, name in dict.fromkeys(pairs)]):
        return [create_zones([pair], settings=settings, records=records)[0]
                for pair in pairs]
    found = _own_zones(pairs)
    new = [pair for pair in dict.fromkeys(pairs) if pair not in found]
    if new:
        standings = ownership.authorize_zones(new, settings=settings)
        now = clock.now()
        # Built whole, records and token included, so new zones cost one INSERT per table
        # (a zone hosted for every registration: no reload of its empty record list, no
        # second write of its token).
        zones = [(Zone(reseller_id=reseller_id, name=name, serial=next_serial(0, now),
                       status="pending", created_at=now, updated_at=now,
                       verification_token=ownership.new_token(),
                       records=[Record(name=rr.name, type=rr.type, ttl=rr.ttl, value=rr.value)
                                for rr in (default_records() if records is None
                                           else validate_records(records, name))]),
                  standings[(reseller_id, name)]) for reseller_id, name in new]
        stored = ownership.start_new(zones)
        found.update(zip(new, stored, strict=True))
        created = [(zone, {"reseller_id": zone.reseller_id, "type": "dns.zone_created",
                           "data": {"zone": zone.name, "serial": zone.serial}})
                   for zone in stored]
        if live := [(zone, event) for zone, event in created if zone.active]:
            ownership.announce_many(live)
        for zone, event in created:
            if not zone.active:
                record_event(**event)
    return [found[pair] for pair in pairs]


def _own_zones(pairs: list[tuple[int, str]]) -> dict[tuple[int, str], Zone]:
    """The zones the accounts already have of these names, by (reseller id, name)."""
    if len(pairs) == 1:
        zone = find_own_zone(*pairs[0])
        return {pairs[0]: zone} if zone is not None else {}
    wanted = set(pairs)
    # By account and name, the unique (reseller_id, name) index: by name alone it was a
    # scan of every account's zones (12 ms at 33,000 zones, once per batch of orders).
    return {(zone.reseller_id, zone.name): zone for zone in db.session.scalars(
        sa.select(Zone).where(Zone.reseller_id.in_(sorted({r for r, _name in pairs})),
                              Zone.name.in_(sorted({name for _r, name in pairs}))))
        if (zone.reseller_id, zone.name) in wanted}


def replace_records(*, reseller_id: int, name: str, records: Any, settings: DnsSettings,
                    create: bool = True) -> Zone:
    """PUT: the zone's records become exactly ``records`` (the zone is created if new)."""
    name = zone_name(name)
    zone = find_own_zone(reseller_id, name)
    if zone is None and create:
        return create_zone(reseller_id=reseller_id, name=name, settings=settings,
                           records=records if records is not None else [])
    zone = get_zone(reseller_id=reseller_id, name=name)
    return change_records(zone, validate_records(records, name), settings=settings)


def patch_records(*, reseller_id: int, name: str, add: Any, remove: Any,
                  settings: DnsSettings) -> Zone:
    """PATCH: remove the listed records (matched on name, type and value; without a value,
    the whole RRset), then add the others; the result is validated as a whole."""
    zone = get_zone(reseller_id=reseller_id, name=name)
    adds = validate_records(add or [], zone.name, field="add")
    removals = _removals(remove or [], zone.name)
    kept = [rr for rr in current_rrs(zone) if not any(_matches(rr, r) for r in removals)]
    merged = kept + [rr for rr in adds if rr not in kept]
    return change_records(zone, validate_records([rr.as_dict() for rr in merged], zone.name),
                          settings=settings)


def edit_record(*, reseller_id: int, name: str, old: dict[str, Any], new: dict[str, Any],
                settings: DnsSettings, serial: int | None = None) -> Zone:
    """Replace one record with another in one change (the client area's edit in place).
    ``serial``: the zone version the edit was made against; another version is refused
    (``ZoneChanged``), as the API refuses a stale ``If-Match``. The records sharing the new
    record's name and type take its TTL (one TTL per RRset, RFC 2181 §5.2), so changing a
    TTL never fails on the record's siblings."""
    zone = get_zone(reseller_id=reseller_id, name=name)
    db.session.refresh(zone, with_for_update=True)
    if serial is not None and zone.serial != serial:
        raise ZoneChanged(_l("Someone changed the zone after this page was loaded; the page "
                             "now shows it as it is. Make your change again."))
    replacement = validate_records([new], zone.name, field="edit")[0]
    target = _removals([old], zone.name)[0]
    rrs = current_rrs(zone)
    if not any(_matches(rr, target) for rr in rrs):
        raise ZoneChanged(_l("The record is no longer in the zone; the page now shows the "
                             "zone as it is."))
    kept = []
    for rr in rrs:
        if _matches(rr, target):
            continue
        if (rr.name, rr.type) == (replacement.name, replacement.type):
            rr = rr._replace(ttl=replacement.ttl)
        kept.append(rr)
    merged = sorted(set(kept) | {replacement})
    return change_records(zone, validate_records([rr.as_dict() for rr in merged], zone.name),
                          settings=settings)


_FIND = object()  # delegation_warning: look the domain up


def delegation_warning(zone: Zone, settings: DnsSettings, *,
                       domain: Domain | None | object = _FIND) -> dict[str, Any] | None:
    """When the name is not delegated to the nameservers serving the zone, what it is
    delegated to: the registry's nameservers of a domain held in this account, else what
    ownership verification found for an external name (None when nothing is known or the
    delegation is right). A delegation to any of the names serving the zone — the
    reseller's vanity nameservers or the defaults — counts as right. ``domain``: the
    account's live domain of the zone's name when the caller read it already."""
    serving = {_host(ns) for ns in [*nameservers_for(zone.reseller_id, settings),
                                    *settings.nameservers]}
    if domain is _FIND:
        domain = db.session.scalar(sa.select(Domain).where(
            Domain.live_name == zone.name, Domain.reseller_id == zone.reseller_id))
    if domain is not None:
        delegated = {_host(ns) for ns in domain.nameservers or []}
        source = "registry"
    elif zone.proof == "delegation":
        return None
    elif (zone.last_check or {}).get("delegated") is not None:
        delegated = {_host(ns) for ns in zone.last_check["delegated"]}
        source = "lookup"
    else:
        return None
    if delegated and delegated <= serving:
        return None
    return {"delegated": sorted(delegated), "serving": nameservers_for(zone.reseller_id,
                                                                       settings),
            "source": source, "domain": domain.name if domain is not None else None}


def _host(name: str) -> str:
    return str(name).strip().rstrip(".").lower()


def _removals(raw: Any, zone: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise ValidationFailed({"remove": [str(_l("Send a list of records."))]})
    found: list[dict[str, Any]] = []
    errors: dict[str, Any] = {}
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            errors[str(index)] = {"_schema": [str(_l("Each record must be an object."))]}
            continue
        try:
            if item.get("value") is None:
                found.append({"name": owner_name(item.get("name"), origin(zone)),
                              "type": str(item.get("type") or "").upper()})
            else:
                rr = validate_record({k: v for k, v in item.items() if k != "ttl"}, zone)
                found.append({"name": rr.name, "type": rr.type, "value": rr.value})
        except ValueError as error:
            errors[str(index)] = getattr(error, "errors", None) or {"name": [str(error)]}
    if errors:
        raise ValidationFailed({"remove": errors})
    return found


def _matches(rr: RR, removal: dict[str, Any]) -> bool:
    return (rr.name == removal["name"] and rr.type == removal["type"]
            and removal.get("value") in (None, rr.value))


def change_records(zone: Zone, wanted: Iterable[RR], *, settings: DnsSettings) -> Zone:
    """Store ``wanted`` as the zone's records and log the difference for publishing."""
    before, after = set(current_rrs(zone)), set(wanted)
    if before == after:
        return zone
    _store(zone, sorted(after))
    _log_change(zone, deletes=before - after, adds=after - before)
    return zone


def change_nameservers(zone: Zone, old: list[str], new: list[str]) -> None:
    """The apex NS set moved (e.g. vanity nameservers verified): publish the swap."""
    before, after = set(apex_ns(old)), set(apex_ns(new))
    if before != after:
        _log_change(zone, deletes=before - after, adds=after - before)


def _store(zone: Zone, records: Iterable[RR]) -> None:
    zone.records.clear()
    db.session.flush()
    for rr in records:
        zone.records.append(Record(name=rr.name, type=rr.type, ttl=rr.ttl, value=rr.value))
    db.session.flush()


def adopt_change(zone: Zone, records: Iterable[RR], *, deletes: set[RR], adds: set[RR],
                 serial: int, key_names: list[str]) -> ZoneChange:
    """A change made on the server with a zone key becomes the database's truth: the
    records are stored and the change logged as already published, at the server's
    serial (``reseller.dns.sync`` has validated it)."""
    _store(zone, sorted(records))
    return _log_change(zone, deletes=deletes, adds=adds, origin="server",
                       key_names=key_names, serial=serial)


def served_serial(zone: Zone) -> int | None:
    """The serial the server serves now, or None (not there, or not answering)."""
    if not (zone.active and zone.on_server):
        return None
    return serial_on_server(zone.name)


def serial_on_server(name: str) -> int | None:
    """The serial the server serves for ``name`` (an SOA query; no database work: ask it
    with no transaction open), or None (not there, or not answering)."""
    try:
        return publisher().serial(name)
    except PublishFailed:
        return None


def _log_change(zone: Zone, *, deletes: set[RR], adds: set[RR], origin: str = "tunnus",
                key_names: list[str] | None = None, serial: int | None = None) -> ZoneChange:
    """Log a change. One made here gets the serial the server will publish: the next
    after the database's and the last the server was seen serving (``published_serial``;
    the server is not asked here, inside the request's transaction). Should a zone key
    have moved the server past it since, publishing goes further and notes the serial the
    change went out with. One adopted from the server keeps the server's serial."""
    now = clock.now()
    if serial is None:
        zone.serial = next_serial(max(zone.serial, zone.published_serial or 0), now)
    else:
        zone.serial = max(zone.serial, serial)
    zone.updated_at = now
    change = ZoneChange(zone_id=zone.id, serial=zone.serial, origin=origin,
                        key_names=list(key_names or []),
                        deletes=[rr.as_list() for rr in sorted(deletes)],
                        adds=[rr.as_list() for rr in sorted(adds)],
                        published_at=now if origin == "server" else None)
    db.session.add(change)
    db.session.flush()
    data = {"zone": zone.name, "serial": zone.serial, "origin": origin,
            "deleted": len(change.deletes), "added": len(change.adds)}
    if origin == "server":  # say what the key did: the reseller did not see it happen
        data.update(keys=change.key_names, deletes=change.deletes, adds=change.adds)
    record_event(reseller_id=zone.reseller_id, type="dns.zone_changed", data=data)
    if zone.active and origin == "tunnus":  # a pending zone is sent whole once verified
        enqueue("reseller.dns.tasks.publish_zone", zone.id)
    return change


def changes_query(*, reseller_id: int, name: str) -> sa.Select:
    """The zone's change log, newest first (what was changed, where, by which key)."""
    zone = get_zone(reseller_id=reseller_id, name=name)
    return sa.select(ZoneChange).where(ZoneChange.zone_id == zone.id)


def import_zone_file(*, reseller_id: int, name: str, text: str,
                     settings: DnsSettings) -> Zone:
    """Replace the records with a zone file's (its SOA and apex NS are Tunnus's own)."""
    name = zone_name(name)
    raw = parse_zone_file(text, name)
    return replace_records(reseller_id=reseller_id, name=name, records=raw, settings=settings)


def export_zone_file(zone: Zone, settings: DnsSettings) -> str:
    return render_zone(zone.name, zone.serial, nameservers_for(zone.reseller_id, settings),
                       current_rrs(zone))


def delete_zone(*, reseller_id: int, name: str) -> None:
    """Stop hosting the zone; jobs remove it and its keys from the server."""
    zone = get_zone(reseller_id=reseller_id, name=name)
    record_event(reseller_id=reseller_id, type="dns.zone_deleted", data={"zone": zone.name})
    for key in db.session.scalars(sa.select(ZoneKey).where(ZoneKey.zone_id == zone.id)):
        enqueue("reseller.dns.tasks.remove_zone_key", zone.name, key.key_name)
    if zone.active or zone.on_server:  # the job leaves a zone someone else now serves
        enqueue("reseller.dns.tasks.remove_zone", zone.name)
    db.session.delete(zone)
    db.session.flush()


def pending_changes(zone: Zone) -> list[ZoneChange]:
    return pending_changes_of([zone.id]).get(zone.id, [])


def pending_changes_of(zone_ids: list[int]) -> dict[int, list[ZoneChange]]:
    """The zones' unpublished changes in order, by zone (one statement)."""
    found: dict[int, list[ZoneChange]] = {}
    for change in db.session.scalars(
            sa.select(ZoneChange).where(ZoneChange.zone_id.in_(zone_ids),
                                        ZoneChange.published_at.is_(None))
            .order_by(ZoneChange.id)):
        found.setdefault(change.zone_id, []).append(change)
    return found


def records_of(zone_ids: list[int]) -> dict[int, list[RR]]:
    """``current_rrs`` of several zones in one statement, by zone."""
    found: dict[int, list[RR]] = {}
    if zone_ids:
        for row in db.session.scalars(sa.select(Record).where(Record.zone_id.in_(zone_ids))):
            found.setdefault(row.zone_id, []).append(RR(row.name, row.type, row.ttl, row.value))
    return {zone_id: sorted(rrs) for zone_id, rrs in found.items()}


# -- URL forwards as a set (callers that save a zone's forwards at once, e.g. WHMCS) -------

def list_forwards(*, reseller_id: int, zone_name: str) -> list[Any]:
    """The zone's URL forwards (``models.Forward``), by host."""
    from reseller.dns import forwarding  # forwarding is built on this module

    return forwarding.list_forwards(reseller_id=reseller_id, zone_name=zone_name)


def replace_forwards(*, reseller_id: int, zone_name: str, forwards: dict[str, str],
                     settings: DnsSettings) -> None:
    """The zone's URL forwards become exactly ``forwards`` (relative host, ``@`` for the
    domain itself → target URL; permanent, path and query kept): new ones are set,
    changed ones updated, the others removed with the addresses that served them."""
    from reseller.dns import forwarding  # forwarding is built on this module

    current = {forward.host: forward for forward in
               forwarding.list_forwards(reseller_id=reseller_id, zone_name=zone_name)}
    for host in sorted(set(current) - set(forwards)):
        forwarding.delete_forward(reseller_id=reseller_id, zone_name=zone_name, host=host,
                                  settings=settings)
    for host, target in sorted(forwards.items()):
        if host in current and current[host].target == target:
            continue
        forwarding.set_forward(reseller_id=reseller_id, zone_name=zone_name, host=host,
                               target=target, settings=settings)
