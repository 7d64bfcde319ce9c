"""Webhook endpoints, one delivery per (event, endpoint), and each attempt's outcome."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reseller.core.clock import clock
from reseller.core.crypto import EncryptedText
from reseller.core.extensions import db
from reseller.core.types import UTCDateTime


def _now() -> datetime:
    return clock.now()


class WebhookEndpoint(db.Model):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    description: Mapped[str] = mapped_column(sa.String(200), default="")
    # Subscribed event types; empty means every event type.
    events: Mapped[list] = mapped_column(sa.JSON, default=list)
    secret: Mapped[str] = mapped_column(EncryptedText)  # "whsec_" + base64, as the spec has it
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def wants(self, event_type: str, offered: tuple[str, ...]) -> bool:
        """Subscribed to ``event_type``; an empty list means every offered type."""
        if not self.active or self.deleted_at is not None:
            return False
        return event_type in (self.events or offered)


class WebhookDelivery(db.Model):
    """One message to one endpoint; ``status`` is pending until delivered or given up."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    endpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_endpoints.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("events.id"))
    event_type: Mapped[str] = mapped_column(sa.String(60))
    message_id: Mapped[str] = mapped_column(sa.String(60), unique=True)
    payload: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_status_code: Mapped[int | None] = mapped_column(sa.Integer)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    # The lease of the attempt in flight (real time), as on outbox messages: the POST runs
    # with no transaction open and only the run holding the lease records its outcome.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replay_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("webhook_deliveries.id"))

    endpoint: Mapped[WebhookEndpoint] = relationship()
    attempt_log: Mapped[list[WebhookAttempt]] = relationship(
        order_by="WebhookAttempt.id", back_populates="delivery")

    __table_args__ = (
        sa.CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status"),
    )


class WebhookAttempt(db.Model):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_deliveries.id"), index=True)
    number: Mapped[int] = mapped_column()
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    status_code: Mapped[int | None] = mapped_column(sa.Integer)
    error: Mapped[str | None] = mapped_column(sa.String(500))
    response_body: Mapped[str | None] = mapped_column(sa.String(1000))
    duration_ms: Mapped[int] = mapped_column(default=0)

    delivery: Mapped[WebhookDelivery] = relationship(back_populates="attempt_log")

    __table_args__ = (sa.UniqueConstraint("delivery_id", "number"),)
