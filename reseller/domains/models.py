"""Contacts, domains (our registrar's view of each name), glue hosts and orders."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reseller.core.clock import clock
from reseller.core.crypto import EncryptedText
from reseller.core.extensions import db
from reseller.core.types import UTCDateTime


def _now() -> datetime:
    return clock.now()


def _trigram_index(table: str, column: str) -> sa.Index:
    """A GIN trigram index (PostgreSQL ``pg_trgm``): ``LIKE '%fragment%'`` searches use it
    instead of scanning the table. SQLite has none and scans."""
    return sa.Index(f"ix_{table}_{column}_trgm", column, postgresql_using="gin",
                    postgresql_ops={column: "gin_trgm_ops"}).ddl_if(dialect="postgresql")


class Contact(db.Model):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    handle: Mapped[str] = mapped_column(sa.String(16), unique=True)  # the registry's id
    name: Mapped[str] = mapped_column(sa.String(255))
    organization: Mapped[str | None] = mapped_column(sa.String(255))
    email: Mapped[str] = mapped_column(sa.String(254))
    phone: Mapped[str] = mapped_column(sa.String(20))
    street: Mapped[str] = mapped_column(sa.String(255))
    city: Mapped[str] = mapped_column(sa.String(100))
    postal_code: Mapped[str] = mapped_column(sa.String(20))
    country: Mapped[str] = mapped_column(sa.String(2))
    language: Mapped[str] = mapped_column(sa.String(2), default="en")
    # Identity for registries that need it (.fi, .se, .nu; see ``domains.identity``):
    # the numbers are personal data, encrypted at rest and never published.
    entity_type: Mapped[str | None] = mapped_column(sa.String(30))
    registration_number: Mapped[str | None] = mapped_column(EncryptedText)
    personal_id: Mapped[str | None] = mapped_column(EncryptedText)
    # A person's country of citizenship (ISO 3166-1): EURid takes EU citizens as .eu
    # registrants wherever they live (Regulation (EU) 2019/517, art. 3).
    citizenship: Mapped[str | None] = mapped_column(sa.String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now, onupdate=_now)

    __table_args__ = (
        sa.CheckConstraint("language IN ('fi', 'sv', 'en')", name="language"),
        *(_trigram_index("contacts", column) for column in ("name", "organization", "email")),
    )


DOMAIN_STATUSES = ("active", "expired", "redemption", "deleted", "transferred_out")
LIVE_STATUSES = ("active", "expired", "redemption")


class Domain(db.Model):
    __tablename__ = "domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(253), index=True)  # A-label form
    # Equal to ``name`` while the domain is ours; NULL once deleted or transferred out,
    # so a name is live at most once (NULLs do not collide in a unique index).
    live_name: Mapped[str | None] = mapped_column(sa.String(253), unique=True)
    unicode_name: Mapped[str] = mapped_column(sa.String(253))
    tld: Mapped[str] = mapped_column(sa.String(30), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="active", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    auto_renew: Mapped[bool] = mapped_column(default=True)
    locked: Mapped[bool] = mapped_column(default=False)
    privacy: Mapped[bool] = mapped_column(default=False)
    nameservers: Mapped[list] = mapped_column(sa.JSON, default=list)
    ds: Mapped[list] = mapped_column(sa.JSON, default=list)
    registrant_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id"))
    admin_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"))
    tech_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"))
    transfer_lock_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    transfer_out_pending: Mapped[bool] = mapped_column(default=False)
    # On hold (EPP clientHold: not in DNS) while the registrant's email is unverified.
    suspended: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now, onupdate=_now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the registry says (``domains.sync``): its object id, its RFC 5731 statuses
    # (client and server), when it was last read.
    roid: Mapped[str | None] = mapped_column(sa.String(89))
    registry_statuses: Mapped[list | None] = mapped_column(sa.JSON)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # A registry command whose answer was lost, until its retry or the recovery job
    # resolves it from the registry: {"operation", "transaction_id", "params", "at"}.
    pending_change: Mapped[dict | None] = mapped_column(sa.JSON(none_as_null=True))

    registrant: Mapped[Contact] = relationship(foreign_keys=[registrant_id])
    admin: Mapped[Contact | None] = relationship(foreign_keys=[admin_id])
    tech: Mapped[Contact | None] = relationship(foreign_keys=[tech_id])
    hosts: Mapped[list[Host]] = relationship(back_populates="domain", order_by="Host.name",
                                             cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('active', 'expired', 'redemption', 'deleted', 'transferred_out')",
            name="status"),
        *(_trigram_index("domains", column) for column in ("name", "unicode_name")),
        # An account's names by expiry: the dashboard's "expiring within 60 days", its
        # rows and (index-only) its counts, and the API's ``?expires_before=``
        sa.Index("ix_domains_reseller_status_expires", "reseller_id", "status", "expires_at"),
    )

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES


class Host(db.Model):
    """A glue host under one of our domains (ns1.example.fi with its addresses)."""

    __tablename__ = "domain_hosts"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("domains.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(253))
    addresses: Mapped[list] = mapped_column(sa.JSON, default=list)

    domain: Mapped[Domain] = relationship(back_populates="hosts")

    __table_args__ = (sa.UniqueConstraint("domain_id", "name", name="uq_domain_hosts_name"),)


ORDER_KINDS = ("register", "renew", "transfer", "restore", "owner_change")
ORDER_STATES = ("pending", "held", "completed", "failed")


class Order(db.Model):
    """A paid operation: price → hold → registry → capture or release.

    ``reference`` is both the wallet hold's reference and the registry transaction id, so
    a retry or the recovery job can never charge or act twice.
    """

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    reference: Mapped[str] = mapped_column(sa.String(60), unique=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(255))
    kind: Mapped[str] = mapped_column(sa.String(20))
    domain_name: Mapped[str] = mapped_column(sa.String(253), index=True)
    unicode_name: Mapped[str] = mapped_column(sa.String(253))
    tld: Mapped[str] = mapped_column(sa.String(30))
    period: Mapped[int | None] = mapped_column()
    state: Mapped[str] = mapped_column(sa.String(12), default="pending", index=True)
    premium: Mapped[bool] = mapped_column(default=False)
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    net: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))
    vat: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))
    total: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))
    vat_rate: Mapped[Decimal] = mapped_column(sa.Numeric(6, 4))
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    # Set while the order is open: one open order per name at a time (unique).
    lock_key: Mapped[str | None] = mapped_column(sa.String(253), unique=True)
    domain_id: Mapped[int | None] = mapped_column(sa.ForeignKey("domains.id"), index=True)
    registry_status: Mapped[str | None] = mapped_column(sa.String(30))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now, index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint("reseller_id", "idempotency_key", name="uq_orders_idempotency"),
        sa.CheckConstraint("state IN ('pending', 'held', 'completed', 'failed')", name="state"),
        sa.CheckConstraint(
            "kind IN ('register', 'renew', 'transfer', 'restore', 'owner_change')",
            name="kind"),
    )

    @property
    def is_open(self) -> bool:
        return self.state in ("pending", "held")
