"""Wallet reactions to account events: a closed account's unused prepaid funds are
refunded (a withdrawal of everything available, for the operator to pay out), in the
transaction that deactivates the account."""

from __future__ import annotations

from reseller.core.events import Event, on_event
from wallet import services, withdrawals
from wallet.errors import WalletNotFound


@on_event("account.closed")
def refund_unused_funds(event: Event) -> None:
    try:
        wallet = services.get_wallet(reseller_id=event.reseller_id)
    except WalletNotFound:
        return
    if wallet.payment_mode != "prepaid" or not wallet.funds.is_positive():
        return
    withdrawals.request_withdrawal(reseller_id=event.reseller_id, amount=wallet.funds,
                                   idempotency_key="account-closure",
                                   requested_by="account closure")
