"""Refusals the wallet raises; each renders as problem+json with a stable ``code``."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from reseller.core.errors import Conflict, DomainError, NotFound
from wallet.money import Money


class WalletNotFound(NotFound):
    code = "wallet_not_found"
    title = _l("The reseller has no wallet")


class PaymentRequired(DomainError):
    """402: the wallet cannot cover ``needed``; carries ``available`` and ``needed``."""

    status = 402

    def __init__(self, *, available: Money, needed: Money, detail: Any = None,
                 **extra: Any) -> None:
        super().__init__(detail, available=available.as_string(), needed=needed.as_string(),
                         currency=needed.currency, **extra)
        self.available = available
        self.needed = needed


class InsufficientFunds(PaymentRequired):
    code = "insufficient_funds"
    title = _l("Not enough funds in the wallet")


class CreditLimitExceeded(PaymentRequired):
    code = "credit_limit_exceeded"
    title = _l("The purchase would exceed the credit limit")


class DebtOutstanding(PaymentRequired):
    """Money taken back after it was spent (a refund, chargeback or returned payment) is
    still owed: no order goes through until a top-up or bank transfer has paid it."""

    code = "wallet_debt_outstanding"
    title = _l("Money taken back from the wallet is still owed: top up to settle it first")


class InvalidAmount(DomainError):
    status = 422
    code = "invalid_amount"
    title = _l("The amount is not valid")


class HoldNotFound(NotFound):
    code = "hold_not_found"
    title = _l("No hold with that reference")


class HoldNotActive(Conflict):
    code = "hold_not_active"
    title = _l("The hold was already released or has expired")


class CaptureExceedsHold(Conflict):
    code = "capture_exceeds_hold"
    title = _l("The capture is larger than the hold")


class PurchaseNotFound(NotFound):
    code = "purchase_not_found"
    title = _l("No purchase with that reference")


class ReferenceReused(Conflict):
    code = "reference_reused"
    title = _l("The reference was already used for a different operation")


class TopUpNotFound(NotFound):
    code = "topup_not_found"
    title = _l("Top-up not found")


class WithdrawalNotFound(NotFound):
    code = "withdrawal_not_found"
    title = _l("Withdrawal not found")


class WithdrawalNotPending(Conflict):
    code = "withdrawal_not_pending"
    title = _l("The withdrawal was already decided")


class PrepaidOnly(Conflict):
    code = "prepaid_only"
    title = _l("Only prepaid wallets can do this")


class InvalidPaymentMethod(DomainError):
    status = 422
    code = "invalid_payment_method"
    title = _l("Unknown payment method")


class PaymentMethodNotOffered(DomainError):
    """The method exists but the operator does not offer it (``PAYMENT_METHODS``)."""

    status = 422
    code = "payment_method_not_offered"
    title = _l("This payment method is not offered")


class InvalidSignature(DomainError):
    status = 400
    code = "invalid_signature"
    title = _l("The webhook signature is missing, wrong or too old")


class InvalidPaymentNotice(DomainError):
    status = 400
    code = "invalid_payment_notice"
    title = _l("The payment notification cannot be understood")


class PaymentProviderUnavailable(DomainError):
    """The payment provider's API refused or could not be reached; try again later."""

    status = 503
    code = "payment_provider_unavailable"
    title = _l("The payment provider cannot be reached; try again in a moment")


class BankEntryNotFound(NotFound):
    code = "bank_entry_not_found"
    title = _l("Bank statement entry not found")


class BankEntryAllocated(Conflict):
    code = "bank_entry_allocated"
    title = _l("The bank statement entry was already allocated")


class BankEntryNotACredit(Conflict):
    """A returned payment takes money back; it cannot be credited to anyone."""

    code = "bank_entry_not_a_credit"
    title = _l("A returned payment cannot be credited to a reseller")


class InvalidStatement(DomainError):
    status = 422
    code = "invalid_statement"
    title = _l("The bank statement file cannot be read")


class PurchaseCredited(DomainError):
    """A credit note already gave this purchase's money back; refunding it would pay twice."""

    status = 409
    code = "purchase_credited"
    title = _l("The purchase was credited on a credit note already")


class RefundReasonMissing(DomainError):
    status = 422
    code = "refund_reason_missing"
    title = _l("A refund needs a reason")


class NoCardOnFile(DomainError):
    status = 404
    code = "no_card_on_file"
    title = _l("No card on file")


class PaymentIssueNotFound(NotFound):
    code = "payment_issue_not_found"
    title = _l("No such payment issue")


class PaymentIssueState(Conflict):
    code = "payment_issue_state"
    title = _l("The payment issue is not in a state that allows this")


class IssueNoteInvalid(DomainError):
    status = 422
    code = "issue_note_invalid"
    title = _l("Write a note of 1 to 2000 characters (resolving an issue needs one)")
