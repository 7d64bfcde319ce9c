"""The catalogue's model: each TLD's registry rules (periods, label lengths, IDN, lifecycle
windows, locks), price lists (effective-dated rows, history kept), volume tiers and retail
prices.

TLD rules are code, not data: they describe what the registries allow, change rarely, and
every process must agree on them. Prices, which do change, live in the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from reseller.catalog.errors import InvalidPeriod, OperationNotOffered, UnsupportedTld
from reseller.core.clock import clock
from reseller.core.extensions import db
from reseller.core.types import UTCDateTime

PRICE_LISTS = ("prepaid", "postpaid")
OPERATIONS = ("register", "renew", "transfer", "restore", "owner_change")
# Operations priced per year of the period; the others are one-off fees.
PER_YEAR = frozenset({"register", "renew", "transfer"})


@dataclass(frozen=True)
class TldRules:
    tld: str
    registry: str
    min_period: int
    max_period: int
    min_label: int
    max_label: int
    idn: bool
    auth_code_for_transfer: bool
    grace_days: int  # after expiry: still renewable at the normal price
    redemption_days: int  # after grace: only a restore brings it back
    restore: bool
    transfer_lock_days: int  # after registration or owner change, no transfer out
    delete_allowed: bool
    transfer_adds_year: bool
    operations: tuple[str, ...] = field(default=OPERATIONS)
    # Add grace period (RFC 3915): a name deleted this many days after its registration
    # is gone at once (the registry answers 1000) and its registration fee is credited.
    add_grace_days: int = 0
    # An owner change waits for the current registrant's confirmation (by e-mail) unless
    # the reseller acts as its designated agent: gTLDs by ICANN's Transfer Policy II.C;
    # .fi/.se/.nu/.eu because the registry's terms make the registrar answerable for the
    # holder's consent (docs/domains.md "Owner change").
    owner_change_consent: bool = True

    @property
    def max_total_years(self) -> int:
        return self.max_period

    def offers(self, operation: str) -> bool:
        if operation == "restore" and not self.restore:
            return False
        return operation in self.operations

    def check_period(self, years: int) -> int:
        if not isinstance(years, int) or not self.min_period <= years <= self.max_period:
            raise InvalidPeriod(
                _l("Period for .%(tld)s must be %(low)s–%(high)s years.", tld=self.tld,
                   low=self.min_period, high=self.max_period),
                min_period=self.min_period, max_period=self.max_period)
        return years

    def require(self, operation: str) -> None:
        if not self.offers(operation):
            raise OperationNotOffered(
                _l(".%(tld)s does not allow %(operation)s.", tld=self.tld,
                   operation=operation.replace("_", " ")), operation=operation)


_GTLD = dict(min_period=1, max_period=10, min_label=1, max_label=63, idn=True,
             auth_code_for_transfer=True, grace_days=45, redemption_days=30, restore=True,
             transfer_lock_days=60, delete_allowed=True, transfer_adds_year=True,
             add_grace_days=5)

TLDS: dict[str, TldRules] = {
    "fi": TldRules("fi", "Traficom", min_period=1, max_period=5, min_label=2, max_label=63,
                   idn=True, auth_code_for_transfer=True, grace_days=30, redemption_days=0,
                   restore=False, transfer_lock_days=0, delete_allowed=True,
                   transfer_adds_year=False),
    "se": TldRules("se", "Internetstiftelsen", min_period=1, max_period=10, min_label=2,
                   max_label=63, idn=True, auth_code_for_transfer=True, grace_days=60,
                   redemption_days=0, restore=False, transfer_lock_days=0,
                   delete_allowed=True, transfer_adds_year=False),
    "nu": TldRules("nu", "Internetstiftelsen", min_period=1, max_period=10, min_label=2,
                   max_label=63, idn=True, auth_code_for_transfer=True, grace_days=60,
                   redemption_days=0, restore=False, transfer_lock_days=0,
                   delete_allowed=True, transfer_adds_year=False),
    "com": TldRules("com", "Verisign", **_GTLD),
    "net": TldRules("net", "Verisign", **_GTLD),
    "org": TldRules("org", "Public Interest Registry", **{**_GTLD, "min_label": 2}),
    "eu": TldRules("eu", "EURid", min_period=1, max_period=10, min_label=2, max_label=63,
                   idn=True, auth_code_for_transfer=True, grace_days=0, redemption_days=40,
                   restore=True, transfer_lock_days=0, delete_allowed=True,
                   transfer_adds_year=True),
}


def rules_for(tld: str) -> TldRules:
    try:
        return TLDS[tld.lower().lstrip(".")]
    except KeyError:
        raise UnsupportedTld(_l("We do not offer .%(tld)s.", tld=tld),
                             supported=sorted(TLDS)) from None


def add_years(moment: datetime, years: int) -> datetime:
    """The same date ``years`` later (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


# -- prices ------------------------------------------------------------------------------


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
