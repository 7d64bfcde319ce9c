"""URL forwards: a host in a hosted zone that Tunnus answers with an HTTP redirect."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from reseller.core.clock import clock
from reseller.core.extensions import db
from reseller.core.types import UTCDateTime


class Forward(db.Model):
    __tablename__ = "url_forwards"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("dns_zones.id", ondelete="CASCADE"),
                                         index=True)
    host: Mapped[str] = mapped_column(sa.String(253))  # relative to the zone, "@" = apex
    fqdn: Mapped[str] = mapped_column(sa.String(253), unique=True)  # what Host: carries
    target: Mapped[str] = mapped_column(sa.String(2000))
    status: Mapped[int] = mapped_column(default=301)
    preserve_path: Mapped[bool] = mapped_column(default=True)
    preserve_query: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: clock.now())

    __table_args__ = (sa.CheckConstraint("status IN (301, 302)", name="status"),)
