"""An application to become a reseller, kept after the decision as the audit trail."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from reseller.core.clock import clock
from reseller.core.extensions import db
from reseller.core.types import UTCDateTime


class Application(db.Model):
    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_name: Mapped[str] = mapped_column(sa.String(200))
    country: Mapped[str] = mapped_column(sa.String(2))
    business_id: Mapped[str] = mapped_column(sa.String(40))
    vat_id: Mapped[str | None] = mapped_column(sa.String(40))
    website: Mapped[str] = mapped_column(sa.String(300))
    street: Mapped[str | None] = mapped_column(sa.String(200))
    city: Mapped[str | None] = mapped_column(sa.String(100))
    postal_code: Mapped[str | None] = mapped_column(sa.String(20))
    contact_name: Mapped[str] = mapped_column(sa.String(200))
    contact_email: Mapped[str] = mapped_column(sa.String(254))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(40))
    language: Mapped[str] = mapped_column(sa.String(2), default="en")
    status: Mapped[str] = mapped_column(sa.String(10), default="pending", index=True)
    decision_note: Mapped[str | None] = mapped_column(sa.Text)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reseller_id: Mapped[int | None] = mapped_column(sa.ForeignKey("resellers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: clock.now())

    __table_args__ = (
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
    )
