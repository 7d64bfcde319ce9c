"""DNS jobs: publish a zone's pending changes in order, remove zones, install ACME keys,
the periodic AXFR comparison that repairs drift, and the periodic check of pending zones'
proof of control. Each is safe to run twice."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.db import lock_row
from reseller.core.errors import DomainError
from reseller.core.extensions import db
from reseller.core.jobs import periodic
from reseller.dns import ownership, services
from reseller.dns.models import AcmeKey, Zone
from reseller.dns.records import DEFAULT_TTL, RR, apex_ns, soa_value
from reseller.dns.settings import dns_settings, publisher

log = logging.getLogger(__name__)


def _soa(zone: Zone, serial: int) -> RR:
    nameservers = services.nameservers_for(zone.reseller_id, dns_settings())
    return RR("@", "SOA", DEFAULT_TTL, soa_value(zone.name, nameservers, serial))


def publish_zone(zone_id: int) -> None:
    """Create the zone on the server if needed, then replay unpublished changes in order.

    Replaying is idempotent at the DNS level (deleting what is gone and adding what is
    there are no-ops), so a retry after a crash converges on the same state."""
    zone = lock_row(Zone, zone_id)
    if zone is None or not zone.active:
        return  # deleted meanwhile (remove_zone handles the server) or never/no longer ours
    server = publisher()
    changes = services.pending_changes(zone)
    now = clock.now()
    if not zone.on_server:
        created = server.ensure_zone(zone.name,
                                     services.export_zone_file(zone, dns_settings()))
        zone.on_server = True
        for change in changes:
            change.published_at = now
        if not created:
            _reconcile(zone)  # the server already had it, perhaps with older contents
    for change in changes:
        if change.published_at is not None:
            continue
        served = server.serial(zone.name) or 0
        serial = max(change.serial, served + 1)
        deletes = [RR(*item) for item in change.deletes]
        adds = [RR(*item) for item in change.adds]
        zone.serial = max(zone.serial, server.update(zone.name, deletes, adds,
                                                     _soa(zone, serial)))
        change.published_at = now
    _install_keys(zone)  # new host names get their _acme-challenge name
    zone.published_serial = server.serial(zone.name)
    zone.published_at = now


def remove_zone(name: str) -> None:
    """Take a deleted zone off the server, unless it was hosted again meanwhile."""
    if services.find_zone(name) is not None:
        return
    publisher().remove_zone(name)


def unpublish_zone(zone_id: int) -> None:
    """Take a zone that is no longer active off the server, with its ACME keys, unless
    another account's active zone of the name is what the server now has."""
    zone = lock_row(Zone, zone_id)
    if zone is None or zone.active:
        return
    server = publisher()
    for key in db.session.scalars(sa.select(AcmeKey).where(AcmeKey.zone_id == zone.id)):
        server.remove_key(zone.name, key.key_name)
        db.session.delete(key)
    if services.find_zone(zone.name) is None:
        server.remove_zone(zone.name)
    zone.on_server, zone.published_serial = False, None


def challenge_owners(zone: Zone) -> list[str]:
    """``_acme-challenge`` names an ACME key may write: the apex's and every host's."""
    hosts = {"@", "www"} | {r.name for r in zone.records
                            if not r.name.startswith("_") and r.name != "*"}
    return sorted(f"_acme-challenge.{zone.name}." if host == "@"
                  else f"_acme-challenge.{host.removeprefix('*.')}.{zone.name}."
                  for host in hosts)


def _install_keys(zone: Zone) -> None:
    keys = db.session.scalars(sa.select(AcmeKey).where(AcmeKey.zone_id == zone.id)).all()
    owners = challenge_owners(zone) if keys else []
    for key in keys:
        publisher().install_key(zone.name, key.key_name, key.secret, owners)
        key.installed_at = clock.now()


def install_acme_key(key_id: int) -> None:
    key = db.session.get(AcmeKey, key_id)
    if key is None or not key.zone.on_server:
        return  # publishing the zone installs its keys
    publisher().install_key(key.zone.name, key.key_name, key.secret,
                            challenge_owners(key.zone))
    key.installed_at = clock.now()


def remove_acme_key(zone_name: str, key_name: str) -> None:
    publisher().remove_key(zone_name, key_name)


def _managed_by_acme_client(rr: RR) -> bool:
    # certbot/lego write these with their scoped key; drift repair must not undo them.
    return rr.type == "TXT" and (rr.name == "_acme-challenge"
                                 or rr.name.startswith("_acme-challenge."))


def _reconcile(zone: Zone) -> bool:
    """Make the server serve exactly the database's records; True if it had drifted."""
    server = publisher()
    served = server.transfer(zone.name)
    if served is None:
        zone.on_server = False
        return True
    nameservers = services.nameservers_for(zone.reseller_id, dns_settings())
    wanted = set(services.current_rrs(zone)) | set(apex_ns(nameservers))
    present = {rr for rr in served if rr.type != "SOA"}
    deletes = {rr for rr in present - wanted if not _managed_by_acme_client(rr)}
    adds = wanted - present
    if not deletes and not adds:
        return False
    log.warning("zone %s drifted: %d extra, %d missing records; repairing",
                zone.name, len(deletes), len(adds))
    zone.serial = services.next_serial(zone.serial, clock.now())
    served_serial = server.serial(zone.name) or 0
    serial = max(zone.serial, served_serial + 1)
    zone.serial = server.update(zone.name, sorted(deletes), sorted(adds), _soa(zone, serial))
    zone.published_serial = zone.serial
    return True


def repair_zone(zone_id: int) -> bool:
    zone = lock_row(Zone, zone_id)
    if zone is None or not zone.on_server or services.pending_changes(zone):
        return False  # pending changes: publishing will get there first
    repaired = _reconcile(zone)
    if not zone.on_server:
        publish_zone(zone.id)
    return repaired


@periodic("dns-repair-drift", "*/15 * * * *")
def repair_drift() -> None:
    """Compare every published zone with the server (AXFR) and repair differences; take
    zones that are no longer active (e.g. unpublished by the ownership migration) off it."""
    stale = db.session.scalars(sa.select(Zone.id).where(
        Zone.status != "active", sa.or_(Zone.on_server.is_(True), Zone.id.in_(
            sa.select(AcmeKey.zone_id)))).order_by(Zone.id)).all()
    ids = db.session.scalars(sa.select(Zone.id).where(Zone.on_server.is_(True),
                                                      Zone.status == "active")
                             .order_by(Zone.id)).all()
    for job, zone_ids in ((unpublish_zone, stale), (repair_zone, ids)):
        for zone_id in zone_ids:
            try:
                with db.session.begin_nested():
                    job(zone_id)
            except Exception:  # one broken zone must not stop the others
                log.exception("%s of zone %s failed", job.__name__, zone_id)


@periodic("dns-verify-zones", "*/10 * * * *")
def verify_pending_zones() -> None:
    """Look again for the TXT record or delegation of every pending zone; publish those
    whose proof has appeared. A refusal (the name is now held elsewhere) is noted."""
    settings = dns_settings()
    ids = db.session.scalars(sa.select(Zone.id).where(Zone.status == "pending")
                             .order_by(Zone.id)).all()
    for zone_id in ids:
        try:
            with db.session.begin_nested():
                ownership.verify_zone(db.session.get(Zone, zone_id), settings)
        except DomainError as refused:
            zone = db.session.get(Zone, zone_id)
            zone.last_check = {"checked_at": clock.now().isoformat(),
                               "problems": [str(refused.detail or refused.title)]}
        except Exception:
            log.exception("verifying zone %s failed", zone_id)
