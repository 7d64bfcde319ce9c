"""Failure counters with temporary locks, shared by every worker: count failed attempts
per key (an account, an OAuth client, an address) and lock a key for a while once it has
failed ``limit`` times within ``window``.

State lives in Redis when ``REDIS_URL`` is set and in the ``auth_throttles`` table
otherwise (the embedded default has no Redis), so gunicorn workers see the same counts.
Times come from ``clock`` (the time machine moves locks too). Keys are stored hashed: the
store never holds an e-mail address or a client id.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from reseller.core.clock import clock, utc
from reseller.core.db import for_update, insert_unless_exists
from reseller.core.extensions import db
from reseller.core.types import UTCDateTime

REDIS_PREFIX = "tunnus-throttle:"


@dataclass(frozen=True)
class Rule:
    limit: int  # failures within ``window`` seconds that lock the key
    window: int
    lock: int  # seconds the key stays locked


def throttle_key(kind: str, subject: str) -> str:
    return hashlib.sha256(f"{kind}:{subject}".encode()).hexdigest()


def seconds_until(moment: datetime) -> int:
    """Whole seconds from now until ``moment`` (at least 1: a Retry-After of 0 invites a
    retry that would still be refused)."""
    return max(1, math.ceil((moment - clock.now()).total_seconds()))


class ThrottleStore(Protocol):
    def locked_until(self, key: str) -> datetime | None:
        """The end of the key's lock, or None when it is not locked now."""

    def fail(self, key: str, rule: Rule) -> datetime | None:
        """Count one failure; the lock's end when this failure locked the key."""

    def clear(self, key: str) -> None:
        """Forget the key's failures (a lock stays)."""


class AuthThrottle(db.Model):
    """The database store's row per key (see the module docstring)."""

    __tablename__ = "auth_throttles"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class DatabaseStore:
    """Rows in ``auth_throttles``; the caller commits (in a unit of work of its own, so a
    refused request's rollback does not take the count with it)."""

    def locked_until(self, key: str) -> datetime | None:
        until = utc(db.session.scalar(
            sa.select(AuthThrottle.locked_until).where(AuthThrottle.key == key)))
        return until if until is not None and until > clock.now() else None

    def fail(self, key: str, rule: Rule) -> datetime | None:
        now = clock.now()
        insert_unless_exists(AuthThrottle, key=key, failures=0, window_ends_at=now,
                             locked_until=None)
        row = db.session.scalars(for_update(
            sa.select(AuthThrottle).where(AuthThrottle.key == key))).one()
        if row.locked_until is not None and utc(row.locked_until) > now:
            return None
        if utc(row.window_ends_at) <= now:
            row.failures, row.window_ends_at = 0, now + timedelta(seconds=rule.window)
        row.failures += 1
        locked = None
        if row.failures >= rule.limit:
            row.failures, locked = 0, now + timedelta(seconds=rule.lock)
            row.locked_until = locked
        db.session.flush()
        return locked

    def clear(self, key: str) -> None:
        db.session.execute(sa.update(AuthThrottle).where(AuthThrottle.key == key)
                           .values(failures=0))

    def reset(self) -> None:
        """Tests: nothing to do, every test's rows are rolled back."""


class RedisStore:
    """Two keys per throttle key: the failure count (expiring with its window) and the lock
    (holding its end as a timestamp, so the time machine can end it early)."""

    def __init__(self, connection: Any) -> None:
        self.redis = connection

    def _lock(self, key: str) -> datetime | None:
        raw = self.redis.get(REDIS_PREFIX + "lock:" + key)
        return None if raw is None else datetime.fromtimestamp(float(raw), UTC)

    def locked_until(self, key: str) -> datetime | None:
        until = self._lock(key)
        return until if until is not None and until > clock.now() else None

    def fail(self, key: str, rule: Rule) -> datetime | None:
        lock_key, count_key = REDIS_PREFIX + "lock:" + key, REDIS_PREFIX + "count:" + key
        until = self._lock(key)
        if until is not None:
            if until > clock.now():
                return None
            self.redis.delete(lock_key)  # ended early by the time machine
        pipe = self.redis.pipeline()
        pipe.set(count_key, 0, ex=rule.window, nx=True)
        pipe.incr(count_key)
        _, failures = pipe.execute()
        if failures < rule.limit:
            return None
        until = clock.now() + timedelta(seconds=rule.lock)
        # NX: of two workers reaching the limit together, one records the lock.
        if not self.redis.set(lock_key, until.timestamp(), ex=rule.lock, nx=True):
            return None
        self.redis.delete(count_key)
        return until

    def clear(self, key: str) -> None:
        self.redis.delete(REDIS_PREFIX + "count:" + key)

    def reset(self) -> None:
        """Tests: forget every counter and lock."""
        keys = list(self.redis.scan_iter(match=REDIS_PREFIX + "*"))
        if keys:
            self.redis.delete(*keys)


def store_from_config(config: dict[str, Any]) -> DatabaseStore | RedisStore:
    if config.get("REDIS_URL"):
        from redis import Redis

        return RedisStore(Redis.from_url(config["REDIS_URL"]))
    return DatabaseStore()


def purge_expired() -> int:
    """Delete database rows whose window and lock have both passed."""
    now = clock.now()
    result = db.session.execute(sa.delete(AuthThrottle).where(
        AuthThrottle.window_ends_at <= now,
        sa.or_(AuthThrottle.locked_until.is_(None), AuthThrottle.locked_until <= now)))
    return result.rowcount or 0
