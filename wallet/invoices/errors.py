"""Refusals of the invoicing services."""

from flask_babel import lazy_gettext as _l

from reseller.core.errors import DomainError


class InvoiceNotFound(DomainError):
    status = 404
    code = "invoice_not_found"
    title = _l("No such invoice")


class InvoiceNotPayable(DomainError):
    status = 409
    code = "invoice_not_payable"
    title = _l("The invoice is not open for payment")


class InvalidPaymentAmount(DomainError):
    status = 422
    code = "invalid_payment_amount"
    title = _l("The payment amount must be positive")


class NothingToCredit(DomainError):
    status = 409
    code = "nothing_to_credit"
    title = _l("Nothing left to credit on this invoice")
