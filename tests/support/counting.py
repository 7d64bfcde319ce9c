"""Counting what a piece of work sends: the SQL statements it executes, and the jobs RQ
runs for it (tests may assert counts; they never time anything)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from reseller.core import jobs
from reseller.core.extensions import db


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every statement the app's engine executes in the block, one line each, upper case
    (``[s for s in seen if s.startswith("INSERT INTO EVENTS")]``)."""
    seen: list[str] = []

    def note(conn, cursor, statement, *args) -> None:
        seen.append(" ".join(statement.split()).upper())

    sa.event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", note)


@contextmanager
def jobs_run() -> Iterator[list[str]]:
    """The path of every job an RQ worker runs in the block (``jobs.run_queued``)."""
    ran: list[str] = []
    original = jobs.run_queued

    def counting(path, args):
        ran.append(path)
        return original(path, args)

    jobs.run_queued = counting
    try:
        yield ran
    finally:
        jobs.run_queued = original
