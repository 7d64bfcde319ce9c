"""DNS jobs: publish a zone's pending changes in order, remove zones, install and remove
zone keys, the periodic comparison with the server (adopt zone keys' changes, repair other
drift), and the periodic check of pending zones' proof of control. Each is safe to run
twice."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.db import lock_row
from reseller.core.errors import DomainError
from reseller.core.extensions import db
from reseller.core.jobs import periodic
from reseller.dns import keys, ownership, services, sync
from reseller.dns.models import Zone, ZoneKey
from reseller.dns.publishers import PublishFailed
from reseller.dns.records import RR
from reseller.dns.settings import dns_settings, publisher

log = logging.getLogger(__name__)


def publish_zone(zone_id: int) -> None:
    """Create the zone on the server if needed, then replay unpublished changes in order.

    Replaying is idempotent at the DNS level (deleting what is gone and adding what is
    there are no-ops), so a retry after a crash converges on the same state. Each change
    goes out with the serial it was given (``services._log_change`` took the server's into
    account), unless a zone key moved the server past it meanwhile."""
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
        if not created:  # the server already had it, perhaps with older contents
            served = server.transfer(zone.name)
            if served is not None:
                sync.settle(zone, served, adopt=False)
    for change in changes:
        if change.published_at is not None:
            continue
        served = server.serial(zone.name) or 0
        serial = max(change.serial, served + 1)
        deletes = [RR(*item) for item in change.deletes]
        adds = [RR(*item) for item in change.adds]
        zone.serial = max(zone.serial, server.update(zone.name, deletes, adds,
                                                     sync.soa(zone, serial)))
        change.published_at = now
    _install_keys(zone)
    zone.published_serial = server.serial(zone.name)
    zone.published_at = now


def remove_zone(name: str) -> None:
    """Take a deleted zone off the server, unless it was hosted again meanwhile."""
    if services.find_zone(name) is not None:
        return
    publisher().remove_zone(name)


def unpublish_zone(zone_id: int) -> None:
    """Take a zone that is no longer active off the server, with its keys, unless
    another account's active zone of the name is what the server now has."""
    zone = lock_row(Zone, zone_id)
    if zone is None or zone.active:
        return
    server = publisher()
    for key in keys.zone_keys(zone.id):
        server.remove_key(zone.name, key.key_name)
        db.session.delete(key)
    if services.find_zone(zone.name) is None:
        server.remove_zone(zone.name)
    zone.on_server, zone.published_serial = False, None


def _install_keys(zone: Zone) -> None:
    """Install the zone's keys the server has not got (new, or from before an upgrade)."""
    for key in keys.zone_keys(zone.id):
        if key.installed_at is None:
            publisher().install_key(zone.name, key.key_name, key.secret, key.scope)
            key.installed_at = clock.now()


def install_zone_key(key_id: int) -> None:
    key = db.session.get(ZoneKey, key_id)
    if key is None or not key.zone.on_server or not key.zone.active:
        return  # publishing the zone installs its keys
    publisher().install_key(key.zone.name, key.key_name, key.secret, key.scope)
    key.installed_at = clock.now()


def remove_zone_key(zone_name: str, key_name: str) -> None:
    publisher().remove_key(zone_name, key_name)


def install_all_keys() -> None:
    """Install every published zone's keys again: after ``DNS_GATE_SERVER`` changed, ACME
    keys leave the server (the gate serves them) or come back to it."""
    zone_ids = _published_ids()
    for key in db.session.scalars(sa.select(ZoneKey).where(ZoneKey.zone_id.in_(zone_ids))
                                  .order_by(ZoneKey.id)):
        publisher().install_key(key.zone.name, key.key_name, key.secret, key.scope)
        key.installed_at = clock.now()


# Jobs queued under the names they had when only ACME keys existed.
install_acme_key, remove_acme_key = install_zone_key, remove_zone_key


def sync_zone(zone_id: int) -> str:
    """Compare a published zone with the server (AXFR) and settle the difference
    (``reseller.dns.sync``): adopt what the zone's keys did, repair the rest."""
    zone = lock_row(Zone, zone_id)
    if zone is None or not zone.active or not zone.on_server:
        return "skipped"
    if services.pending_changes(zone):
        return "skipped"  # publishing gets there first; the next sync compares
    _install_keys(zone)
    served = publisher().transfer(zone.name)
    if served is None:  # the server lost it: create it again
        zone.on_server = False
        publish_zone(zone.id)
        return "recreated"
    return sync.settle(zone, served)



def _each(job, zone_ids: list[int]) -> None:
    for zone_id in zone_ids:
        try:
            with db.session.begin_nested():
                job(zone_id)
        except Exception:  # one broken zone must not stop the others
            log.exception("%s of zone %s failed", job.__name__, zone_id)


def _published_ids() -> list[int]:
    return list(db.session.scalars(sa.select(Zone.id).where(
        Zone.on_server.is_(True), Zone.status == "active").order_by(Zone.id)))


@periodic("dns-repair-drift", "*/15 * * * *")
def repair_drift() -> None:
    """Compare every published zone with the server (AXFR): adopt zone keys' changes,
    repair other drift; take zones that are no longer active (e.g. unpublished by the
    ownership migration) off it, with their keys."""
    stale = db.session.scalars(sa.select(Zone.id).where(
        Zone.status != "active", sa.or_(Zone.on_server.is_(True), Zone.id.in_(
            sa.select(ZoneKey.zone_id)))).order_by(Zone.id)).all()
    _each(unpublish_zone, list(stale))
    _each(sync_zone, _published_ids())


@periodic("dns-sync-zones", "* * * * *")
def sync_changed_zones() -> None:
    """Every minute: ask the server for each published zone's serial (one SOA query) and
    sync the zones whose serial moved (a zone key wrote to them); also install keys
    the server has not got."""
    server = publisher()
    uninstalled = set(db.session.scalars(sa.select(ZoneKey.zone_id).where(
        ZoneKey.installed_at.is_(None))))
    moved = []
    for zone in db.session.scalars(sa.select(Zone).where(Zone.id.in_(_published_ids()))):
        try:
            served = server.serial(zone.name)
        except PublishFailed:
            log.exception("SOA query for %s failed", zone.name)
            continue
        if served != zone.published_serial or zone.id in uninstalled:
            moved.append(zone.id)
    _each(sync_zone, moved)


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
