"""Trademark jobs and listeners: renewing (or ending) marks whose paid period is over,
the watch over new registrations and zone files, and each registration checked as soon
as it completes."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from reseller.core.clock import clock
from reseller.core.db import memo, unit_of_work
from reseller.core.events import Event, on_event
from reseller.core.extensions import db
from reseller.core.jobs import enqueue, periodic
from reseller.domains.models import Domain
from reseller.trademarks import billing, services, watch


@periodic("trademarks.renew", "20 * * * *",
          "Charge the next period of protected marks, or end cancelled and unpaid ones")
def renew_trademarks() -> int:
    """Queue one job per mark whose period is over (each in its own unit of work)."""
    ids = billing.due_marks(now=clock.now())
    for trademark_id in ids:
        enqueue("reseller.trademarks.tasks.renew_trademark", trademark_id)
    return len(ids)


def renew_trademark(trademark_id: int) -> None:
    services.renew_or_end(trademark_id)


@periodic("trademarks.watch", "35 * * * *",
          "Match new registrations and the day's zone files against protected marks")
def watch_trademarks() -> dict[str, int]:
    """Tunnus's registrations since the last run, then each TLD's zone file once a day."""
    with unit_of_work():
        own = watch.watch_own_registrations()
    return {watch.OWN: own, **watch.watch_zones(current_app.config)}


@on_event("domain.registered", deferred=True)
def on_registered(event: Event) -> None:
    """A name registered here is matched at once; its mark's holder hears of it now.

    Most registrations match no mark, so the name is matched first, against the marks
    read once per dispatch batch (``memo``: no listener writes marks), and the domain is
    read only for a hit."""
    name = event.data.get("domain")
    if not name:
        return
    matcher = memo(("trademarks", "matcher"), watch.current_matcher)
    if not matcher or not matcher.match(name):
        return
    row = db.session.execute(sa.select(Domain.id, Domain.name)
                             .where(Domain.live_name == name)).first()
    if row is not None:
        watch.watch_registered(row.id, row.name, matcher=matcher)
