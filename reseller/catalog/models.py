"""Price lists (effective-dated rows, history kept), volume tiers and retail prices."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from reseller.core.clock import clock
from reseller.core.extensions import db
from reseller.core.types import UTCDateTime

PRICE_LISTS = ("prepaid", "postpaid")


class Tier(db.Model):
    """A volume tier; a reseller moves up when its trailing-12-month purchases pass
    ``threshold`` (net EUR)."""

    __tablename__ = "catalog_tiers"

    code: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    rank: Mapped[int] = mapped_column(unique=True)
    threshold: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))
    # The API rate-limit tier (a key of RATE_LIMITS) of the resellers in this tier.
    rate_limit: Mapped[str] = mapped_column(sa.String(20), default="standard",
                                            server_default="standard")


class Price(db.Model):
    """One net EUR price: per year for register/renew/transfer, per operation otherwise.

    A change is a new row with a later ``effective_from``; rows are never updated, so the
    price on any past date can be read back.
    """

    __tablename__ = "catalog_prices"

    id: Mapped[int] = mapped_column(primary_key=True)
    tld: Mapped[str] = mapped_column(sa.String(30))
    operation: Mapped[str] = mapped_column(sa.String(20))
    price_list: Mapped[str] = mapped_column(sa.String(10))
    tier: Mapped[str] = mapped_column(sa.ForeignKey("catalog_tiers.code"))
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2))
    effective_from: Mapped[date] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: clock.now())
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    __table_args__ = (
        sa.UniqueConstraint("tld", "operation", "price_list", "tier", "effective_from",
                            name="uq_catalog_prices_key"),
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
        sa.CheckConstraint("price_list IN ('prepaid', 'postpaid')", name="price_list"),
        sa.Index("ix_catalog_prices_lookup", "tld", "operation", "price_list", "tier",
                 "effective_from"),
    )


class RetailPrice(db.Model):
    """What a reseller charges its own customers: a fixed price per TLD and operation,
    or (``tld == "*"``) a markup percentage over its own cost for every TLD."""

    __tablename__ = "catalog_retail_prices"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    tld: Mapped[str] = mapped_column(sa.String(30))
    operation: Mapped[str] = mapped_column(sa.String(20))
    amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))
    markup_percent: Mapped[Decimal | None] = mapped_column(sa.Numeric(7, 2))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: clock.now(),
                                                 onupdate=lambda: clock.now())

    __table_args__ = (
        sa.UniqueConstraint("reseller_id", "tld", "operation", name="uq_catalog_retail_key"),
    )
