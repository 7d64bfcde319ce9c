"""The one clock. All code reads the time from ``clock.now()`` (business time), or from
``clock.real_now()`` where a third party checks the time against its own clock.

In sandbox mode the time machine (``flask clock set/advance``) stores an offset in the
database; every process reads it from there (cached for a second), so a demo can move a
running server to next month. Outside sandbox mode the offset is always zero.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from reseller.core.errors import DomainError
from reseller.core.extensions import db

_CACHE_SECONDS = 1.0


class SandboxClock(db.Model):
    """A single row holding the time machine's offset from real time."""

    __tablename__ = "sandbox_clock"
    id: Mapped[int] = mapped_column(primary_key=True)
    offset_seconds: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class TimeMachineDisabled(DomainError):
    status = 409
    code = "time_machine_disabled"
    title = "The time machine works only in sandbox mode"


class _Clock:
    def __init__(self) -> None:
        self.sandbox = False
        self._offset = timedelta(0)
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def configure(self, *, sandbox: bool) -> None:
        self.sandbox = sandbox
        self._offset = timedelta(0)
        self._loaded_at = 0.0

    def now(self) -> datetime:
        """The current time, timezone-aware UTC, moved by the sandbox offset."""
        return datetime.now(UTC) + self.offset()

    def real_now(self) -> datetime:
        """Real time, never moved by the time machine: for what a third party checks
        against its own clock (webhook signatures' timestamps, tokens others verify) and
        for timing processes (heartbeats, job ages)."""
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().date()

    def offset(self) -> timedelta:
        if not self.sandbox:
            return timedelta(0)
        if time.monotonic() - self._loaded_at > _CACHE_SECONDS:
            self._reload()
        return self._offset

    def _reload(self) -> None:
        """Read the offset again, never making a request wait.

        Called from deep inside requests that may hold row locks and have changes not yet
        flushed. So the read does not autoflush (a flush here could wait on a row lock
        held by another thread of this process, and that thread waiting for this reload
        would be a deadlock PostgreSQL cannot see), and a thread that finds a reload
        under way keeps the cached offset instead of waiting for it.
        """
        if not self._lock.acquire(blocking=False):
            return
        try:
            try:
                # Through the session, not a new connection: on SQLite a second connection
                # would wait for the write lock the current transaction holds.
                with db.session.no_autoflush:
                    seconds = db.session.scalar(
                        sa.select(SandboxClock.offset_seconds).where(SandboxClock.id == 1))
            except (sa.exc.OperationalError, sa.exc.ProgrammingError):  # not migrated yet
                db.session.rollback()
                seconds = None
            self._offset = timedelta(seconds=seconds or 0)
            self._loaded_at = time.monotonic()
        finally:
            self._lock.release()

    def set_offset(self, offset: timedelta) -> None:
        """Store a new offset (caller commits). Refused outside sandbox mode."""
        if not self.sandbox:
            raise TimeMachineDisabled()
        row = db.session.get(SandboxClock, 1)
        if row is None:
            row = SandboxClock(id=1, offset_seconds=0)
            db.session.add(row)
        row.offset_seconds = round(offset.total_seconds())
        db.session.flush()
        self._offset = timedelta(seconds=row.offset_seconds)
        self._loaded_at = time.monotonic()

    def set(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        # From the start of the current real second, so the clock reads at or after ``moment``.
        self.set_offset(moment - datetime.now(UTC).replace(microsecond=0))
        return self.now()

    def advance(self, delta: timedelta) -> datetime:
        if not self.sandbox:
            raise TimeMachineDisabled()
        row = db.session.get(SandboxClock, 1, with_for_update=True)
        current = timedelta(seconds=row.offset_seconds) if row else timedelta(0)
        self.set_offset(current + delta)
        return self.now()


clock = _Clock()

_DURATION = re.compile(r"^\s*(\d+)\s*([wdhms])\s*$")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``2w``, ``90m``, ``15s`` → timedelta."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30d, 12h, 2w)")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def utc(moment: datetime | None) -> datetime | None:
    """Normalise a datetime read back from the database to aware UTC (SQLite drops tzinfo)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
