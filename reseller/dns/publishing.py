"""Talking to the DNS server about one zone: publish its changes, take it off, compare it
with the server. Each reads what to do and takes the zone's claim (``claims``) in a short
unit of work, calls the server with no transaction open, and records the outcome in
another unit of work while the claim is still its own."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import lazyload

from reseller.core.clock import clock
from reseller.core.db import shared_reads, unit_of_work
from reseller.core.extensions import db
from reseller.core.jobs import enqueue
from reseller.dns import claims, keys, services, sync
from reseller.dns.models import Zone, ZoneChange, ZoneKey
from reseller.dns.publishers import Publisher
from reseller.dns.records import RR, apex_ns, render_zone
from reseller.dns.settings import dns_settings, publisher

log = logging.getLogger(__name__)

PUBLISH = "reseller.dns.tasks.publish_zone"
UNPUBLISH = "reseller.dns.tasks.unpublish_zone"
REMOVE_KEY = "reseller.dns.tasks.remove_zone_key"


@dataclass(frozen=True)
class Key:
    id: int
    name: str
    secret: str
    scope: str


@dataclass(frozen=True)
class Change:
    id: int
    serial: int
    deletes: tuple[RR, ...]
    adds: tuple[RR, ...]


@dataclass(frozen=True)
class Plan:
    """What one publish sends, read under the claim ``token``."""
    zone_id: int
    name: str
    token: str
    serial: int
    nameservers: list[str]
    changes: tuple[Change, ...]
    keys: tuple[Key, ...]
    zone_file: str | None = None       # the whole zone, when the server has not got it
    wanted: frozenset[RR] = frozenset()  # to settle a zone the server had already
    # Stop replaying by then (``time.monotonic()``), well inside the lease: the rest is
    # left to the next run rather than sent by a job whose claim may have passed on.
    deadline: float = float("inf")


@dataclass
class Sent:
    serial: int = 0
    published_serial: int | None = None
    drift: sync.Drift | None = None
    moved: dict[int, int] = field(default_factory=dict)  # change id -> serial it went out with
    done: list[int] = field(default_factory=list)  # the changes the server now has


def uninstalled_keys(zone_id: int) -> tuple[Key, ...]:
    return uninstalled_keys_of([zone_id]).get(zone_id, ())


def uninstalled_keys_of(zone_ids: list[int]) -> dict[int, tuple[Key, ...]]:
    """The zones' keys not yet on the server, by zone (one statement)."""
    found: dict[int, list[Key]] = {}
    for key in db.session.scalars(sa.select(ZoneKey).where(ZoneKey.zone_id.in_(zone_ids),
                                                           ZoneKey.installed_at.is_(None))
                                  .order_by(ZoneKey.id)):
        found.setdefault(key.zone_id, []).append(Key(key.id, key.key_name, key.secret,
                                                     key.scope))
    return {zone_id: tuple(zone_keys) for zone_id, zone_keys in found.items()}


def install(server: Publisher, name: str, pending: tuple[Key, ...]) -> None:
    for key in pending:
        server.install_key(name, key.name, key.secret, key.scope)


def note_installed(name: str, installed: tuple[Key, ...]) -> None:
    """Mark keys installed; a key revoked while it was being installed is taken off again
    (its removal may have reached the server first)."""
    if not installed:
        return
    found = set(db.session.scalars(
        sa.update(ZoneKey).where(ZoneKey.id.in_([key.id for key in installed]))
        .values(installed_at=clock.now()).returning(ZoneKey.id)
        .execution_options(synchronize_session=False)))
    for key in installed:
        if key.id not in found:
            enqueue(REMOVE_KEY, name, key.name)


# -- publishing ---------------------------------------------------------------------------

def publish(zone_id: int) -> None:
    """Create the zone on the server if needed, then replay unpublished changes in order
    (see ``tasks.publish_zone``). A zone another job holds is published again shortly."""
    publish_many([zone_id])


def publish_many(zone_ids: list[int]) -> None:
    """``publish`` for several zones (those a batch of registrations hosted): one claim and
    one read of what to send for them all, each zone sent to the server in turn with no
    transaction open, and one record of what was sent. When the server fails a zone, the
    zones not sent yet are let go at once (their jobs' retries need not wait for the
    lease), those sent are recorded, and the failure is raised for the retry."""
    plans = _claim_publish(list(dict.fromkeys(zone_ids)))
    server, sent = publisher(), []
    try:
        for plan in plans:
            sent.append((plan, _send(server, plan)))
    except Exception:
        _let_go(plans[len(sent):])
        _record_sent(sent)
        raise
    except BaseException:  # the process is going down: leave every zone for a replay
        _let_go(plans)
        raise
    _record_sent(sent)


def _let_go(plans: list[Plan]) -> None:
    for plan in plans:  # a failure's clean-up: one short unit of work each is fine
        claims.release_now(plan.zone_id, plan.token)


def _record_sent(sent: list[tuple[Plan, Sent]]) -> None:
    if sent:
        with unit_of_work():
            held = claims.held_many([plan.zone_id for plan, _ in sent], sent[0][0].token)
            for plan, outcome in sent:
                _record_publish(plan, outcome, held.get(plan.zone_id))


def _claim_publish(zone_ids: list[int]) -> list[Plan]:
    """Claim the zones and read what each publish sends (its changes, or the whole zone
    when the server has not got it, and keys to install), in one short unit of work."""
    with unit_of_work(), shared_reads():
        order = {zone_id: n for n, zone_id in enumerate(zone_ids)}
        zones = sorted(claims.take_many(zone_ids), key=lambda zone: order[zone.id])
        taken = {zone.id for zone in zones}
        for zone_id in zone_ids:
            if zone_id not in taken and claims.is_claimed(zone_id):
                claims.run_later(PUBLISH, zone_id)
            # else deleted (remove_zone handles the server) or not active
        if not zones:
            return []
        settings = dns_settings()
        changes = services.pending_changes_of(list(taken))
        records = services.records_of([zone.id for zone in zones if not zone.on_server])
        unsent_keys = uninstalled_keys_of(list(taken))
        plans = []
        for zone in zones:
            nameservers = services.nameservers_for(zone.reseller_id, settings)
            fresh = {}
            if not zone.on_server:
                rrs = records.get(zone.id, [])
                fresh = {"zone_file": render_zone(zone.name, zone.serial, nameservers, rrs),
                         "wanted": frozenset(rrs) | frozenset(apex_ns(nameservers))}
            plans.append(Plan(
                zone.id, zone.name, zone.publish_claim, zone.serial, nameservers,
                tuple(Change(c.id, c.serial, tuple(RR(*item) for item in c.deletes),
                             tuple(RR(*item) for item in c.adds))
                      for c in changes.get(zone.id, [])),
                unsent_keys.get(zone.id, ()), **fresh,
                deadline=time.monotonic() + claims.LEASE.total_seconds() * 0.75))
        return plans


def _send(server: Publisher, plan: Plan) -> Sent:
    """The server's part: no database work here."""
    sent, changes = Sent(), plan.changes
    if plan.zone_file is not None:
        changes, sent.done = (), [c.id for c in plan.changes]  # the file holds them all
        if not server.ensure_zone(plan.name, plan.zone_file):
            # The server had it already, perhaps with older contents: settle, adopting
            # nothing (no key of ours made what it has).
            served = server.transfer(plan.name)
            if served is not None:
                sent.drift = sync.compare(served, set(plan.wanted))
                if sent.drift.needs_repair:
                    soa = sync.soa_for(plan.name, plan.nameservers,
                                       sync.repair_serial(plan.serial, sent.drift))
                    sent.serial = sync.repair(server, plan.name, sent.drift, soa)
    for change in changes:
        if time.monotonic() > plan.deadline:
            break  # the lease is running out: the next run sends the rest
        served = server.serial(plan.name) or 0
        soa = sync.soa_for(plan.name, plan.nameservers, max(change.serial, served + 1))
        serial = server.update(plan.name, change.deletes, change.adds, soa)
        if serial != change.serial:  # a zone key moved the server on meanwhile
            sent.moved[change.id] = serial
        sent.serial = max(sent.serial, serial)
        sent.done.append(change.id)
    install(server, plan.name, plan.keys)
    sent.published_serial = server.serial(plan.name)
    return sent


def _record_publish(plan: Plan, sent: Sent, zone: Zone | None) -> None:
    """Write what was sent, if the claim is still this run's (``zone``: the zone, locked,
    when ``held``; None when not)."""
    if zone is None:
        if db.session.get(Zone, plan.zone_id) is None:
            enqueue("reseller.dns.tasks.remove_zone", plan.name)  # deleted meanwhile
        else:
            log.warning("zone %s: claim lost while publishing; the holder replays",
                        plan.name)
        return
    now = clock.now()
    # The changes sent (a zone file holds exactly those read under the claim): one logged
    # since is still pending, and the job it queued publishes it.
    if len(sent.done) < len(plan.changes):
        claims.run_later(PUBLISH, plan.zone_id)
    if sent.done:  # a new zone's first publish usually has none: no statement then
        db.session.execute(
            sa.update(ZoneChange).where(ZoneChange.id.in_(sent.done),
                                        ZoneChange.published_at.is_(None))
            .values(published_at=now).execution_options(synchronize_session=False))
    for change_id, serial in sent.moved.items():
        db.session.execute(sa.update(ZoneChange).where(ZoneChange.id == change_id)
                           .values(serial=serial).execution_options(synchronize_session=False))
    note_installed(plan.name, plan.keys)
    if sent.drift is not None:
        sync.record(zone, sent.drift, sent.serial or sent.drift.served_serial)
    zone.on_server = True
    zone.serial = max(zone.serial, sent.serial)
    zone.published_serial, zone.published_at = sent.published_serial, now
    claims.let_go(zone)



# -- taking a zone off ----------------------------------------------------------------------

def unpublish(zone_id: int) -> None:
    """Take a zone that is no longer active off the server, with its keys, unless another
    account's active zone of the name is what the server now has."""
    with unit_of_work():
        zone = claims.take(zone_id, active=False)
        if zone is None:
            if claims.is_claimed(zone_id):
                claims.run_later(UNPUBLISH, zone_id)
            return  # else deleted, or active again
        token = zone.publish_claim
        name, held_keys = zone.name, [(key.id, key.key_name) for key in keys.zone_keys(zone_id)]
        drop_zone = services.find_zone(name) is None
    server = publisher()
    try:
        for _id, key_name in held_keys:
            server.remove_key(name, key_name)
        if drop_zone:
            server.remove_zone(name)
    except BaseException:
        claims.release_now(zone_id, token)
        raise
    with unit_of_work():
        db.session.execute(sa.delete(ZoneKey).where(
            ZoneKey.id.in_([key_id for key_id, _name in held_keys]))
            .execution_options(synchronize_session=False))
        zone = claims.held(zone_id, token)
        if zone is not None:
            zone.on_server, zone.published_serial = False, None
            claims.let_go(zone)


# -- comparing with the server --------------------------------------------------------------

def compare_with_server(zone_id: int) -> str:
    """Read the zone back (AXFR) and settle the difference (``sync``): adopt what the
    zone's keys did, repair the rest. A zone another job holds is compared again shortly."""
    with unit_of_work():
        zone = db.session.get(Zone, zone_id, populate_existing=True,
                              options=[lazyload(Zone.records)])
        if zone is None or not zone.active or not zone.on_server:
            return "skipped"
        if services.pending_changes(zone):
            return "skipped"  # publishing gets there first; the next sync compares
        zone = claims.take(zone_id)
        if zone is None:
            claims.run_later("reseller.dns.tasks.sync_zone", zone_id)
            return "busy"
        name, token, pending = zone.name, zone.publish_claim, uninstalled_keys(zone_id)
    server = publisher()
    try:
        install(server, name, pending)
        served = server.transfer(name)
        if served is None:  # the server lost it: create it again
            with unit_of_work():
                _lost(zone_id, token)
            publish(zone_id)
            return "recreated"
        return _settle(server, zone_id, name, token, served, pending)
    except BaseException:
        claims.release_now(zone_id, token)
        raise


def _lost(zone_id: int, token: str) -> None:
    zone = claims.held(zone_id, token)
    if zone is not None:
        zone.on_server = False
        claims.let_go(zone)


def _settle(server: Publisher, zone_id: int, name: str, token: str, served: list[RR],
            installed: tuple[Key, ...]) -> str:
    with unit_of_work():
        zone = claims.held(zone_id, token)
        if zone is None:
            return "skipped"  # another job took the zone over; it compares next
        note_installed(name, installed)
        drift = sync.assess(zone, served)
        if not drift.needs_repair:
            claims.let_go(zone)
            return sync.record(zone, drift, drift.served_serial)
        soa = sync.soa(zone, sync.repair_serial(zone.serial, drift))
    served_serial = sync.repair(server, name, drift, soa)
    with unit_of_work():
        zone = claims.held(zone_id, token)
        if zone is None:
            return "skipped"
        claims.let_go(zone)
        return sync.record(zone, drift, served_serial)
