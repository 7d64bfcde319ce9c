"""Spies on the calls that leave the process (the registry, payment providers): each call
is recorded with whether the caller's session had a database transaction open at that
moment, and which writes (INSERT, UPDATE, DELETE, row locks) that transaction had made:
a write gives a PostgreSQL transaction its id, and an id held across a slow call holds
back every reseller's event feed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm

from reseller.core.extensions import db

_WRITES = ("insert", "update", "delete")
_written: list[str] = []  # since the current transaction began (tests run one at a time)


def session_state() -> bool:
    """Whether the calling session holds a transaction open right now."""
    return db.session().in_transaction()


def writes_so_far() -> list[str]:
    """The writes of the transaction open now (none open: none)."""
    return list(_written) if session_state() else []


@contextmanager
def watching_writes(engine: Any) -> Iterator[None]:
    """Keep ``writes_so_far`` up to date while the block runs."""

    sessions: set[int] = set()  # the connections sessions run their transactions on

    def began(_session: Any, _transaction: Any, connection: Any) -> None:
        _written.clear()
        sessions.add(id(connection))

    def executed(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # A session's writes only: a short transaction of its own on another connection
        # (an API token's last use) holds nothing across the call.
        text = statement.lstrip().lower()
        if id(conn) in sessions and (text.startswith(_WRITES) or "for update" in text):
            _written.append(statement.split("\n")[0][:120])

    sa.event.listen(sa.orm.Session, "after_begin", began)
    sa.event.listen(engine, "before_cursor_execute", executed)
    try:
        yield
    finally:
        sa.event.remove(engine, "before_cursor_execute", executed)
        sa.event.remove(sa.orm.Session, "after_begin", began)
        _written.clear()


class RegistrySpy:
    """Stands in front of the app's registry (``app.extensions["tunnus.registry"]``, as
    the EPP tests swap registries) and passes every call through."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry
        self.calls: list[tuple[str, bool]] = []
        self.writes: list[tuple[str, list[str]]] = []  # (call, writes before it)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.registry, name)
        if name.startswith("_") or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, session_state()))
            self.writes.append((name, writes_so_far()))
            return attr(*args, **kwargs)

        return call

    def made(self, name: str) -> list[bool]:
        """``in_transaction`` at each call of ``name``."""
        return [open_ for called, open_ in self.calls if called == name]

    def in_transaction(self) -> list[str]:
        return [name for name, open_ in self.calls if open_]

    def written_before(self, name: str) -> list[list[str]]:
        """The writes made by the transaction open at each call of ``name``."""
        return [writes for called, writes in self.writes if called == name]


@contextmanager
def spy_on_registry(app: Any) -> Iterator[RegistrySpy]:
    original = app.extensions["tunnus.registry"]
    spy = RegistrySpy(original)
    app.extensions["tunnus.registry"] = spy
    try:
        with watching_writes(db.engine):
            yield spy
    finally:
        app.extensions["tunnus.registry"] = original


def spy_on_methods(monkeypatch: Any, cls: type, *names: str,
                   writes: list[tuple[str, list[str]]] | None = None) -> list[tuple[str, bool]]:
    """Record ``(name, in_transaction)`` at each call of ``cls.<name>`` (payment adapters:
    ``wallet.payments.adapter`` builds a new instance per call); with ``writes`` (inside
    ``watching_writes``), also ``(name, writes made before it)``."""
    calls: list[tuple[str, bool]] = []
    for name in names:
        original = getattr(cls, name)

        def call(self: Any, *args: Any, _name: str = name, _original: Any = original,
                 **kwargs: Any) -> Any:
            calls.append((_name, session_state()))
            if writes is not None:
                writes.append((_name, writes_so_far()))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, name, call)
    return calls


def idle_probe(engine: Any, table: str, row_id: int) -> tuple[dict[str, Any], Any]:
    """(seen, look): ``look(_)``, called while a send is on the wire, notes in ``seen``
    how many backends of this database hold a transaction id (``xids``) and whether the
    row ``table.id = row_id`` is locked (``locked``), as another connection sees them."""
    seen: dict[str, Any] = {}

    def look(_n: Any) -> None:
        with engine.connect() as other:
            seen["xids"] = other.scalar(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_xid IS NOT NULL "
                "AND datname = current_database()"))
            seen["locked"] = other.execute(sa.text(
                f"SELECT id FROM {table} WHERE id = :id FOR UPDATE SKIP LOCKED"),  # noqa: S608 (our table)
                {"id": row_id}).all() == []
            other.rollback()

    return seen, look
