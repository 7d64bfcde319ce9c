"""Top-ups: quote the surcharge, open a checkout, credit funds once when the provider
confirms. Only the amount reaches the reseller's funds; the surcharge is operator revenue."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reseller.core.clock import clock
from reseller.core.events import record_event
from reseller.core.extensions import db
from wallet import ledger, services
from wallet.errors import (
    InvalidAmount,
    InvalidPaymentMethod,
    InvalidPaymentNotice,
    ReferenceReused,
    TopUpNotFound,
)
from wallet.models import PaymentNotice, TopUp
from wallet.money import LEDGER_CURRENCY, Money, round_money
from wallet.payments import METHODS, Notice

MAX_TOPUP = Decimal("100000.00")


def surcharge_for(method: str, surcharges: Mapping[str, Decimal]) -> Money:
    """The fixed fee (EUR) for paying by ``method``; bank transfer is always free."""
    if method not in METHODS:
        raise InvalidPaymentMethod(f"method must be one of {', '.join(METHODS)}")
    if method == "bank_transfer":
        return Money.zero(LEDGER_CURRENCY)
    return Money(round_money(Decimal(surcharges.get(method, Decimal(0)))), LEDGER_CURRENCY)


def create_topup(*, reseller_id: int, amount: Money, method: str, idempotency_key: str,
                 surcharges: Mapping[str, Decimal], provider: str) -> TopUp:
    """A pending top-up; the same key returns the first one."""
    if existing := db.session.scalar(sa.select(TopUp).where(
            TopUp.reseller_id == reseller_id, TopUp.idempotency_key == idempotency_key)):
        if existing.amount != amount.amount or existing.method != method:
            raise ReferenceReused()
        return existing
    if amount.currency != LEDGER_CURRENCY or amount.amount <= 0 or amount.amount > MAX_TOPUP \
            or round_money(amount.amount) != amount.amount:
        raise InvalidAmount(_l("A top-up is 0.01-100000.00 EUR in whole cents."))
    surcharge = surcharge_for(method, surcharges)
    services.get_wallet(reseller_id=reseller_id)  # 404 without a wallet
    topup = TopUp(reseller_id=reseller_id, idempotency_key=idempotency_key, method=method,
                  provider=provider, currency=LEDGER_CURRENCY, amount=amount.amount,
                  surcharge=surcharge.amount, total=amount.amount + surcharge.amount,
                  state="pending", token=secrets.token_urlsafe(24), created_at=clock.now())
    db.session.add(topup)
    db.session.flush()
    return topup


def get_topup(*, reseller_id: int, topup_id: int) -> TopUp:
    topup = db.session.scalar(sa.select(TopUp).where(TopUp.id == topup_id,
                                                     TopUp.reseller_id == reseller_id))
    if topup is None:
        raise TopUpNotFound()
    return topup


def list_topups(*, reseller_id: int, limit: int = 20,
                before_id: int | None = None) -> list[TopUp]:
    stmt = sa.select(TopUp).where(TopUp.reseller_id == reseller_id)
    if before_id is not None:
        stmt = stmt.where(TopUp.id < before_id)
    return list(db.session.scalars(stmt.order_by(TopUp.id.desc()).limit(limit)))


def topup_by_token(token: str, *, lock: bool = False) -> TopUp:
    stmt = sa.select(TopUp).where(TopUp.token == token).execution_options(
        populate_existing=True)
    topup = db.session.scalar(stmt.with_for_update() if lock else stmt)
    if topup is None:
        raise TopUpNotFound()
    return topup


def receive_notice(notice: Notice) -> TopUp:
    """Apply a verified provider callback. Duplicates and late (out-of-order) callbacks
    change nothing; a payment is credited exactly once."""
    topup = topup_by_token(notice.token, lock=True)
    if topup.provider != notice.provider:
        raise InvalidPaymentNotice("the callback came from another provider")
    seen = db.session.scalar(sa.select(PaymentNotice.id).where(
        PaymentNotice.provider == notice.provider, PaymentNotice.event_id == notice.event_id))
    if seen is not None:
        return topup
    if notice.status == "paid":
        if notice.amount is not None and notice.amount != topup.total:
            raise InvalidPaymentNotice(f"paid {notice.amount}, expected {topup.total}")
        settle_topup(topup, provider_reference=notice.provider_reference)
    elif notice.status == "cancelled" and topup.state == "pending":
        topup.state = "cancelled"
        topup.settled_at = clock.now()
    db.session.add(PaymentNotice(provider=notice.provider, event_id=notice.event_id,
                                 topup_id=topup.id, status=notice.status,
                                 payload=notice.payload, received_at=clock.now()))
    db.session.flush()
    return topup


def settle_topup(topup: TopUp, *, provider_reference: str | None = None) -> bool:
    """Credit a locked top-up's amount to funds and its surcharge to revenue, once."""
    if topup.state == "paid":
        return False
    rid = topup.reseller_id
    legs = [ledger.debit(ledger.clearing(topup.provider), topup.total),
            ledger.credit(ledger.FUNDS, topup.amount, rid),
            ledger.credit(ledger.SURCHARGE_REVENUE, topup.surcharge)]
    credited = services.credit_funds(reseller_id=rid, legs=legs, reference=f"topup:{topup.id}",
                                     kind="topup", description=f"Top-up by {topup.method}")
    topup.state = "paid"  # a late payment after a cancellation is still money received
    topup.settled_at = clock.now()
    topup.provider_reference = provider_reference or topup.provider_reference
    if credited:
        record_event(reseller_id=rid, type="wallet.topup_received",
                     dedupe_key=f"wallet.topup_received:{topup.id}", data={
                         "topup_id": topup.id, "amount": f"{topup.amount:.2f}",
                         "currency": topup.currency, "method": topup.method})
    db.session.flush()
    return credited
