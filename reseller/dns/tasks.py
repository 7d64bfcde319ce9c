"""DNS jobs: publish a zone's pending changes in order, remove zones, install and remove
zone keys, the periodic comparison with the server (adopt zone keys' changes, repair other
drift), and the periodic check of pending zones' proof of control. Each is safe to run
twice."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import lazyload

from reseller.core.clock import clock
from reseller.core.db import end_transaction, unit_of_work
from reseller.core.errors import DomainError
from reseller.core.extensions import db
from reseller.core.jobs import batch_form, enqueue, periodic
from reseller.dns import keys, ownership, publishing, services
from reseller.dns.models import Zone, ZoneChange, ZoneKey
from reseller.dns.publishers import PublishFailed
from reseller.dns.settings import DnsSettings, dns_settings, publisher
from reseller.dns.verification import DnsLookup

log = logging.getLogger(__name__)


def publish_zone(zone_id: int) -> None:
    """Create the zone on the server if needed, then replay unpublished changes in order.

    Replaying is idempotent at the DNS level (deleting what is gone and adding what is
    there are no-ops), so a retry after a crash converges on the same state. Interleaving
    is not (one publisher's delete could land between another's add and its SOA), so
    the zone is claimed first (``reseller.dns.claims``): a publish that finds it claimed
    runs again shortly. Each change goes out with the serial it was given
    (``services._log_change`` took the last one seen on the server into account), unless
    a zone key moved the server past it meanwhile: then with the next above the server's,
    which the change notes. No transaction is open while the server is called
    (``reseller.dns.publishing``)."""
    publishing.publish(zone_id)


@batch_form("reseller.dns.tasks.publish_zone")
def publish_zones(args_list: list[tuple]) -> None:
    """``publish_zone`` for the zones a batch of events hosted: one claim, one read and
    one record for them all (``publishing.publish_many``)."""
    publishing.publish_many([zone_id for (zone_id,) in args_list])


SWITCH_CHUNK = 200  # zones per unit of work of a nameserver switch
SWITCH_JOB = "reseller.dns.tasks.switch_nameservers"


def switch_nameservers(reseller_id: int, before: list[str], after_id: int = 0) -> int:
    """Job: one chunk of a reseller's nameserver switch (vanity names verified, changed or
    cleared): up to ``SWITCH_CHUNK`` zones after ``after_id`` move their apex NS from
    ``before`` to the names serving the reseller now, and the next chunk is queued in the
    same commit. A request used to rewrite every zone in its own transaction: at 100,000
    zones, some 400,000 statements holding a transaction id, and every event feed, for
    minutes. Switches that overlap converge: each chunk reads the current names, and a
    change's deletes and adds are set operations (RFC 2136), so a zone ends on the last
    names whichever switch reaches it first. Returns the zones switched."""
    after = services.nameservers_for(reseller_id, dns_settings())
    zones = list(db.session.scalars(
        sa.select(Zone).where(Zone.reseller_id == reseller_id, Zone.id > after_id)
        .order_by(Zone.id).limit(SWITCH_CHUNK).options(lazyload(Zone.records))))
    for zone in zones:
        services.change_nameservers(zone, before, after)
    if len(zones) == SWITCH_CHUNK:
        enqueue(SWITCH_JOB, reseller_id, before, zones[-1].id)
    return len(zones)


def remove_zone(name: str) -> None:
    """Take a deleted zone off the server, unless it was hosted again meanwhile."""
    with unit_of_work():
        if services.find_zone(name) is not None:
            return
    publisher().remove_zone(name)


def unpublish_zone(zone_id: int) -> None:
    """Take a zone that is no longer active off the server, with its keys, unless
    another account's active zone of the name is what the server now has."""
    publishing.unpublish(zone_id)


def install_zone_key(key_id: int) -> None:
    with unit_of_work():
        key = db.session.get(ZoneKey, key_id, populate_existing=True)
        if key is None or not key.zone.on_server or not key.zone.active:
            return  # publishing the zone installs its keys
        name, pending = key.zone.name, (publishing.Key(key.id, key.key_name, key.secret,
                                                       key.scope),)
    publishing.install(publisher(), name, pending)
    with unit_of_work():
        publishing.note_installed(name, pending)


def remove_zone_key(zone_name: str, key_name: str) -> None:
    end_transaction()
    publisher().remove_key(zone_name, key_name)


def install_all_keys() -> None:
    """Install every published zone's keys again: after ``DNS_GATE_SERVER`` changed, ACME
    keys leave the server (the gate serves them) or come back to it. Zone by zone, each
    read and noted in a unit of work of its own."""
    zone_ids = _published_ids()
    for zone_id in zone_ids:
        with unit_of_work():
            zone = db.session.get(Zone, zone_id)
            if zone is None:
                continue  # deleted meanwhile
            name = zone.name
            every = tuple(publishing.Key(key.id, key.key_name, key.secret, key.scope)
                          for key in keys.zone_keys(zone_id))
        publishing.install(publisher(), name, every)
        with unit_of_work():
            publishing.note_installed(name, every)


# Jobs queued under the names they had when only ACME keys existed.
install_acme_key, remove_acme_key = install_zone_key, remove_zone_key


def sync_zone(zone_id: int) -> str:
    """Compare a published zone with the server (AXFR) and settle the difference
    (``reseller.dns.sync``): adopt what the zone's keys did, repair the rest."""
    return publishing.compare_with_server(zone_id)


def _each(job, zone_ids: list[int]) -> None:
    """Run ``job`` for each zone; each commits its own steps (no transaction is open
    across the server calls), and one broken zone does not stop the others."""
    for zone_id in zone_ids:
        try:
            job(zone_id)
        except Exception:
            log.exception("%s of zone %s failed", job.__name__, zone_id)
            # its steps commit on their own; what failed between them must not leave the
            # session in a failed transaction for the next zone
            db.session.rollback()


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
    the server has not got, and publish zones whose publishing was cut short."""
    with unit_of_work():
        republish(clock.now() - PUBLISH_GRACE)
        uninstalled = set(db.session.scalars(sa.select(ZoneKey.zone_id).where(
            ZoneKey.installed_at.is_(None))))
        published = db.session.execute(sa.select(Zone.id, Zone.name, Zone.published_serial)
                                       .where(Zone.id.in_(_published_ids()))).all()
    server, moved = publisher(), []
    for zone_id, name, published_serial in published:
        try:
            served = server.serial(name)
        except PublishFailed:
            log.exception("SOA query for %s failed", name)
            continue
        if served != published_serial or zone_id in uninstalled:
            moved.append(zone_id)
    _each(sync_zone, moved)


PUBLISH_GRACE = timedelta(minutes=1)  # a change this new has its own job on the way
SWEEP_DAYS = 1  # a publish failing longer than this is the operator's (the zone shows it)


def republish(before: datetime) -> None:
    """Queue publishing for active zones with a change logged before ``before`` (and
    within ``SWEEP_DAYS``) still unpublished, or not on the server at all, that no job
    holds: the sweep behind a publish whose job was lost (a worker killed with the claim
    taken)."""
    now, since = clock.now(), before - timedelta(days=SWEEP_DAYS)
    unclaimed = sa.or_(Zone.publishing_until.is_(None), Zone.publishing_until <= now)
    waiting = sa.select(ZoneChange.zone_id).where(
        ZoneChange.published_at.is_(None), ZoneChange.created_at < before,
        ZoneChange.created_at > since)
    for zone_id in db.session.scalars(sa.select(Zone.id).where(
            Zone.status == "active", unclaimed,
            sa.or_(Zone.id.in_(waiting), sa.and_(Zone.on_server.is_(False),
                                                 Zone.updated_at < before,
                                                 Zone.updated_at > since))
            ).order_by(Zone.id)):
        enqueue("reseller.dns.tasks.publish_zone", zone_id)


@periodic("dns-verify-zones", "*/10 * * * *")
def verify_pending_zones() -> None:
    """Look again for the TXT record or delegation of every pending zone; publish those
    whose proof has appeared. A refusal (the name is now held elsewhere) is noted. The
    resolver is asked between units of work, with no transaction open."""
    settings = dns_settings()
    ids = db.session.scalars(sa.select(Zone.id).where(Zone.status == "pending")
                             .order_by(Zone.id)).all()
    for zone_id in ids:
        try:
            _verify_pending(zone_id, settings)
        except Exception:
            log.exception("verifying zone %s failed", zone_id)


def _verify_pending(zone_id: int, settings: DnsSettings) -> None:
    with unit_of_work():
        question = ownership.question(db.session.get(Zone, zone_id))
    if question is None:
        return  # deleted or published meanwhile
    answers = ownership.ask(question, DnsLookup(settings))
    try:
        with unit_of_work():
            ownership.verify_zone(db.session.get(Zone, zone_id), settings, lookup=answers)
    except DomainError as refused:
        with unit_of_work():
            zone = db.session.get(Zone, zone_id)
            if zone is not None:
                zone.last_check = {"checked_at": clock.now().isoformat(),
                                   "problems": [str(refused.detail or refused.title)]}
