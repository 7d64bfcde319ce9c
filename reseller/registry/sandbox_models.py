"""The sandbox registry's own state: what a registry would hold, kept in our database."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from reseller.core.clock import clock
from reseller.core.crypto import EncryptedText
from reseller.core.extensions import db
from reseller.core.types import UTCDateTime


def _now() -> datetime:
    return clock.now()


class SandboxDomain(db.Model):
    __tablename__ = "sandbox_registry_domains"

    name: Mapped[str] = mapped_column(sa.String(253), primary_key=True)
    sponsor: Mapped[str] = mapped_column(sa.String(40))
    auth_code: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    registrant: Mapped[str | None] = mapped_column(sa.String(40))
    admin: Mapped[str | None] = mapped_column(sa.String(40))
    tech: Mapped[str | None] = mapped_column(sa.String(40))
    nameservers: Mapped[list] = mapped_column(sa.JSON, default=list)
    ds: Mapped[list] = mapped_column(sa.JSON, default=list)
    locked: Mapped[bool] = mapped_column(default=False)
    hold: Mapped[bool] = mapped_column(default=False)  # clientHold: not published in DNS
    status: Mapped[str] = mapped_column(sa.String(20), default="ok")  # ok | redemption
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    transfer_status: Mapped[str | None] = mapped_column(sa.String(20))
    transfer_gaining: Mapped[str | None] = mapped_column(sa.String(40))
    transfer_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    transfer_years: Mapped[int | None] = mapped_column()
    # What the registry itself sets (serverHold, serverTransferProhibited, ...): the
    # operator sets them with `flask registry sandbox status`.
    server_statuses: Mapped[list | None] = mapped_column(sa.JSON, default=list)
    roid: Mapped[str | None] = mapped_column(sa.String(89))
    # RFC 3915: a restore asked for (pendingRestore) and waiting for its report.
    restore_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SandboxTransaction(db.Model):
    """Each client transaction id and its result, so a repeated command is answered
    from here instead of acting twice."""

    __tablename__ = "sandbox_registry_transactions"

    id: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    registrar: Mapped[str] = mapped_column(sa.String(40))
    operation: Mapped[str] = mapped_column(sa.String(30))
    name: Mapped[str] = mapped_column(sa.String(253))
    ok: Mapped[bool] = mapped_column()
    code: Mapped[int] = mapped_column()
    message: Mapped[str] = mapped_column(sa.String(300))
    result: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)


class SandboxHost(db.Model):
    __tablename__ = "sandbox_registry_hosts"

    name: Mapped[str] = mapped_column(sa.String(253), primary_key=True)
    sponsor: Mapped[str] = mapped_column(sa.String(40))
    addresses: Mapped[list] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=_now)


class SandboxContact(db.Model):
    __tablename__ = "sandbox_registry_contacts"

    handle: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    sponsor: Mapped[str] = mapped_column(sa.String(40))
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # Identity numbers (JSON), encrypted like ours: the sandbox shares our database.
    identity: Mapped[str | None] = mapped_column(EncryptedText)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=_now)


class SandboxMessage(db.Model):
    """The poll queue: messages for one registrar, acknowledged once handled."""

    __tablename__ = "sandbox_registry_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    registrar: Mapped[str] = mapped_column(sa.String(40), index=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    name: Mapped[str] = mapped_column(sa.String(253))
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
