"""The EPP client's journal: every command that carries one of our transaction ids,
written (committed on its own connection) before it is sent and completed when the answer
arrives. Real registries do not promise to answer a repeated clTRID from a record, so this
is what lets ``transaction(id)`` and a retry know whether a command was sent, and what it
was, when the answer was lost."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from reseller.core.clock import clock
from reseller.core.extensions import db
from reseller.core.types import UTCDateTime

log = logging.getLogger(__name__)


class EppCommand(db.Model):
    __tablename__ = "epp_commands"

    id: Mapped[str] = mapped_column(sa.String(120), primary_key=True)  # our clTRID
    registry_name: Mapped[str] = mapped_column("registry", sa.String(40))
    command: Mapped[str] = mapped_column(sa.String(30))
    name: Mapped[str] = mapped_column(sa.String(253))
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    code: Mapped[int | None] = mapped_column()
    message: Mapped[str | None] = mapped_column(sa.String(300))
    result: Mapped[dict | None] = mapped_column(sa.JSON)


@dataclass(frozen=True)
class Entry:
    id: str
    registry: str
    command: str
    name: str
    params: dict
    sent_at: datetime
    code: int | None
    message: str | None
    result: dict | None

    @property
    def answered(self) -> bool:
        return self.code is not None


TABLE = EppCommand.__table__


@contextmanager
def _connection() -> Iterator[sa.Connection]:
    """A connection that commits on its own: the caller's unit of work may roll back,
    but what was sent to a registry stays sent.

    SQLite (the embedded default) has one writer at a time and every transaction takes
    the write lock at BEGIN, so while the caller's own transaction is open a second
    connection would wait for it forever: there the journal rides in the caller's
    transaction instead (and is lost with it on a rollback)."""
    if db.engine.dialect.name == "sqlite" and db.session().in_transaction():
        yield db.session.connection()
        return
    with db.engine.begin() as connection:
        yield connection


def _write(statement: sa.Executable) -> None:
    with _connection() as connection:
        connection.execute(statement)


def get(transaction_id: str) -> Entry | None:
    with _connection() as connection:
        row = connection.execute(sa.select(TABLE).where(TABLE.c.id == transaction_id)).first()
    if row is None:
        return None
    return Entry(row.id, row.registry, row.command, row.name, dict(row.params or {}),
                 row.sent_at, row.code, row.message, row.result)


def sending(*, transaction_id: str, registry: str, command: str, name: str,
            params: dict) -> None:
    """Record that the command is about to be sent (again)."""
    values = {"registry": registry, "command": command, "name": name, "params": params,
              "sent_at": clock.now(), "answered_at": None, "code": None, "message": None,
              "result": None}
    with _connection() as connection:
        updated = connection.execute(TABLE.update().where(TABLE.c.id == transaction_id)
                                     .values(**values)).rowcount
        if not updated:
            connection.execute(TABLE.insert().values(id=transaction_id, **values))


def answered(transaction_id: str, *, code: int, message: str, result: dict | None) -> None:
    _write(TABLE.update().where(TABLE.c.id == transaction_id).values(
        answered_at=clock.now(), code=code, message=message[:300], result=result))


def forget(transaction_id: str) -> None:
    """The registry said the command was not carried out (2400/25xx): a retry sends it
    afresh."""
    _write(TABLE.delete().where(TABLE.c.id == transaction_id))
