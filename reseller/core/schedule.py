"""When periodic work is due: ``@periodic`` cron expressions read by the one clock.

The business clock decides (``clock.now()``: in sandbox mode the time machine moves it, so
month end fires when the sandbox clock passes it). What fired last is a row per job in
``periodic_runs``, locked while it is read and advanced, so a restarted scheduler neither
repeats nor skips a run, and two schedulers never fire the same one. A job whose due time
passed while nothing was running fires once, not once per missed time. Firing is
``enqueue``: with RQ the job is owed in the same transaction that advances its row.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from croniter import croniter
from sqlalchemy.orm import Mapped, mapped_column

from reseller.core.db import for_update, insert_unless_exists
from reseller.core.extensions import db
from reseller.core.types import UTCDateTime

PERIODIC_RETRIES = 3


class PeriodicRun(db.Model):
    """The last cron time a periodic job fired for (by the business clock)."""

    __tablename__ = "periodic_runs"

    name: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    last_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def latest_due(cron: str, now: datetime) -> datetime:
    """The latest time at or before ``now`` that ``cron`` names."""
    after = croniter(cron, now).get_prev(datetime)
    following = croniter(cron, after).get_next(datetime)
    return following if following <= now else after


def fire_due(*, now: datetime, jobs: dict, fire: object) -> list[str]:
    """Fire (``fire(path)``) every job in ``jobs`` whose cron time passed since it last
    fired; the names fired. A job seen for the first time starts from now: it fires at
    its next cron time, not at once. Run inside a unit of work."""
    rows = {row.name: row for row in db.session.scalars(for_update(sa.select(PeriodicRun)))}
    fired = []
    for job in jobs.values():
        due = latest_due(job.cron, now)
        row = rows.get(job.name)
        if row is None:
            insert_unless_exists(PeriodicRun, name=job.name, last_due_at=due, fired_at=None)
            continue
        if due > row.last_due_at:
            row.last_due_at, row.fired_at = due, datetime.now(UTC)
            fire(job.path)  # type: ignore[operator]
            fired.append(job.name)
    return fired


def last_runs() -> dict[str, PeriodicRun]:
    return {row.name: row for row in db.session.scalars(sa.select(PeriodicRun))}
