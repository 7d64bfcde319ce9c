"""White-label tables: brands, sender domains, the outbox, link tokens, compliance state.

Keyed by plain values (reseller id, email, domain name): the registrant and domain tables
belong to the domains package, which this package never imports.
"""

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


class Brand(db.Model):
    """How a reseller appears to its customers: in email, on the link-domain pages."""

    __tablename__ = "brands"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    logo_url: Mapped[str | None] = mapped_column(sa.String(500))
    primary_color: Mapped[str] = mapped_column(sa.String(7), default="#1f5f8b")
    accent_color: Mapped[str] = mapped_column(sa.String(7), default="#f2f5f8")
    support_email: Mapped[str | None] = mapped_column(sa.String(254))
    support_phone: Mapped[str | None] = mapped_column(sa.String(40))
    support_url: Mapped[str | None] = mapped_column(sa.String(500))
    default_language: Mapped[str] = mapped_column(sa.String(2), default="en")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now, onupdate=_now)

    __table_args__ = (
        sa.CheckConstraint("default_language IN ('fi', 'sv', 'en')", name="language"),
    )


class SenderDomain(db.Model):
    """The reseller's own mail and link domain, its DKIM key and its DNS check results."""

    __tablename__ = "sender_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), unique=True)
    domain: Mapped[str] = mapped_column(sa.String(253), unique=True)
    dkim_selector: Mapped[str] = mapped_column(sa.String(63))
    dkim_private_key: Mapped[str] = mapped_column(EncryptedText)
    dkim_public_key: Mapped[str] = mapped_column(sa.Text)  # base64 DER, the p= value
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")
    checks: Mapped[list] = mapped_column(sa.JSON, default=list)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)

    __table_args__ = (
        sa.CheckConstraint("status IN ('pending', 'verified', 'paused')", name="status"),
    )


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int | None] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    # The event that caused the message; a second send for the same event is a no-op.
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    sender: Mapped[str] = mapped_column(sa.String(254))
    envelope_from: Mapped[str | None] = mapped_column(sa.String(254))
    reply_to: Mapped[str | None] = mapped_column(sa.String(254))
    language: Mapped[str] = mapped_column(sa.String(2))
    template: Mapped[str] = mapped_column(sa.String(100))
    context: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    subject: Mapped[str] = mapped_column(sa.String(300))
    text: Mapped[str] = mapped_column(sa.Text)
    html: Mapped[str | None] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.String(10), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The lease of the send in flight (real time): taken and committed before the SMTP
    # call, which runs with no transaction open; the outcome is written only by the run
    # whose lease this still is, and a lease left by a dead worker expires.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint("state IN ('queued', 'sent', 'failed')", name="state"),
    )


class LinkToken(db.Model):
    """One action a registrant can take from an emailed link; the token signs this id."""

    __tablename__ = "link_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(20))
    subject: Mapped[str] = mapped_column(sa.String(254))  # an email address or domain name
    language: Mapped[str] = mapped_column(sa.String(2))
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)

    __table_args__ = (
        sa.CheckConstraint(
            "purpose IN ('confirm_email', 'transfer_in', 'transfer_out', 'renewal', "
            "'owner_change')",
            name="purpose"),
    )


class RegistrantVerification(db.Model):
    """Whois-accuracy email verification of one registrant address at one reseller."""

    __tablename__ = "registrant_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    language: Mapped[str] = mapped_column(sa.String(2))
    state: Mapped[str] = mapped_column(sa.String(10), default="pending")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint("reseller_id", "email"),
        sa.CheckConstraint("state IN ('pending', 'verified', 'overdue')", name="state"),
    )


class VerificationDomain(db.Model):
    """A name registered for a registrant address while its verification was open (the
    names its suspension, or the lifting of it, applies to).

    A row per name, added with one INSERT and no lock on the verification: as a list in
    the verification's row, every registration read the whole list under a row lock and
    wrote it back grown, so a registrant with many new names made each registration
    slower than the last, and registrations of one registrant waited on each other."""

    __tablename__ = "registrant_verification_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    verification_id: Mapped[int] = mapped_column(
        sa.ForeignKey("registrant_verifications.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(sa.String(253))

    __table_args__ = (sa.UniqueConstraint("verification_id", "domain"),)


class RenewalWatch(db.Model):
    """A domain whose expiry we remind the registrant about (fed by domain events)."""

    __tablename__ = "renewal_watches"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    domain: Mapped[str] = mapped_column(sa.String(253))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    language: Mapped[str | None] = mapped_column(sa.String(2))

    __table_args__ = (sa.UniqueConstraint("reseller_id", "domain"),)


class ReminderSent(db.Model):
    """Marker: this reminder stage for this expiry date went out (or was skipped)."""

    __tablename__ = "renewal_reminders_sent"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"))
    domain: Mapped[str] = mapped_column(sa.String(253))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stage: Mapped[str] = mapped_column(sa.String(10))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)

    __table_args__ = (sa.UniqueConstraint("reseller_id", "domain", "expires_at", "stage"),)
