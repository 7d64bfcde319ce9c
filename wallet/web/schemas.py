"""API schemas for the wallet: balances, transactions, top-ups, withdrawals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate

from reseller.core.schemas import Amount, BaseSchema
from wallet.payments import METHODS


class AmountIn(Amount):
    """An amount sent to us: a decimal string with at most two decimals, never a number,
    within [low, high] (checked here rather than by ``validate.Range``, whose Decimal
    bounds would reach the OpenAPI document as strings)."""

    def __init__(self, *, low: str, high: str, **kwargs: Any) -> None:
        self.low, self.high = Decimal(low), Decimal(high)
        metadata = {"description": f"Decimal string from {low} to {high}",
                    **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str):
            raise ValidationError(_l("Send the amount as a decimal string, e.g. \"100.00\"."))
        try:
            exponent = Decimal(value.strip()).as_tuple().exponent
        except ArithmeticError:
            exponent = 0  # let the parent report the malformed number
        if isinstance(exponent, int) and exponent < -2:
            raise ValidationError(_l("Use at most two decimals (whole cents)."))
        amount = super()._deserialize(value, attr, data, **kwargs)
        if not self.low <= amount <= self.high:
            raise ValidationError(_l("Enter an amount from %(low)s to %(high)s.",
                                     low=self.low, high=self.high))
        return amount


class WalletOut(BaseSchema):
    currency = fields.String(required=True)
    payment_mode = fields.String(required=True, metadata={"enum": ["prepaid", "postpaid"]})
    balance = Amount(required=True, metadata={
        "description": "Funds including held amounts, minus what is owed on credit"})
    held = Amount(required=True, metadata={"description": "Active holds and pending withdrawals"})
    available = Amount(required=True, metadata={
        "description": "What a purchase may use now (negative while a debt is open)"})
    debt = Amount(required=True, metadata={
        "description": "Money taken back (refund, chargeback, returned payment) after it was "
                       "spent, still owed; orders are refused (402 wallet_debt_outstanding) "
                       "until a top-up or bank transfer, which pays it first, settles it"})
    credit_limit = Amount(required=True)
    low_balance_threshold = Amount(allow_none=True, required=True)
    reference_number = fields.String(required=True, metadata={
        "description": "Permanent Finnish reference number for bank-transfer top-ups"})


class WalletSettingsIn(BaseSchema):
    low_balance_threshold = AmountIn(required=True, allow_none=True, low="0.00",
                                     high="1000000.00")


class TransactionOut(BaseSchema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True)
    kind = fields.String(required=True)
    description = fields.String(required=True)
    amount = Amount(required=True, metadata={
        "description": "Effect on the wallet: positive adds to balance, negative takes"})
    created_at = fields.AwareDateTime(required=True)


class TransactionPageOut(BaseSchema):
    items = fields.List(fields.Nested(TransactionOut), required=True)
    next = fields.String(allow_none=True, required=True)


class TopUpIn(BaseSchema):
    amount = AmountIn(required=True, low="0.01", high="100000.00")
    method = fields.String(required=True, validate=validate.OneOf(METHODS))


class BankInstructionsOut(BaseSchema):
    iban = fields.String(required=True)
    bic = fields.String(required=True)
    beneficiary = fields.String(required=True)
    reference = fields.String(required=True)
    rf_reference = fields.String(required=True)
    amount = Amount(required=True)


class TopUpOut(BaseSchema):
    id = fields.Integer(required=True)
    state = fields.String(required=True)
    method = fields.String(required=True)
    currency = fields.String(required=True)
    amount = Amount(required=True)
    surcharge = Amount(required=True)
    total = Amount(required=True)
    checkout_url = fields.String(allow_none=True)
    bank_transfer = fields.Nested(BankInstructionsOut, allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    settled_at = fields.AwareDateTime(allow_none=True)


class WithdrawalIn(BaseSchema):
    amount = AmountIn(required=True, low="0.01", high="1000000.00")


class WithdrawalOut(BaseSchema):
    id = fields.Integer(required=True)
    state = fields.String(required=True)
    currency = fields.String(required=True)
    amount = Amount(required=True)
    created_at = fields.AwareDateTime(required=True)
    decided_at = fields.AwareDateTime(allow_none=True)


class WithdrawalPageOut(BaseSchema):
    items = fields.List(fields.Nested(WithdrawalOut), required=True)
    next = fields.String(allow_none=True, required=True)


class TopUpPageOut(BaseSchema):
    items = fields.List(fields.Nested(TopUpOut), required=True)
    next = fields.String(allow_none=True, required=True)


class NextChargeOut(BaseSchema):
    invoice = fields.String(required=True, metadata={"description": "Invoice number"})
    date = fields.Date(required=True, metadata={"description": "When the card is charged"})
    amount = Amount(required=True, metadata={"description": "The invoice's amount due"})
    surcharge = Amount(required=True, metadata={"description": "The card surcharge"})
    total = Amount(required=True)


class CardOut(BaseSchema):
    brand = fields.String(required=True, metadata={"example": "visa"})
    last4 = fields.String(required=True, metadata={"example": "4242"})
    exp_month = fields.Integer(required=True)
    exp_year = fields.Integer(required=True)
    expired = fields.Boolean(required=True)
    next_charge = fields.Nested(NextChargeOut, allow_none=True, required=True, metadata={
        "description": "The open invoice charged next, on its due date (null if none)"})


class CardSetupOut(BaseSchema):
    setup_url = fields.String(required=True, metadata={
        "description": "The payment provider's page where the card is entered"})
