"""Prices: the caller's price for an operation (with VAT), price-list changes, tiers and
retail prices. The price list (prepaid/postpaid) comes from the reseller's wallet."""

from __future__ import annotations

import re
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from reseller.accounts.models import Reseller
from reseller.catalog import defaults
from reseller.catalog.models import (
    OPERATIONS,
    PER_YEAR,
    PRICE_LISTS,
    TLDS,
    Price,
    RetailPrice,
    Tier,
    rules_for,
)
from reseller.core.clock import clock
from reseller.core.db import after_commit
from reseller.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from reseller.core.extensions import db
from reseller.core.identity import vat_status
from wallet import services as wallet
from wallet.money import Money, round_money
from wallet.vat import vat_rate

CURRENCY = "EUR"


class PriceMissing(DomainError):
    status = 409
    code = "price_missing"
    title = _l("No price is set for this operation")


@dataclass(frozen=True)
class Quote:
    """What an operation costs the reseller: net, VAT and the total the wallet charges."""

    net: Decimal
    vat: Decimal
    total: Decimal
    vat_rate: Decimal
    price_list: str
    tier: str
    currency: str = CURRENCY

    @property
    def net_money(self) -> Money:
        return Money.of(self.net, self.currency)

    def as_dict(self) -> dict[str, str]:
        return {"currency": self.currency, "net": f"{self.net:.2f}", "vat": f"{self.vat:.2f}",
                "total": f"{self.total:.2f}"}


# -- setup -------------------------------------------------------------------------------

def install_tiers() -> list[Tier]:
    """Add the default volume tiers that are missing (by code); never touches prices.
    Idempotent: returns the tiers it created (none on a second run)."""
    existing = {tier.code: tier for tier in list_tiers()}
    ranks = {tier.rank for tier in existing.values()}
    created = []
    for code, name, rank, threshold in defaults.TIERS:
        if code in existing:
            continue
        if rank in ranks:
            rank = max(ranks) + 1
        ranks.add(rank)
        tier = Tier(code=code, name=name, rank=rank, threshold=threshold, rate_limit=code)
        db.session.add(tier)
        created.append(tier)
    db.session.flush()
    _tiers_changed()
    return created


def install_defaults(*, effective_from: date | None = None) -> bool:
    """The demo's catalogue: the default tiers and opening price lists, if there are no
    tiers yet. Idempotent. Production uses ``install_tiers`` and enters its own prices."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(Tier)):
        return False
    start = effective_from or date(2020, 1, 1)
    install_tiers()
    for tld, prices in defaults.BASE_PRICES.items():
        for operation, base in prices.items():
            for tier, *_ in defaults.TIERS:
                for price_list in PRICE_LISTS:
                    db.session.add(Price(
                        tld=tld, operation=operation, price_list=price_list, tier=tier,
                        amount=defaults.default_amount(base, tier, price_list),
                        effective_from=start))
    db.session.flush()
    return True


def missing_prices(*, on: date | None = None) -> list[tuple[str, str, str, str]]:
    """(tld, operation, price list, tier) of every register/renew/transfer price a reseller
    could be asked for on ``on`` (today) that has none in effect: what stops a sale."""
    on = on or clock.today()
    priced = {tuple(row) for row in db.session.execute(
        sa.select(Price.tld, Price.operation, Price.price_list, Price.tier)
        .where(Price.effective_from <= on).distinct())}
    tiers = [tier.code for tier in list_tiers()]
    return [(tld, operation, price_list, tier)
            for tld in sorted(TLDS) for operation in OPERATIONS if operation in PER_YEAR
            for price_list in PRICE_LISTS for tier in tiers
            if (tld, operation, price_list, tier) not in priced]


# -- lookups -----------------------------------------------------------------------------

def list_tiers() -> list[Tier]:
    return list(db.session.scalars(sa.select(Tier).order_by(Tier.rank)))


def price_list_of(reseller_id: int) -> str:
    """The reseller's list follows its wallet's payment mode (prepaid until it has one)."""
    return wallet.payment_mode_of(reseller_id)


def list_amount(*, tld: str, operation: str, price_list: str, tier: str,
                on: date | None = None) -> Decimal | None:
    """The net list price effective on ``on`` (today by default), or None if unset."""
    on = on or clock.today()
    return db.session.scalar(_LIST_AMOUNT, {"tld": tld, "operation": operation,
                                            "price_list": price_list, "tier": tier, "on": on})


# Built once: every order and quote asks (see BUILT ONCE in reseller.core.db)
_LIST_AMOUNT = (
    sa.select(Price.amount)
    .where(Price.tld == sa.bindparam("tld"), Price.operation == sa.bindparam("operation"),
           Price.price_list == sa.bindparam("price_list"), Price.tier == sa.bindparam("tier"),
           Price.effective_from <= sa.bindparam("on"))
    .order_by(Price.effective_from.desc()).limit(1))


def quote(*, reseller_id: int, tld: str, operation: str, years: int = 1,
          premium_fee: Decimal | None = None, on: date | None = None,
          price_list: str | None = None) -> Quote:
    """The reseller's price for ``operation`` on ``tld`` for ``years``, VAT included.

    ``premium_fee`` is the registry's fee for a premium name's operation (all years):
    it replaces the list price of a yearly operation and adds to a one-off one's (a
    restore's redemption fee stays; the registry's premium year comes on top).
    ``price_list``: the reseller's (``price_list_of``), when the caller read it already."""
    rules = rules_for(tld)
    rules.require(operation)
    reseller = db.session.get(Reseller, reseller_id)
    if reseller is None:
        raise NotFound()
    on = on or clock.today()
    price_list = price_list or price_list_of(reseller_id)
    if premium_fee is not None and operation in PER_YEAR:
        return _quote(reseller, round_money(premium_fee), price_list, on)
    per_unit = list_amount(tld=rules.tld, operation=operation, price_list=price_list,
                           tier=reseller.tier, on=on)
    if per_unit is None:
        raise PriceMissing(_l("No %(list)s price for %(operation)s on .%(tld)s.",
                              list=price_list, operation=operation, tld=rules.tld))
    net = round_money(per_unit * (years if operation in PER_YEAR else 1))
    return _quote(reseller, net + round_money(premium_fee or Decimal(0)), price_list, on)


def quote_many(*, reseller_id: int, tlds: Collection[str], operation: str, years: int = 1,
               on: date | None = None) -> dict[str, Quote | PriceMissing]:
    """``quote`` for several TLDs at once (an availability check of many names): the
    reseller, its price list and every TLD's list price read in three statements, not two
    per name. A TLD without a price maps to its ``PriceMissing``, raised by the caller for
    the names that need it."""
    reseller = db.session.get(Reseller, reseller_id)
    if reseller is None:
        raise NotFound()
    on = on or clock.today()
    price_list = price_list_of(reseller_id)
    wanted = {tld: rules_for(tld) for tld in tlds}
    for rules in wanted.values():
        rules.require(operation)
    latest = _list_amounts(price_list=price_list, tier=reseller.tier, on=on,
                           tlds=[r.tld for r in wanted.values()], operations=[operation])
    quotes: dict[str, Quote | PriceMissing] = {}
    for tld, rules in wanted.items():
        per_unit = latest.get((rules.tld, operation))
        if per_unit is None:
            quotes[tld] = PriceMissing(_l("No %(list)s price for %(operation)s on .%(tld)s.",
                                          list=price_list, operation=operation, tld=rules.tld))
        else:
            net = round_money(per_unit * (years if operation in PER_YEAR else 1))
            quotes[tld] = _quote(reseller, net, price_list, on)
    return quotes


def quote_table(*, reseller_id: int, wanted: Collection[tuple[str, str, int]],
                on: date | None = None) -> dict[tuple[str, str, int], Quote]:
    """``quote`` for each ``(tld, operation, years)`` at once (a price list of every TLD):
    the reseller, its price list and the list prices in three statements. What a TLD does
    not offer, or has no price for, is left out."""
    reseller = db.session.get(Reseller, reseller_id)
    if reseller is None:
        raise NotFound()
    on = on or clock.today()
    price_list = price_list_of(reseller_id)
    latest = _list_amounts(price_list=price_list, tier=reseller.tier, on=on,
                           tlds=sorted({tld for tld, _op, _years in wanted}))
    table = {}
    for tld, operation, years in wanted:
        per_unit = latest.get((tld, operation))
        if per_unit is not None and rules_for(tld).offers(operation):
            net = round_money(per_unit * (years if operation in PER_YEAR else 1))
            table[(tld, operation, years)] = _quote(reseller, net, price_list, on)
    return table


def _list_amounts(*, price_list: str, tier: str, on: date, tlds: Collection[str],
                  operations: Collection[str] | None = None) -> dict[tuple[str, str], Decimal]:
    """The net list price effective on ``on`` of each (TLD, operation) that has one, in
    one statement (``list_amount`` for many)."""
    stmt = (sa.select(Price.tld, Price.operation, Price.amount)
            .where(Price.tld.in_(list(tlds)), Price.price_list == price_list,
                   Price.tier == tier, Price.effective_from <= on)
            .order_by(Price.tld, Price.operation, Price.effective_from.desc()))
    if operations is not None:
        stmt = stmt.where(Price.operation.in_(list(operations)))
    latest: dict[tuple[str, str], Decimal] = {}
    for tld, operation, amount in db.session.execute(stmt):
        latest.setdefault((tld, operation), amount)
    return latest


def premium_quote(*, reseller_id: int, premium_fee: Decimal, price_list: str,
                  on: date | None = None) -> Quote:
    """A premium name's price for a yearly operation: the registry's fee (all years)
    replaces the list price (as ``quote`` does with ``premium_fee``)."""
    reseller = db.session.get(Reseller, reseller_id)
    return _quote(reseller, round_money(premium_fee), price_list, on or clock.today())


def _quote(reseller: Reseller, net: Decimal, price_list: str, on: date) -> Quote:
    rate = vat_rate(vat_status=vat_status(reseller.country, reseller.vat_id), on=on)
    vat = round_money(net * rate)
    return Quote(net=net, vat=vat, total=net + vat, vat_rate=rate, price_list=price_list,
                 tier=reseller.tier)


def catalogue_for(*, reseller_id: int) -> list[dict[str, Any]]:
    """Every TLD's rules with the caller's 1-year net prices and its retail prices (the
    prices of every TLD read in one statement)."""
    reseller = db.session.get(Reseller, reseller_id)
    price_list = price_list_of(reseller_id)
    retail = _retail_rules(reseller_id)
    amounts = _list_amounts(price_list=price_list, tier=reseller.tier, on=clock.today(),
                            tlds=list(TLDS))
    result = []
    for tld, rules in sorted(TLDS.items()):
        prices: dict[str, str | None] = {}
        retail_prices: dict[str, str | None] = {}
        for operation in OPERATIONS:
            if not rules.offers(operation):
                continue
            amount = amounts.get((tld, operation))
            prices[operation] = None if amount is None else f"{amount:.2f}"
            sell = _retail_amount(retail, tld, operation, amount)
            retail_prices[operation] = None if sell is None else f"{sell:.2f}"
        result.append({"rules": rules, "price_list": price_list, "tier": reseller.tier,
                       "currency": CURRENCY, "prices": prices, "retail": retail_prices})
    return result


# -- retail ------------------------------------------------------------------------------

def _retail_rules(reseller_id: int) -> dict[tuple[str, str], RetailPrice]:
    rows = db.session.scalars(sa.select(RetailPrice).where(RetailPrice.reseller_id == reseller_id))
    return {(row.tld, row.operation): row for row in rows}


def _retail_amount(rules: dict[tuple[str, str], RetailPrice], tld: str, operation: str,
                   cost: Decimal | None) -> Decimal | None:
    fixed = rules.get((tld, operation))
    if fixed is not None and fixed.amount is not None:
        return fixed.amount
    markup = rules.get(("*", "*"))
    if markup is not None and markup.markup_percent is not None and cost is not None:
        return round_money(cost * (1 + markup.markup_percent / Decimal(100)))
    return None


def set_retail_prices(*, reseller_id: int, markup_percent: Decimal | None = None,
                      prices: dict[str, dict[str, Decimal | None]] | None = None) -> None:
    """Set the markup rule and/or fixed retail prices (``None`` removes a fixed price)."""
    existing = _retail_rules(reseller_id)
    if markup_percent is not None and not 0 <= markup_percent <= 1000:
        raise ValidationFailed({"markup_percent": ["Must be between 0 and 1000."]})
    if any(amount is not None and amount < 0
           for by_operation in (prices or {}).values() for amount in by_operation.values()):
        raise ValidationFailed({"prices": ["Must be zero or more."]})
    if markup_percent is not None:
        row = existing.get(("*", "*")) or RetailPrice(reseller_id=reseller_id, tld="*",
                                                       operation="*")
        row.markup_percent = markup_percent
        db.session.add(row)
    for tld, by_operation in (prices or {}).items():
        rules = rules_for(tld)
        for operation, amount in by_operation.items():
            rules.require(operation)
            row = existing.get((rules.tld, operation))
            if amount is None:
                if row is not None:
                    db.session.delete(row)
                continue
            row = row or RetailPrice(reseller_id=reseller_id, tld=rules.tld,
                                     operation=operation)
            row.amount = amount
            db.session.add(row)
    db.session.flush()


# -- the operator's price lists and tiers --------------------------------------------------

def set_price(*, tld: str, operation: str, price_list: str, tier: str, amount: Decimal,
              effective_from: date, staff_id: int | None = None) -> Price:
    """Add a price effective from a date (today or later); earlier prices stay as history."""
    rules = rules_for(tld)
    rules.require(operation)
    errors: dict[str, list[str]] = {}
    if price_list not in PRICE_LISTS:
        errors["price_list"] = ["Must be prepaid or postpaid."]
    if db.session.get(Tier, tier) is None:
        errors["tier"] = ["Unknown tier."]
    if amount < 0 or amount != round_money(amount):
        errors["amount"] = ["Must be zero or more, in whole cents."]
    if effective_from < clock.today():
        errors["effective_from"] = ["A price cannot change in the past."]
    if errors:
        raise ValidationFailed(errors)
    row = db.session.scalar(sa.select(Price).where(
        Price.tld == rules.tld, Price.operation == operation, Price.price_list == price_list,
        Price.tier == tier, Price.effective_from == effective_from))
    if row is not None:
        if row.effective_from <= clock.today():
            raise Conflict(_l("A price already took effect on that date; choose a later one."))
        row.amount = amount  # a scheduled change not yet in effect may be corrected
    else:
        row = Price(tld=rules.tld, operation=operation, price_list=price_list, tier=tier,
                    amount=amount, effective_from=effective_from, created_by_id=staff_id)
        db.session.add(row)
    db.session.flush()
    return row


def set_prices(*, tld: str, effective_from: date,
               amounts: dict[tuple[str, str, str], Decimal | None],
               staff_id: int | None = None) -> list[Price]:
    """Several prices of one TLD from one date, keyed (operation, price list, tier); a
    ``None`` amount was not a number. Any refused price refuses them all: the errors are
    keyed ``operation/price_list/tier``."""
    rules = rules_for(tld)
    if effective_from < clock.today():
        raise ValidationFailed({"effective_from": ["A price cannot change in the past."]})
    if not amounts:
        raise ValidationFailed({"amounts": ["Give at least one amount."]})
    errors: dict[str, list[str]] = {}
    saved = []
    for (operation, price_list, tier), amount in amounts.items():
        key = f"{operation}/{price_list}/{tier}"
        if amount is None:
            errors[key] = ["Must be zero or more, in whole cents."]
            continue
        try:
            saved.append(set_price(tld=rules.tld, operation=operation, price_list=price_list,
                                   tier=tier, amount=amount, effective_from=effective_from,
                                   staff_id=staff_id))
        except ValidationFailed as failed:
            errors[key] = [message for messages in failed.errors.values()
                           for message in messages]
        except DomainError as refused:
            errors[key] = [str(refused.detail or refused.title)]
    if errors:
        raise ValidationFailed(errors)
    return saved


def price_grid(*, tld: str, on: date | None = None) -> dict[tuple[str, str, str], Decimal]:
    """The prices of ``tld`` in effect on ``on`` (today), keyed (operation, list, tier)."""
    on = on or clock.today()
    latest: dict[tuple[str, str, str], Decimal] = {}
    for row in db.session.scalars(sa.select(Price).where(Price.tld == tld,
                                                         Price.effective_from <= on)
                                  .order_by(Price.effective_from)):
        latest[(row.operation, row.price_list, row.tier)] = row.amount
    return latest


def get_tier(*, code: str) -> Tier:
    tier = db.session.get(Tier, code)
    if tier is None:
        raise NotFound()
    return tier


def price_rows(*, tld: str | None = None) -> list[Price]:
    stmt = sa.select(Price).order_by(Price.tld, Price.operation, Price.price_list, Price.tier,
                                     Price.effective_from.desc())
    if tld:
        stmt = stmt.where(Price.tld == tld)
    return list(db.session.scalars(stmt))


def set_tier_threshold(*, code: str, threshold: Decimal) -> Tier:
    tier = db.session.get(Tier, code)
    if tier is None:
        raise NotFound()
    if threshold < 0:
        raise ValidationFailed({"threshold": ["Must be zero or more."]})
    tier.threshold = threshold
    db.session.flush()
    return tier


TIER_CODE = re.compile(r"[a-z][a-z0-9-]{0,19}")


def _tier_errors(*, name: str, threshold: Decimal | None, rate_limit: str,
                 rate_limits: Collection[str]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not 1 <= len(name.strip()) <= 60:
        errors["name"] = ["Give a name of 1–60 characters."]
    if threshold is None or threshold < 0 or threshold != round_money(threshold):
        errors["threshold"] = ["Must be zero or more, in whole cents."]
    if rate_limit not in rate_limits:
        errors["rate_limit"] = ["Unknown rate-limit tier."]
    return errors


def create_tier(*, code: str, name: str, threshold: Decimal | None, rate_limit: str,
                rate_limits: Collection[str]) -> Tier:
    """A new volume tier, ranked above every existing one. ``rate_limits``: the
    rate-limit tiers configured (RATE_LIMITS' keys)."""
    errors = _tier_errors(name=name, threshold=threshold, rate_limit=rate_limit,
                          rate_limits=rate_limits)
    if not TIER_CODE.fullmatch(code):
        errors["code"] = ["Use 1–20 lower-case letters, digits or hyphens, starting with a "
                          "letter."]
    elif db.session.get(Tier, code) is not None:
        errors["code"] = ["A tier with this code already exists."]
    if errors:
        raise ValidationFailed(errors)
    rank = (db.session.scalar(sa.select(sa.func.max(Tier.rank))) or 0) + 1
    tier = Tier(code=code, name=name.strip(), rank=rank, threshold=threshold,
                rate_limit=rate_limit)
    db.session.add(tier)
    db.session.flush()
    _tiers_changed()
    return tier


def update_tier(*, code: str, name: str, threshold: Decimal | None, rate_limit: str,
                rate_limits: Collection[str]) -> Tier:
    tier = db.session.get(Tier, code)
    if tier is None:
        raise NotFound()
    errors = _tier_errors(name=name, threshold=threshold, rate_limit=rate_limit,
                          rate_limits=rate_limits)
    if errors:
        raise ValidationFailed(errors)
    tier.name, tier.threshold, tier.rate_limit = name.strip(), threshold, rate_limit
    db.session.flush()
    _tiers_changed()
    return tier


def promote_tiers(*, purchases: dict[int, Decimal]) -> list[tuple[int, str, str]]:
    """Move resellers up to the highest tier their trailing purchases reach; never down.

    ``purchases`` maps reseller id → trailing-12-month net purchases. Returns the moves.
    """
    tiers = list_tiers()
    rank = {tier.code: tier.rank for tier in tiers}
    moves = []
    for reseller in db.session.scalars(sa.select(Reseller).where(Reseller.status == "active")):
        spent = purchases.get(reseller.id, Decimal("0"))
        reached = max((t for t in tiers if spent >= t.threshold), key=lambda t: t.rank,
                      default=None)
        if reached is not None and reached.rank > rank.get(reseller.tier, 0):
            moves.append((reseller.id, reseller.tier, reached.code))
            reseller.tier = reached.code
    db.session.flush()
    return moves


# The volume tiers' rate-limit tiers, per app, read again after this many seconds (or at
# once in this process when the catalogue changes a tier): every API request asks.
TIER_LIMITS_TTL_S = 30.0
_TIER_LIMITS = "tunnus.catalog.tier_rate_limits"


def rate_limit_tier(reseller_id: int) -> str | None:
    """The reseller's API rate-limit tier (``RATE_LIMITS``): its volume tier names one; a
    tier code outside the catalogue (e.g. "enterprise", set by hand) is one itself.

    No statement on an API request: the reseller is the one authentication loaded, and
    the tiers' rate limits are kept (``TIER_LIMITS_TTL_S``). A tier the operator edits takes
    at most that long to apply in another process; a reseller moved to another tier, at
    once."""
    reseller = db.session.get(Reseller, reseller_id)
    if reseller is None:
        return None
    return _tier_rate_limits().get(reseller.tier) or reseller.tier


def _tier_rate_limits() -> dict[str, str | None]:
    kept = current_app.extensions.get(_TIER_LIMITS)
    now = time.monotonic()
    if kept is None or now - kept[0] > TIER_LIMITS_TTL_S:
        limits = {code: limit for code, limit in db.session.execute(
            sa.select(Tier.code, Tier.rate_limit))}
        kept = current_app.extensions[_TIER_LIMITS] = (now, limits)
    return kept[1]


def _tiers_changed() -> None:
    """The catalogue changed a tier: this process reads the rate limits again once the
    change commits."""
    app = current_app._get_current_object()
    after_commit(lambda: app.extensions.pop(_TIER_LIMITS, None))
