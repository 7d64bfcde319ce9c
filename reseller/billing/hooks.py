"""Wallet reactions to account events: a closed account's unused prepaid funds are
refunded (a withdrawal of everything available, for the operator to pay out)."""

from __future__ import annotations

from wallet import services, withdrawals
from wallet.errors import WalletNotFound


def refund_unused_funds(reseller_id: int) -> None:
    try:
        wallet = services.get_wallet(reseller_id=reseller_id)
    except WalletNotFound:
        return
    if wallet.payment_mode != "prepaid" or not wallet.funds.is_positive():
        return
    withdrawals.request_withdrawal(reseller_id=reseller_id, amount=wallet.funds,
                                   idempotency_key="account-closure",
                                   requested_by="account closure")


def install() -> None:
    from reseller.accounts import closure

    if refund_unused_funds not in closure.ON_DEACTIVATE:
        closure.ON_DEACTIVATE.append(refund_unused_funds)
