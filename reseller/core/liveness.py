"""Who is alive: heartbeats of workers and the scheduler, kept in Redis with a short TTL.

RQ's own worker key lives for the job's timeout plus a minute while a job runs, so a
killed worker looks alive for up to eleven minutes. Ours beat every few seconds from a
thread of their own and expire ``TTL`` seconds after the last beat, so the relay
(``reseller.core.pending``) hands a killed worker's job to another within seconds, and
``/readyz`` tells whether workers and the scheduler are there.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

log = logging.getLogger(__name__)

TTL = 10
BEAT_EVERY = 3.0
WORKER_KEY = "tunnus:alive:worker:"
SCHEDULER_KEY = "tunnus:alive:scheduler"


def worker_alive(connection: Any, worker_name: str | None) -> bool:
    return bool(worker_name) and bool(connection.exists(WORKER_KEY + worker_name))


def alive_workers(connection: Any) -> list[str]:
    return sorted(key.decode()[len(WORKER_KEY):]
                  for key in connection.scan_iter(match=WORKER_KEY + "*", count=500))


def scheduler_beat(connection: Any) -> float | None:
    """Seconds since the scheduler's last beat, or None if it has not beaten lately."""
    value = connection.get(SCHEDULER_KEY)
    return None if value is None else max(0.0, time.time() - float(value))


class Heart:
    """A daemon thread that sets ``key`` every ``BEAT_EVERY`` seconds; a beat that fails
    (Redis down) is skipped, never fatal."""

    def __init__(self, connection: Any, key: str) -> None:
        self.connection, self.key = connection, key
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> bool:
        try:
            self.connection.set(self.key, repr(time.time()), ex=TTL)
            return True
        except Exception:  # redis errors of any kind: try again next beat
            log.debug("heartbeat %s failed", self.key, exc_info=True)
            return False

    def start(self) -> Heart:
        self.beat()
        self._thread = threading.Thread(target=self._loop, name="tunnus-heart", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        try:
            self.connection.delete(self.key)
        except Exception:  # noqa: S110 (going away anyway; the TTL removes it)
            pass

    def _loop(self) -> None:
        while not self._stop.wait(BEAT_EVERY):
            self.beat()
