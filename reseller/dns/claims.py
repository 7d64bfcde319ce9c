"""Claims on zones: which job talks to the DNS server about a zone, until when.

Publishing, taking a zone off and syncing read what to do and take the zone's claim in one
short unit of work, talk to the server with no transaction open (a row lock or an open
transaction held across Knot would stall every reseller's event feed, which shows only
what no running transaction can precede), and write the outcome in another unit of work,
only while the claim is still theirs. The claim is a committed token with a lease: a job
that dies mid-way leaves it to expire, and the next run (the job's retry, the
``pending_jobs`` relay, or the minutely sweep) takes the zone again and replays.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import lazyload

from reseller.core.clock import clock
from reseller.core.db import for_update, unit_of_work
from reseller.core.extensions import db
from reseller.core.jobs import enqueue
from reseller.dns.models import Zone

# Long enough for the slowest publish (a new zone waits up to 10 s to be served; every
# knotc step may take 30 s), short enough that a crashed job's zone is taken again soon.
LEASE = timedelta(minutes=2)
BUSY_DELAY = 5  # seconds before a job that found the zone claimed runs again


def take(zone_id: int, *, active: bool = True) -> Zone | None:
    """Claim the zone unless another job's claim is unexpired: the zone (fresh, its
    ``publish_claim`` the token), or None (claimed, gone, or not ``active`` as asked).
    Commits with the caller's unit of work. One conditional ``UPDATE … RETURNING``: of
    two concurrent claimers one wins, the other sees the winner's lease."""
    taken = take_many([zone_id], active=active)
    return taken[0] if taken else None


def take_many(zone_ids: list[int], *, active: bool = True) -> list[Zone]:
    """``take`` for several zones in one statement, under one token: the zones claimed
    (in no particular order); the others are claimed by another job, gone or not
    ``active`` as asked."""
    now = clock.now()
    status = Zone.status == "active" if active else Zone.status != "active"
    return list(db.session.scalars(
        sa.update(Zone)
        .where(Zone.id.in_(zone_ids), status,
               sa.or_(Zone.publishing_until.is_(None), Zone.publishing_until <= now))
        .values(publish_claim=secrets.token_hex(16), publishing_until=now + LEASE)
        .returning(Zone)
        .options(lazyload(Zone.records))
        .execution_options(populate_existing=True, synchronize_session=False)))


def is_claimed(zone_id: int) -> bool:
    """Whether another job holds the zone (after ``take`` refused it)."""
    until = db.session.scalar(sa.select(Zone.publishing_until).where(Zone.id == zone_id))
    return until is not None and until > clock.now()


def held(zone_id: int, token: str) -> Zone | None:
    """The zone, locked and fresh, if ``token`` still claims it (an expired lease nobody
    else took is still ours: nobody can have interleaved)."""
    return held_many([zone_id], token).get(zone_id)


def held_many(zone_ids: list[int], token: str) -> dict[int, Zone]:
    """``held`` for the zones one ``take_many`` claimed, in one statement: by id, those
    ``token`` still claims."""
    zones = db.session.scalars(for_update(
        sa.select(Zone).where(Zone.id.in_(zone_ids)).order_by(Zone.id)
        .options(lazyload(Zone.records))))
    return {zone.id: zone for zone in zones if zone.publish_claim == token}


def let_go(zone: Zone) -> None:
    """Give up the claim on a zone ``held`` returned (written with its other changes)."""
    zone.publish_claim = zone.publishing_until = None


def release(zone_id: int, token: str) -> None:
    """Give the claim up (in the caller's unit of work), if it is still ours."""
    db.session.execute(
        sa.update(Zone).where(Zone.id == zone_id, Zone.publish_claim == token)
        .values(publish_claim=None, publishing_until=None)
        .execution_options(synchronize_session=False))


def release_now(zone_id: int, token: str) -> None:
    """Give the claim up in a unit of work of its own (after a failed server call, so the
    job's retry need not wait for the lease)."""
    with unit_of_work():
        release(zone_id, token)


def run_later(path: str, *args: object) -> None:
    """Queue the job again shortly: another job holds the zone."""
    enqueue(path, *args, delay=BUSY_DELAY)
