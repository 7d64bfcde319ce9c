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

from reseller.core.clock import clock
from reseller.core.db import lock_row, unit_of_work
from reseller.core.extensions import db
from reseller.core.jobs import enqueue
from reseller.dns.models import Zone

# Long enough for the slowest publish (a new zone waits up to 10 s to be served; every
# knotc step may take 30 s), short enough that a crashed job's zone is taken again soon.
LEASE = timedelta(minutes=2)
BUSY_DELAY = 5  # seconds before a job that found the zone claimed runs again


def take(zone_id: int) -> str | None:
    """Claim the zone unless another job's claim is unexpired; the token, or None. Commits
    with the caller's unit of work (a conditional ``UPDATE … RETURNING``: of two
    concurrent claimers one wins, the other sees the winner's lease)."""
    token = secrets.token_hex(16)
    now = clock.now()
    won = db.session.execute(
        sa.update(Zone)
        .where(Zone.id == zone_id,
               sa.or_(Zone.publishing_until.is_(None), Zone.publishing_until <= now))
        .values(publish_claim=token, publishing_until=now + LEASE)
        .returning(Zone.id)
        .execution_options(synchronize_session=False)).first()
    return token if won is not None else None


def held(zone_id: int, token: str) -> Zone | None:
    """The zone, locked and fresh, if ``token`` still claims it (an expired lease nobody
    else took is still ours: nobody can have interleaved)."""
    zone = lock_row(Zone, zone_id)
    return zone if zone is not None and zone.publish_claim == token else None


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


def end_reads() -> None:
    """Commit what the job has read so far (its ``pending_jobs`` check included), so no
    transaction is open across the server call that follows."""
    with unit_of_work():
        pass
