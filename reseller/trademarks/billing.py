"""What protecting a mark costs and how each period is paid.

The operator sets a net EUR price per billing period (month or year) and price list
(prepaid or postpaid, from the reseller's wallet), effective-dated like the domain price
lists. A period is paid up front: the wallet holds net + VAT and captures it at once,
so it is a purchase like a registration and lands on the month's consolidated invoice.
The charge's reference (``tm-<mark>-<period start>``) is unique: a period is never paid
twice, whoever retries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reseller.core.clock import clock
from reseller.core.db import memo
from reseller.core.directory import reseller_profile
from reseller.core.errors import NotFound, ValidationFailed
from reseller.core.extensions import db
from reseller.trademarks.errors import TrademarkPriceMissing
from reseller.trademarks.models import (
    BILLING_PERIODS,
    PRICE_LISTS,
    Trademark,
    TrademarkCharge,
    TrademarkPrice,
)
from wallet import services as wallet
from wallet.money import Money, round_money
from wallet.vat import vat_rate

CURRENCY = "EUR"
# A renewal the wallet cannot pay is retried daily; protection ends after this long.
PAST_DUE_DAYS = 14


@dataclass(frozen=True)
class Price:
    net: Decimal
    vat: Decimal
    total: Decimal
    vat_rate: Decimal
    billing_period: str
    currency: str = CURRENCY

    def as_dict(self) -> dict[str, str]:
        return {"currency": self.currency, "net": f"{self.net:.2f}", "vat": f"{self.vat:.2f}",
                "total": f"{self.total:.2f}", "billing_period": self.billing_period}


def add_period(moment: datetime, billing_period: str) -> datetime:
    """One month or year later (the 31st becomes the month's last day)."""
    months = 12 if billing_period == "year" else 1
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last))


# -- the operator's prices ------------------------------------------------------------------

def set_price(*, billing_period: str, price_list: str, amount: Decimal, effective_from: date,
              staff_id: int | None = None) -> TrademarkPrice:
    """A new price from ``effective_from`` (today or later); earlier rows stay as history.
    A second change for the same day replaces that day's row."""
    errors: dict[str, list] = {}
    if billing_period not in BILLING_PERIODS:
        errors["billing_period"] = [_l("Choose month or year.")]
    if price_list not in PRICE_LISTS:
        errors["price_list"] = [_l("Choose prepaid or postpaid.")]
    if not isinstance(amount, Decimal) or amount < 0 or round_money(amount) != amount \
            or amount >= Decimal("1e9"):
        errors["amount"] = [_l("Give a non-negative amount in whole cents.")]
    if effective_from < clock.today():
        errors["effective_from"] = [_l("A price change cannot start in the past.")]
    if errors:
        raise ValidationFailed(errors)
    row = db.session.scalar(sa.select(TrademarkPrice).where(
        TrademarkPrice.billing_period == billing_period, TrademarkPrice.price_list == price_list,
        TrademarkPrice.effective_from == effective_from))
    if row is None:
        row = TrademarkPrice(billing_period=billing_period, price_list=price_list,
                             effective_from=effective_from)
        db.session.add(row)
    row.amount, row.created_by_id = amount, staff_id
    db.session.flush()
    return row


def price_rows() -> list[TrademarkPrice]:
    """Every price ever set, newest first (the console's history)."""
    return list(db.session.scalars(sa.select(TrademarkPrice).order_by(
        TrademarkPrice.effective_from.desc(), TrademarkPrice.billing_period,
        TrademarkPrice.price_list)))


def list_amount(*, billing_period: str, price_list: str, on: date | None = None) -> Decimal | None:
    return db.session.scalar(
        sa.select(TrademarkPrice.amount)
        .where(TrademarkPrice.billing_period == billing_period,
               TrademarkPrice.price_list == price_list,
               TrademarkPrice.effective_from <= (on or clock.today()))
        .order_by(TrademarkPrice.effective_from.desc()).limit(1))


def _amount_on(price_list: str, billing_period: str, on: date) -> Decimal | None:
    """``list_amount`` from the price list's rows, read once in a ``shared_reads`` block
    (a page of marks, each priced on its own renewal date, reads them once)."""
    rows = memo(("trademark_prices", price_list), lambda: db.session.execute(
        sa.select(TrademarkPrice.billing_period, TrademarkPrice.effective_from,
                  TrademarkPrice.amount)
        .where(TrademarkPrice.price_list == price_list)
        .order_by(TrademarkPrice.effective_from.desc())).all())
    return next((amount for period, start, amount in rows
                 if period == billing_period and start <= on), None)


def quote(*, reseller_id: int, billing_period: str, on: date | None = None) -> Price:
    """The reseller's price for one period starting ``on``, VAT included."""
    on = on or clock.today()
    price_list = wallet.payment_mode_of(reseller_id)
    amount = _amount_on(price_list, billing_period, on)
    if amount is None:
        raise TrademarkPriceMissing(_l("No %(list)s price for trademark protection per "
                                       "%(period)s.", list=price_list, period=billing_period))
    profile = memo(("reseller_profile", reseller_id), lambda: reseller_profile(reseller_id))
    if profile is None:
        raise NotFound()
    rate = vat_rate(vat_status=profile.vat_status, on=on)
    net = round_money(amount)
    vat = round_money(net * rate)
    return Price(net=net, vat=vat, total=net + vat, vat_rate=rate,
                 billing_period=billing_period)


# -- paying a period -------------------------------------------------------------------------

def charge_period(mark: Trademark, start: datetime) -> TrademarkCharge:
    """Pay for the period starting at ``start`` (idempotent: the same period is charged
    once). ``InsufficientFunds``/``CreditLimitExceeded`` propagate, nothing charged."""
    existing = db.session.scalar(sa.select(TrademarkCharge).where(
        TrademarkCharge.trademark_id == mark.id, TrademarkCharge.period_start == start))
    if existing is not None:
        return existing
    end = add_period(start, mark.billing_period)
    price = quote(reseller_id=mark.reseller_id, billing_period=mark.billing_period,
                  on=start.date())
    reference = f"tm-{mark.id}-{start:%Y%m%d%H%M%S}"
    if price.net > 0:
        description = (f"Trademark protection: {mark.mark} "
                       f"({start.date().isoformat()} – {end.date().isoformat()})")
        wallet.hold_funds(reseller_id=mark.reseller_id, net=Money.of(price.net, CURRENCY),
                          vat_rate=price.vat_rate, reference=reference,
                          description=description[:200],
                          item={"operation": "trademark", "trademark_id": mark.id,
                                "billing_period": mark.billing_period})
        wallet.capture_hold(reference=reference)
    charge = TrademarkCharge(trademark_id=mark.id, reseller_id=mark.reseller_id,
                             reference=reference, period_start=start, period_end=end,
                             currency=CURRENCY, net=price.net, vat=price.vat, total=price.total,
                             charged_at=clock.now())
    db.session.add(charge)
    mark.current_period_start, mark.current_period_end = start, end
    db.session.flush()
    return charge


def due_marks(*, now: datetime, limit: int = 500) -> list[int]:
    """Marks whose paid period has ended: to renew, or to end."""
    return list(db.session.scalars(
        sa.select(Trademark.id).where(Trademark.status.in_(("active", "past_due")),
                                      Trademark.current_period_end <= now)
        .order_by(Trademark.current_period_end).limit(limit)))
