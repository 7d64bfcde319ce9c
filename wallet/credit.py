"""Credit decisions and warnings: payment mode, credit limit (audited with who, when and
why) and the low-balance threshold."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reseller.core.clock import clock
from reseller.core.extensions import db
from wallet.errors import InvalidAmount, WalletNotFound
from wallet.models import Wallet, WalletChange
from wallet.money import LEDGER_CURRENCY, Money, round_money
from wallet.services import _STATE, _W, PAYMENT_MODES, note_balance


def _locked_wallet(reseller_id: int) -> Wallet:
    wallet = db.session.scalar(sa.select(Wallet).where(Wallet.reseller_id == reseller_id)
                               .with_for_update().execution_options(populate_existing=True))
    if wallet is None:
        raise WalletNotFound()
    return wallet


def _audit(wallet: Wallet, field: str, old: Any, new: Any, note: str, actor: str) -> None:
    if str(old) == str(new):
        return
    db.session.add(WalletChange(reseller_id=wallet.reseller_id, field=field,
                                old_value=None if old is None else str(old),
                                new_value=None if new is None else str(new),
                                note=note, actor=actor, created_at=clock.now()))


def set_payment_mode(*, reseller_id: int, payment_mode: str, note: str, actor: str,
                     credit_limit: Money | None = None) -> Wallet:
    """The operator's credit decision: mode and limit, audited with who, when and why."""
    if payment_mode not in PAYMENT_MODES:
        raise InvalidAmount(_l("The payment mode is prepaid or postpaid."))
    if not note.strip():
        raise InvalidAmount(_l("A credit decision needs a note."))
    wallet = _locked_wallet(reseller_id)
    if payment_mode == "prepaid" and wallet.funds_amount < 0:
        raise InvalidAmount(_l("Settle the negative funds before switching to prepaid."))
    _audit(wallet, "payment_mode", wallet.payment_mode, payment_mode, note, actor)
    wallet.payment_mode = payment_mode
    if credit_limit is not None:
        if credit_limit.currency != wallet.currency or credit_limit.is_negative() \
                or round_money(credit_limit.amount) != credit_limit.amount:
            raise InvalidAmount(_l("A credit limit is zero or more, in whole cents."))
        _audit(wallet, "credit_limit", wallet.credit_limit.as_string(),
               credit_limit.as_string(), note, actor)
        wallet.credit_limit_amount = credit_limit.amount
    db.session.flush()
    return wallet


def set_low_balance_threshold(*, reseller_id: int, threshold: Money | None,
                              actor: str) -> Wallet:
    """Warn (event ``wallet.low_balance``) when available drops below ``threshold``."""
    if threshold is not None and (threshold.currency != LEDGER_CURRENCY
                                  or threshold.is_negative()
                                  or round_money(threshold.amount) != threshold.amount):
        raise InvalidAmount(_l("A threshold is zero or more, in whole cents."))
    wallet = _locked_wallet(reseller_id)
    old = wallet.low_balance_threshold
    _audit(wallet, "low_balance_threshold", old.as_string() if old else None,
           threshold.as_string() if threshold else None, "", actor)
    wallet.low_balance_threshold_amount = threshold.amount if threshold is not None else None
    wallet.low_balance_alerted = False
    db.session.flush()
    note_balance(db.session.execute(sa.select(*_STATE)
                                    .where(_W.c.reseller_id == reseller_id)).first())
    return wallet
