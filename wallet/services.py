"""The wallet's public services: open a wallet, hold, capture, release, refund, balances.

The purchase path (``hold_funds`` → ``capture_hold``) is a handful of SQL statements in
SQLAlchemy Core: one conditional UPDATE of the wallet row both locks it (PostgreSQL row
lock; SQLite's ``BEGIN IMMEDIATE`` already serialises writers) and checks the balance, so
concurrent holds can never overspend. Every operation is idempotent by its reference.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reseller.core.clock import clock
from reseller.core.db import is_sqlite, memo
from reseller.core.events import record_event
from reseller.core.extensions import db
from reseller.core.holds import holds_still_needed
from wallet import fastpath, ledger
from wallet.errors import (
    CaptureExceedsHold,
    CreditLimitExceeded,
    DebtOutstanding,
    HoldNotActive,
    HoldNotFound,
    InsufficientFunds,
    InvalidAmount,
    PurchaseCredited,
    PurchaseNotFound,
    ReferenceReused,
    RefundReasonMissing,
    WalletNotFound,
)
from wallet.invoices.models import InvoiceLine
from wallet.models import Hold, LedgerTransfer, Purchase, Wallet
from wallet.money import LEDGER_CURRENCY, Money, round_money
from wallet.references import wallet_reference

log = logging.getLogger(__name__)

DEFAULT_HOLD_TTL = timedelta(days=30)
HOLD_EXTENSION = timedelta(days=1)
MAX_REFERENCE = 150
PAYMENT_MODES = ("prepaid", "postpaid")

_W = Wallet.__table__
_H = Hold.__table__
_P = Purchase.__table__
# What every wallet-moving statement returns: enough for the low-balance check.
_STATE = (_W.c.reseller_id, _W.c.payment_mode, _W.c.currency, _W.c.funds, _W.c.receivable,
          _W.c.debt, _W.c.credit_limit, _W.c.low_balance_threshold, _W.c.low_balance_alerted)


# -- wallets ------------------------------------------------------------------------------
def open_wallet(*, reseller_id: int, payment_mode: str = "prepaid") -> Wallet:
    """The reseller's wallet, created on first call (an existing wallet is returned as is)."""
    if payment_mode not in PAYMENT_MODES:
        raise ValueError(f"payment_mode must be one of {PAYMENT_MODES}")
    existing = _find_wallet(reseller_id)
    if existing is not None:
        return existing
    wallet = Wallet(reseller_id=reseller_id, payment_mode=payment_mode,
                    currency=LEDGER_CURRENCY, credit_limit_amount=Decimal(0),
                    funds_amount=Decimal(0), held_amount=Decimal(0),
                    held_on_credit_amount=Decimal(0), receivable_amount=Decimal(0),
                    low_balance_alerted=False, reference_number=wallet_reference(reseller_id))
    try:
        with db.session.begin_nested():
            db.session.add(wallet)
    except sa.exc.IntegrityError:  # opened concurrently: use that one
        return get_wallet(reseller_id=reseller_id)
    return wallet


def _find_wallet(reseller_id: int) -> Wallet | None:
    return db.session.scalar(sa.select(Wallet).where(Wallet.reseller_id == reseller_id)
                             .execution_options(populate_existing=True))


def get_wallet(*, reseller_id: int) -> Wallet:
    return found_wallet(_find_wallet(reseller_id), reseller_id)


def found_wallet(wallet: Wallet | None, reseller_id: int) -> Wallet:
    """A wallet the caller read (alone, or joined to other rows), as ``get_wallet`` gives
    it: ``WalletNotFound`` when there is none, and its payment mode kept for the rest of
    the block's readers (``payment_mode_of``)."""
    if wallet is None:
        raise WalletNotFound()
    memo(("payment_mode", reseller_id), lambda: wallet.payment_mode)  # read: keep it
    return wallet


def payment_mode_of(reseller_id: int) -> str:
    """The payment mode, "prepaid" for a reseller without a wallet yet (read once in a
    ``shared_reads`` block: a page's panels and price quotes all ask)."""
    mode = memo(("payment_mode", reseller_id), lambda: db.session.scalar(
        _PAYMENT_MODE, {"reseller_id": reseller_id}))
    return mode or "prepaid"


# Built once: every price quote asks (see BUILT ONCE in reseller.core.db)
_PAYMENT_MODE = sa.select(_W.c.payment_mode).where(_W.c.reseller_id == sa.bindparam("reseller_id"))


def available(*, reseller_id: int) -> Money:
    row = db.session.execute(sa.select(*_STATE).where(_W.c.reseller_id == reseller_id)).first()
    if row is None:
        raise WalletNotFound()
    return _available(row)


def _available(row: Any) -> Money:
    if row.payment_mode == "prepaid":
        return Money(row.funds - row.debt, row.currency)
    return Money(row.credit_limit - row.receivable - row.debt, row.currency)


def _refuse(reseller_id: int, needed: Money) -> None:
    row = db.session.execute(sa.select(*_STATE).where(_W.c.reseller_id == reseller_id)).first()
    if row is None:
        raise WalletNotFound()
    if row.debt > 0:
        raise DebtOutstanding(available=_available(row), needed=needed,
                              debt=Money(row.debt, row.currency).as_string())
    if row.payment_mode == "postpaid":
        raise CreditLimitExceeded(available=_available(row), needed=needed,
                                  credit_limit=Money(row.credit_limit, row.currency).as_string())
    raise InsufficientFunds(available=_available(row), needed=needed)


# -- low balance --------------------------------------------------------------------------
def note_balance(row: Any) -> None:
    """Emit ``wallet.low_balance`` once when available drops below the threshold; re-arm
    when it is back at or above it. ``row`` is a wallet state returned by an UPDATE."""
    if row is None or row.low_balance_threshold is None:
        return
    now_available = _available(row)
    below = now_available.amount < row.low_balance_threshold
    if below == bool(row.low_balance_alerted):
        return
    db.session.execute(sa.update(_W).where(_W.c.reseller_id == row.reseller_id)
                       .values(low_balance_alerted=below))
    if below:
        record_event(reseller_id=row.reseller_id, type="wallet.low_balance", data={
            "available": now_available.as_string(), "currency": row.currency,
            "threshold": Money(row.low_balance_threshold, row.currency).as_string()})


# -- holds --------------------------------------------------------------------------------
def _check_net(net: Money) -> None:
    if not isinstance(net, Money):
        raise TypeError("net must be Money")
    if net.currency != LEDGER_CURRENCY:
        raise InvalidAmount(_l("Amounts are in euros (EUR)."))
    if net.amount <= 0 or round_money(net.amount) != net.amount:
        raise InvalidAmount(_l("Amounts are positive and in whole cents."))


def split_gross(net: Money, vat_rate: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """(net, VAT, gross): VAT rounded once, here, with the one rounding rule."""
    if not isinstance(vat_rate, Decimal) or not 0 <= vat_rate < 1:
        raise ValueError("vat_rate is a Decimal fraction, e.g. Decimal('0.255')")
    vat = round_money(net.amount * vat_rate)
    return net.amount, vat, net.amount + vat


def hold_funds(*, reseller_id: int, net: Money, vat_rate: Decimal, reference: str,
               description: str, item: dict | None = None,
               expires_at: datetime | None = None) -> Hold:
    """Set aside net + VAT for a purchase. The same reference returns the same hold."""
    _check_net(net)
    if not reference or len(reference) > MAX_REFERENCE:
        raise InvalidAmount(_l("A hold reference is 1-150 characters."))
    net_amount, vat, gross = split_gross(net, vat_rate)
    expires_at = expires_at or clock.now() + DEFAULT_HOLD_TTL
    if not is_sqlite():
        return _hold_fast(reseller_id, reference, net_amount, vat, vat_rate, description,
                          item, expires_at)
    row = _reserve(reseller_id, gross)
    existing = _find_hold(reference)
    if existing is not None:  # a replay: undo the reservation we just made, if any
        if existing.reseller_id != reseller_id:
            raise ReferenceReused()
        if row is not None:
            _move_wallet(reseller_id, row.payment_mode == "prepaid", gross)
        return existing
    if row is None:
        if settle_debt(reseller_id=reseller_id):  # funds back on the wallet pay the debt first
            return hold_funds(reseller_id=reseller_id, net=net, vat_rate=vat_rate,
                              reference=reference, description=description, item=item,
                              expires_at=expires_at)
        _refuse(reseller_id, Money(gross, LEDGER_CURRENCY))
    source = "funds" if row.payment_mode == "prepaid" else "receivable"
    hold = Hold(reseller_id=reseller_id, reference=reference, state="active", source=source,
                currency=LEDGER_CURRENCY, net_amount=net_amount, vat_amount=vat,
                gross_amount=gross, vat_rate=vat_rate, description=description, item=item,
                created_at=clock.now(), expires_at=expires_at)
    db.session.add(hold)
    db.session.flush()
    ledger.post(reference=f"hold:{reference}", kind="hold", reseller_id=reseller_id,
                description=description, legs=[
                    ledger.debit(ledger.FUNDS if source == "funds" else ledger.RECEIVABLE,
                                 gross, reseller_id),
                    ledger.credit(ledger.HOLDS, gross, reseller_id)])
    note_balance(row)
    return hold


def _reserve(reseller_id: int, gross: Decimal) -> Any:
    """Move ``gross`` into the held column if the funds (prepaid) or the credit limit
    (postpaid) allow and no debt is open; the wallet's state, or None if not."""
    prepaid = _W.c.payment_mode == "prepaid"
    return db.session.execute(
        sa.update(_W).where(_W.c.reseller_id == reseller_id, _W.c.debt == 0).where(sa.or_(
            sa.and_(prepaid, _W.c.funds >= gross),
            sa.and_(~prepaid, _W.c.receivable + gross <= _W.c.credit_limit)))
        .values(funds=sa.case((prepaid, _W.c.funds - gross), else_=_W.c.funds),
                receivable=sa.case((prepaid, _W.c.receivable), else_=_W.c.receivable + gross),
                held_on_credit=sa.case((prepaid, _W.c.held_on_credit),
                                       else_=_W.c.held_on_credit + gross),
                held=_W.c.held + gross)
        .returning(*_STATE)).first()


def _hold_fast(reseller_id: int, reference: str, net: Decimal, vat: Decimal, rate: Decimal,
               description: str, item: dict | None, expires_at: datetime) -> Hold:
    outcome, found, state = fastpath.hold(
        reseller_id=reseller_id, reference=reference, net=net, vat=vat, rate=rate,
        description=description, item=item, expires_at=expires_at, now=clock.now())
    if outcome == "refused":
        if settle_debt(reseller_id=reseller_id):  # funds back on the wallet pay the debt first
            return _hold_fast(reseller_id, reference, net, vat, rate, description, item,
                              expires_at)
        _refuse(reseller_id, Money(net + vat, LEDGER_CURRENCY))
    if outcome == "existing":
        existing = _find_hold(reference)
        if existing is None or existing.reseller_id != reseller_id:
            raise ReferenceReused()
        return existing
    note_balance(state)
    return found


def _move_wallet(reseller_id: int, from_funds: bool, amount: Decimal) -> Any:
    """Move ``amount`` from the hold back to its source (negative: into the hold)."""
    values: dict[str, Any] = {"held": _W.c.held - amount}
    if from_funds:
        values["funds"] = _W.c.funds + amount
    else:
        values["receivable"] = _W.c.receivable - amount
        values["held_on_credit"] = _W.c.held_on_credit - amount
    return db.session.execute(sa.update(_W).where(_W.c.reseller_id == reseller_id)
                              .values(values).returning(*_STATE)).first()


def _find_hold(reference: str) -> Hold | None:
    return db.session.scalar(sa.select(Hold).where(Hold.reference == reference)
                             .execution_options(populate_existing=True))


def get_hold(*, reference: str) -> Hold | None:
    return _find_hold(reference)


def _resolve(reference: str, state: str, reason: str | None = None) -> Any:
    """Flip an active hold to ``state``; None if it was not active (each resolves once)."""
    return db.session.execute(
        sa.update(_H).where(_H.c.reference == reference, _H.c.state == "active")
        .values(state=state, resolved_at=clock.now(), reason=reason)
        .returning(_H.c.id, _H.c.reseller_id, _H.c.source, _H.c.net, _H.c.vat, _H.c.gross,
                   _H.c.vat_rate, _H.c.description, _H.c.item, _H.c.currency)).first()


def capture_hold(*, reference: str, net: Money | None = None) -> Purchase:
    """Charge a hold in full, or part of it (``net``); the rest goes back. Idempotent."""
    if net is not None:
        _check_net(net)
    if not is_sqlite():
        return _capture_fast(reference, net)
    hold = _resolve(reference, "captured")
    if hold is None:
        return _already_captured(reference)
    net_amount, vat, gross = hold.net, hold.vat, hold.gross
    if net is not None:
        if net.amount > hold.net:
            raise CaptureExceedsHold(needed=net.as_string(),
                                     held=Money(hold.net, hold.currency).as_string())
        net_amount, vat, gross = split_gross(net, hold.vat_rate)
    rest = hold.gross - gross
    rid, from_funds = hold.reseller_id, hold.source == "funds"
    source = ledger.FUNDS if from_funds else ledger.RECEIVABLE
    values: dict[str, Any] = {"held": _W.c.held - hold.gross}
    if not from_funds:
        values["held_on_credit"] = _W.c.held_on_credit - hold.gross
    if rest and from_funds:
        values["funds"] = _W.c.funds + rest
    elif rest:
        values["receivable"] = _W.c.receivable - rest
    state = db.session.execute(sa.update(_W).where(_W.c.reseller_id == rid).values(values)
                               .returning(*_STATE)).first()
    ledger.post(reference=f"capture:{reference}", kind="capture", reseller_id=rid,
                description=hold.description, legs=[
                    ledger.debit(ledger.HOLDS, hold.gross, rid),
                    ledger.credit(ledger.REVENUE, net_amount),
                    ledger.credit(ledger.VAT_PAYABLE, vat),
                    ledger.credit(source, rest, rid)])
    purchase = Purchase(reseller_id=rid, reference=reference, description=hold.description,
                        item=hold.item, source=hold.source, currency=hold.currency,
                        net_amount=net_amount, vat_amount=vat, gross_amount=gross,
                        vat_rate=hold.vat_rate, captured_at=clock.now(), refunded=False)
    db.session.add(purchase)
    db.session.flush()
    if rest:
        note_balance(state)
    return purchase


def _capture_fast(reference: str, net: Money | None) -> Purchase:
    outcome, found, state = fastpath.capture(
        reference=reference, net=None if net is None else net.amount, now=clock.now())
    if outcome == "not_active":
        return _already_captured(reference)
    if outcome == "exceeds":
        raise CaptureExceedsHold(needed=net.as_string() if net else None,
                                 held=Money.of(Decimal(found.net).scaleb(-2)).as_string())
    if outcome == "captured_part":
        state.debt = db.session.scalar(sa.select(_W.c.debt).where(
            _W.c.reseller_id == state.reseller_id))
        note_balance(state)
    return found


def _already_captured(reference: str) -> Purchase:
    hold = _find_hold(reference)
    if hold is None:
        raise HoldNotFound()
    if hold.state != "captured":
        raise HoldNotActive(state=hold.state)
    return get_purchase(reference=reference)


def release_hold(*, reference: str, reason: str = "") -> None:
    """Give a hold's money back. A hold already captured, released or expired is left as is,
    and a reference that never got a hold (its charge was refused) is a no-op too."""
    _unhold(reference, "released", reason)


def _unhold(reference: str, state: str, reason: str) -> bool:
    hold = _resolve(reference, state, reason)
    if hold is None:  # already resolved, or never held (a failed hold): nothing to give back
        return False
    rid, from_funds = hold.reseller_id, hold.source == "funds"
    row = _move_wallet(rid, from_funds, hold.gross)
    kind = "release" if state == "released" else "expire"
    ledger.post(reference=f"{kind}:{reference}", kind=kind, reseller_id=rid,
                description=reason or hold.description, legs=[
                    ledger.debit(ledger.HOLDS, hold.gross, rid),
                    ledger.credit(ledger.FUNDS if from_funds else ledger.RECEIVABLE,
                                  hold.gross, rid)])
    note_balance(row)
    return True


def expire_holds(*, now: datetime | None = None, limit: int = 500) -> int:
    """Release every active hold past its expiry (the periodic job calls this), except
    those whose purchase is still open (``reseller.core.holds``): those are kept for
    another ``HOLD_EXTENSION``, and the count of extensions shows on the hold."""
    now = now or clock.now()
    references = db.session.scalars(
        sa.select(_H.c.reference).where(_H.c.state == "active", _H.c.expires_at < now)
        .order_by(_H.c.expires_at).limit(limit)).all()
    kept = holds_still_needed(references)
    if kept:
        db.session.execute(
            sa.update(_H).where(_H.c.reference.in_(kept), _H.c.state == "active")
            .values(expires_at=now + HOLD_EXTENSION, extensions=_H.c.extensions + 1))
        log.warning("kept %d holds whose purchases are still open", len(kept))
    return sum(_unhold(reference, "expired", "expired")
               for reference in references if reference not in kept)


def capture_late(*, reference: str) -> Purchase:
    """Charge a purchase whose hold ended (released or expired) before it completed:
    the gross is set aside again, from the funds (prepaid) or within the credit limit
    (postpaid), and captured. ``InsufficientFunds``/``CreditLimitExceeded`` when it is not
    there, with nothing moved: the caller tells the operator the amount. Idempotent."""
    hold = _find_hold(reference)
    if hold is None:
        raise HoldNotFound()
    if hold.state in ("active", "captured"):
        return capture_hold(reference=reference)
    gross = hold.gross_amount
    row = _reserve(hold.reseller_id, gross)
    if row is None:
        _refuse(hold.reseller_id, Money(gross, LEDGER_CURRENCY))
    source = "funds" if row.payment_mode == "prepaid" else "receivable"
    db.session.execute(
        sa.update(_H).where(_H.c.reference == reference, _H.c.state == hold.state)
        .values(state="active", source=source, resolved_at=None,
                reason=f"taken again after it was {hold.state}"))
    ledger.post(reference=f"rehold:{reference}", kind="hold", reseller_id=hold.reseller_id,
                description=hold.description, legs=[
                    ledger.debit(ledger.FUNDS if source == "funds" else ledger.RECEIVABLE,
                                 gross, hold.reseller_id),
                    ledger.credit(ledger.HOLDS, gross, hold.reseller_id)])
    note_balance(row)
    return capture_hold(reference=reference)


def active_holds(*, reseller_id: int) -> list[Hold]:
    return list(db.session.scalars(
        sa.select(Hold).where(Hold.reseller_id == reseller_id, Hold.state == "active")
        .order_by(Hold.id.desc())))


# -- purchases ----------------------------------------------------------------------------
def get_purchase(*, reference: str) -> Purchase:
    purchase = db.session.scalar(sa.select(Purchase).where(Purchase.reference == reference)
                                 .execution_options(populate_existing=True))
    if purchase is None:
        raise PurchaseNotFound()
    return purchase


def purchases_between(*, reseller_id: int, start: datetime, end: datetime) -> list[Purchase]:
    """Purchases captured in [start, end) — what a monthly invoice lists."""
    return list(db.session.scalars(
        sa.select(Purchase).where(Purchase.reseller_id == reseller_id,
                                  Purchase.captured_at >= start, Purchase.captured_at < end)
        .order_by(Purchase.captured_at, Purchase.id)))


def refunds_between(*, reseller_id: int, start: datetime, end: datetime) -> list[Purchase]:
    """Purchases refunded in [start, end) — what a credit note lists."""
    return list(db.session.scalars(
        sa.select(Purchase).where(Purchase.reseller_id == reseller_id,
                                  Purchase.refunded_at >= start, Purchase.refunded_at < end)
        .order_by(Purchase.refunded_at, Purchase.id)))


def purchases_page(*, reseller_id: int, before_id: int | None = None,
                   limit: int = 50) -> tuple[list[Purchase], int | None]:
    """The reseller's purchases, newest first; and the id to continue before, if more."""
    stmt = sa.select(Purchase).where(Purchase.reseller_id == reseller_id)
    if before_id is not None:
        stmt = stmt.where(Purchase.id < before_id)
    rows = list(db.session.scalars(stmt.order_by(Purchase.id.desc()).limit(limit + 1)))
    return rows[:limit], rows[limit - 1].id if len(rows) > limit else None


def refund_purchase(*, reference: str, reason: str, actor: str | None = None) -> LedgerTransfer:
    """Reverse a captured purchase: gross back to where it came from. Idempotent.

    The refund is billed as a negative line on the next monthly invoice. Refused for a
    purchase a credit note has credited: that gave the money back already. The purchase
    row is locked before that check, as ``issue_credit_note`` locks it before checking for
    a refund, so the two cannot both pay back.
    """
    if not reason.strip():
        raise RefundReasonMissing()
    now = clock.now()
    row = db.session.execute(
        sa.update(_P).where(_P.c.reference == reference, _P.c.refunded.is_(False))
        .values(refunded=True, refunded_at=now, refund_reason=reason.strip())
        .returning(_P.c.id, _P.c.reseller_id, _P.c.source, _P.c.net, _P.c.vat, _P.c.gross,
                   _P.c.description)).first()
    if row is not None and db.session.scalar(sa.select(sa.exists().where(
            InvoiceLine.source_key == f"credit:purchase:{row.id}"))):
        raise PurchaseCredited()
    transfer_ref = f"refund:{reference}"
    if row is None:
        get_purchase(reference=reference)  # 404 when unknown
        return _transfer(transfer_ref)
    rid = row.reseller_id
    legs = [ledger.debit(ledger.REVENUE, row.net), ledger.debit(ledger.VAT_PAYABLE, row.vat),
            ledger.credit(ledger.FUNDS if row.source == "funds" else ledger.RECEIVABLE,
                          row.gross, rid)]
    ledger.post(reference=transfer_ref, kind="refund", reseller_id=rid,
                description=reason.strip(), reverses=f"capture:{reference}", legs=legs,
                actor=actor)
    state = apply_legs(rid, legs)
    note_balance(state)
    return _transfer(transfer_ref)


def apply_legs(reseller_id: int, legs: list[ledger.Leg]) -> Any:
    """Move the cached balances by the legs and return the new wallet state."""
    deltas = ledger.wallet_deltas(legs, reseller_id)
    values = {column: _W.c[column] + delta for column, delta in deltas.items()}
    return db.session.execute(sa.update(_W).where(_W.c.reseller_id == reseller_id)
                              .values(values).returning(*_STATE)).first()


def _transfer(reference: str) -> LedgerTransfer:
    return db.session.scalar(sa.select(LedgerTransfer)
                             .where(LedgerTransfer.reference == reference))


# -- manual adjustments -------------------------------------------------------------------
def adjust_funds(*, reseller_id: int, amount: Money, reason: str, actor: str,
                 reference: str) -> LedgerTransfer:
    """Credit (positive) or debit (negative) a wallet's funds by hand, with a reason.

    The other side is ``operator.adjustments``. Idempotent by ``reference``; a debit never
    takes a prepaid wallet below zero.
    """
    if not isinstance(amount, Money) or amount.currency != LEDGER_CURRENCY or not amount \
            or round_money(amount.amount) != amount.amount:
        raise InvalidAmount(_l("An adjustment is a non-zero amount in whole cents."))
    if not reason.strip():
        raise InvalidAmount(_l("An adjustment needs a reason."))
    transfer_ref = f"adjust:{reference}"
    if ledger.transfer_exists(transfer_ref):
        return _transfer(transfer_ref)
    legs = [ledger.credit(ledger.FUNDS, amount.amount, reseller_id),
            ledger.debit(ledger.ADJUSTMENTS, amount.amount)]
    if not amount.is_negative():
        post_payment(reseller_id=reseller_id, legs=legs, reference=transfer_ref,
                     kind="adjustment", description=reason, actor=actor)
        return _transfer(transfer_ref)
    state = charge(reseller_id, legs, amount.amount)
    if ledger.transfer_exists(transfer_ref):
        _undo(reseller_id, legs)
        return _transfer(transfer_ref)
    ledger.post(reference=transfer_ref, kind="adjustment", reseller_id=reseller_id,
                description=reason, actor=actor, legs=legs)
    note_balance(state)
    return _transfer(transfer_ref)


def charge(reseller_id: int, legs: list[ledger.Leg], debit: Decimal | None) -> Any:
    """Lock the wallet and move it by ``legs``; with ``debit`` (negative), only if the
    prepaid funds cover it. Raises the 402 refusal otherwise."""
    deltas = ledger.wallet_deltas(legs, reseller_id)
    stmt = sa.update(_W).where(_W.c.reseller_id == reseller_id).values(
        {column: _W.c[column] + delta for column, delta in deltas.items()})
    if debit is not None:
        stmt = stmt.where(sa.or_(_W.c.payment_mode == "postpaid", _W.c.funds + debit >= 0))
    state = db.session.execute(stmt.returning(*_STATE)).first()
    if state is None:
        _refuse(reseller_id, Money(-debit if debit is not None else Decimal(0), LEDGER_CURRENCY))
    return state


def _undo(reseller_id: int, legs: list[ledger.Leg]) -> None:
    apply_legs(reseller_id, [ledger.Leg(leg.account, -leg.amount, leg.reseller_id)
                             for leg in legs])


def credit_funds(*, reseller_id: int, legs: list[ledger.Leg], reference: str, kind: str,
                 description: str, actor: str | None = None) -> bool:
    """Post an incoming payment (legs crediting the reseller) once; False if already done."""
    return post_payment(reseller_id=reseller_id, legs=legs, reference=reference, kind=kind,
                        description=description, actor=actor)


def post_payment(*, reseller_id: int, legs: list[ledger.Leg], reference: str, kind: str,
                 description: str, actor: str | None = None, reverses: str | None = None) -> bool:
    """Post a payment, or one taken back (``reverses``), once; False if already done.

    The wallet row is locked first, then the reference is checked, so two deliveries of
    the same payment cannot both post. The reseller's part goes through ``route_debt``:
    money in pays an open debt first; money taken back takes the funds as far as they go
    and books the rest as debt (never negative funds).
    """
    wallet = _lock_wallet(reseller_id)
    if ledger.transfer_exists(reference):
        return False
    legs = route_debt(reseller_id, legs, funds=wallet.funds, debt=wallet.debt)
    state = apply_legs(reseller_id, legs)
    ledger.post(reference=reference, kind=kind, reseller_id=reseller_id, reverses=reverses,
                description=description, actor=actor, legs=legs)
    note_balance(state)
    return True


def _lock_wallet(reseller_id: int) -> Any:
    row = db.session.execute(sa.select(_W.c.funds, _W.c.debt)
                             .where(_W.c.reseller_id == reseller_id).with_for_update()).first()
    if row is None:
        raise WalletNotFound()
    return row


def route_debt(reseller_id: int, legs: list[ledger.Leg], *, funds: Decimal,
               debt: Decimal) -> list[ledger.Leg]:
    """Rewrite the reseller's funds and debt legs (netted) against the locked balances.

    Money to the reseller pays ``debt`` first, the rest reaches the funds; money taken
    from the reseller comes out of the funds as far as they go, the rest becomes debt.
    """
    own = [leg.account in (ledger.FUNDS, ledger.DEBT) and leg.reseller_id == reseller_id
           for leg in legs]
    if not any(own):
        return legs
    others = [leg for leg, mine in zip(legs, own, strict=True) if not mine]
    taken = sum((leg.amount for leg, mine in zip(legs, own, strict=True) if mine), Decimal(0))
    if taken > 0:
        from_funds = min(taken, max(funds, Decimal(0)))
        routed = [ledger.debit(ledger.FUNDS, from_funds, reseller_id),
                  ledger.debit(ledger.DEBT, taken - from_funds, reseller_id)]
    else:
        to_debt = min(-taken, debt)
        routed = [ledger.credit(ledger.DEBT, to_debt, reseller_id),
                  ledger.credit(ledger.FUNDS, -taken - to_debt, reseller_id)]
    return others + [leg for leg in routed if leg.amount]


def settle_debt(*, reseller_id: int) -> Decimal:
    """Pay an open debt from funds on the wallet (a hold released, a credit note); returns
    the amount moved (0 when there is no debt or no funds)."""
    wallet = _lock_wallet(reseller_id)
    amount = min(max(wallet.funds, Decimal(0)), wallet.debt)
    if amount <= 0:
        return Decimal(0)
    legs = [ledger.debit(ledger.FUNDS, amount, reseller_id),
            ledger.credit(ledger.DEBT, amount, reseller_id)]
    ledger.post(reference=f"debt:{reseller_id}:{uuid.uuid4().hex}", kind="debt",
                reseller_id=reseller_id, description="Debt paid from funds", legs=legs)
    apply_legs(reseller_id, legs)
    return amount
