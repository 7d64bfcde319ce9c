"""Withdrawals: unused prepaid funds paid back. Requested (the amount is held), then
approved by the operator (funds out, payout recorded) or cancelled/rejected (held back)."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reseller.core.clock import clock
from reseller.core.extensions import db
from wallet import ledger, services
from wallet.errors import (
    InvalidAmount,
    PrepaidOnly,
    ReferenceReused,
    WithdrawalNotFound,
    WithdrawalNotPending,
)
from wallet.models import Withdrawal
from wallet.money import LEDGER_CURRENCY, Money, round_money

_WD = Withdrawal.__table__


def request_withdrawal(*, reseller_id: int, amount: Money, idempotency_key: str,
                       requested_by: str | None = None) -> Withdrawal:
    if existing := db.session.scalar(sa.select(Withdrawal).where(
            Withdrawal.reseller_id == reseller_id, Withdrawal.idempotency_key == idempotency_key)):
        if existing.amount != amount.amount:
            raise ReferenceReused()
        return existing
    if amount.currency != LEDGER_CURRENCY or amount.amount <= 0 \
            or round_money(amount.amount) != amount.amount:
        raise InvalidAmount(_l("A withdrawal is a positive amount in whole cents."))
    if services.get_wallet(reseller_id=reseller_id).payment_mode != "prepaid":
        raise PrepaidOnly()
    withdrawal = Withdrawal(reseller_id=reseller_id, idempotency_key=idempotency_key,
                            currency=LEDGER_CURRENCY, amount=amount.amount, state="requested",
                            requested_by=requested_by, created_at=clock.now())
    db.session.add(withdrawal)
    db.session.flush()
    services.settle_debt(reseller_id=reseller_id)  # what is owed is not paid back
    legs = [ledger.debit(ledger.FUNDS, amount.amount, reseller_id),
            ledger.credit(ledger.HOLDS, amount.amount, reseller_id)]
    state = services.charge(reseller_id, legs, -amount.amount)
    ledger.post(reference=f"withdrawal:{withdrawal.id}", kind="withdrawal_hold",
                reseller_id=reseller_id, description="Withdrawal requested", legs=legs)
    services.note_balance(state)
    return withdrawal


def get_withdrawal(*, withdrawal_id: int, reseller_id: int | None = None) -> Withdrawal:
    stmt = sa.select(Withdrawal).where(Withdrawal.id == withdrawal_id).execution_options(
        populate_existing=True)
    if reseller_id is not None:
        stmt = stmt.where(Withdrawal.reseller_id == reseller_id)
    withdrawal = db.session.scalar(stmt)
    if withdrawal is None:
        raise WithdrawalNotFound()
    return withdrawal


def list_withdrawals(*, reseller_id: int | None = None, state: str | None = None,
                     limit: int = 50, before_id: int | None = None) -> list[Withdrawal]:
    stmt = sa.select(Withdrawal).order_by(Withdrawal.id.desc()).limit(limit)
    if before_id is not None:
        stmt = stmt.where(Withdrawal.id < before_id)
    if reseller_id is not None:
        stmt = stmt.where(Withdrawal.reseller_id == reseller_id)
    if state:
        stmt = stmt.where(Withdrawal.state == state)
    return list(db.session.scalars(stmt))


def _decide(withdrawal_id: int, state: str, actor: str, note: str | None,
            reseller_id: int | None = None) -> tuple[Withdrawal, Decimal]:
    get_withdrawal(withdrawal_id=withdrawal_id, reseller_id=reseller_id)  # 404 first
    row = db.session.execute(
        sa.update(_WD).where(_WD.c.id == withdrawal_id, _WD.c.state == "requested")
        .values(state=state, decided_by=actor, decided_at=clock.now(), note=note)
        .returning(_WD.c.reseller_id, _WD.c.amount)).first()
    if row is None:
        raise WithdrawalNotPending()
    return get_withdrawal(withdrawal_id=withdrawal_id), row.amount


def approve_withdrawal(*, withdrawal_id: int, actor: str, note: str | None = None) -> Withdrawal:
    """The operator pays it out: the held amount leaves through ``operator.payouts``."""
    withdrawal, amount = _decide(withdrawal_id, "approved", actor, note)
    rid = withdrawal.reseller_id
    legs = [ledger.debit(ledger.HOLDS, amount, rid), ledger.credit(ledger.PAYOUTS, amount)]
    ledger.post(reference=f"payout:{withdrawal_id}", kind="payout", reseller_id=rid,
                description=note or "Withdrawal paid out", actor=actor, legs=legs)
    services.apply_legs(rid, legs)
    return withdrawal


def cancel_withdrawal(*, withdrawal_id: int, actor: str, reseller_id: int | None = None,
                      reject: bool = False, note: str | None = None) -> Withdrawal:
    """Cancelled by the reseller (or rejected by the operator) before approval."""
    withdrawal, amount = _decide(withdrawal_id, "rejected" if reject else "cancelled", actor,
                                 note, reseller_id)
    rid = withdrawal.reseller_id
    legs = [ledger.debit(ledger.HOLDS, amount, rid), ledger.credit(ledger.FUNDS, amount, rid)]
    ledger.post(reference=f"withdrawal-cancel:{withdrawal_id}", kind="withdrawal_cancel",
                reseller_id=rid, description=note or "Withdrawal cancelled", actor=actor,
                legs=legs)
    services.note_balance(services.apply_legs(rid, legs))
    return withdrawal
