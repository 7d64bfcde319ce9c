"""Resellers, their users (and operator staff), and machine credentials."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reseller.core.clock import clock
from reseller.core.crypto import EncryptedText
from reseller.core.extensions import db
from reseller.core.types import UTCDateTime
from wallet.services import payment_mode_of


def _now() -> datetime:
    return clock.now()


class Reseller(db.Model):
    __tablename__ = "resellers"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_name: Mapped[str] = mapped_column(sa.String(200))
    country: Mapped[str] = mapped_column(sa.String(2))
    business_id: Mapped[str] = mapped_column(sa.String(40))
    vat_id: Mapped[str | None] = mapped_column(sa.String(40))
    street: Mapped[str | None] = mapped_column(sa.String(200))
    city: Mapped[str | None] = mapped_column(sa.String(100))
    postal_code: Mapped[str | None] = mapped_column(sa.String(20))
    website: Mapped[str | None] = mapped_column(sa.String(300))
    contact_email: Mapped[str] = mapped_column(sa.String(254))
    billing_email: Mapped[str | None] = mapped_column(sa.String(254))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(40))
    einvoice_address: Mapped[str | None] = mapped_column(sa.String(60))
    language: Mapped[str] = mapped_column(sa.String(2), default="en")
    tier: Mapped[str] = mapped_column(sa.String(20), default="standard")
    status: Mapped[str] = mapped_column(sa.String(12), default="active")
    closing_reason: Mapped[str | None] = mapped_column(sa.Text)
    closing_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closing_requested_by_id: Mapped[int | None] = mapped_column(sa.Integer)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    personal_data_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)

    users: Mapped[list[User]] = relationship(back_populates="reseller")

    @property
    def payment_mode(self) -> str:
        """Owned by the wallet ("prepaid" until a wallet exists)."""
        return payment_mode_of(self.id)

    __table_args__ = (
        sa.CheckConstraint("status IN ('active', 'closing', 'closed')", name="status"),
        sa.CheckConstraint("language IN ('fi', 'sv', 'en')", name="language"),
    )


class User(db.Model):
    """A person who signs in: a reseller's user (with a role) or operator staff."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int | None] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    role: Mapped[str] = mapped_column(sa.String(12))
    is_operator: Mapped[bool] = mapped_column(default=False)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    language: Mapped[str | None] = mapped_column(sa.String(2))
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText)
    totp_enabled: Mapped[bool] = mapped_column(default=False)
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    reseller: Mapped[Reseller | None] = relationship(back_populates="users")

    __table_args__ = (
        sa.CheckConstraint(
            "(is_operator AND reseller_id IS NULL AND role IN ('staff', 'superuser'))"
            " OR (NOT is_operator AND reseller_id IS NOT NULL"
            " AND role IN ('owner', 'admin', 'billing', 'technical'))",
            name="kind_role",
        ),
    )


def scope_set(scopes: str) -> frozenset[str]:
    """The scopes of a stored, space-separated scope string (RFC 6749 §3.3)."""
    return frozenset(scopes.split())


class OAuthClient(db.Model):
    """OAuth2 client-credentials client of a reseller. The secret is stored hashed."""

    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    client_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(sa.String(128))
    name: Mapped[str] = mapped_column(sa.String(100))
    scopes: Mapped[str] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    reseller: Mapped[Reseller] = relationship()

    @property
    def scope_set(self) -> frozenset[str]:
        return scope_set(self.scopes)


class AccessToken(db.Model):
    """A bearer token: issued to an OAuth client, or a user's personal API token.

    Only a SHA-256 of the token is kept, so a database leak does not leak credentials.
    """

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(10))  # "oauth" | "personal"
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("oauth_clients.id"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    prefix: Mapped[str] = mapped_column(sa.String(16))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scopes: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship()
    client: Mapped[OAuthClient | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("kind IN ('oauth', 'personal')", name="kind"),
    )

    @property
    def scope_set(self) -> frozenset[str]:
        return scope_set(self.scopes)


class RecoveryCode(db.Model):
    """A one-time code that stands in for a TOTP code (a lost phone). Only a hash is kept;
    issuing a new set deletes the old one."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.UniqueConstraint("user_id", "code_hash", name="uq_recovery_code"),)


class AccountChange(db.Model):
    """Who changed what on an account and when, from which value to which: company,
    contact and billing details, and users' sign-in details (a password change records
    that it happened, never a value). The account page shows them."""

    __tablename__ = "account_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int | None] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))  # whose detail
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_email: Mapped[str] = mapped_column(sa.String(254), default="")
    field: Mapped[str] = mapped_column(sa.String(40))
    old_value: Mapped[str | None] = mapped_column(sa.Text)
    new_value: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now, index=True)
