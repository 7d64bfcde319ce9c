"""Refusals raised by the catalogue (each with an HTTP status and a stable code)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from reseller.core.errors import DomainError


class UnsupportedTld(DomainError):
    status = 422
    code = "unsupported_tld"
    title = _l("We do not offer this top-level domain")


class InvalidPeriod(DomainError):
    status = 422
    code = "invalid_period"
    title = _l("The period is not allowed for this top-level domain")


class OperationNotOffered(DomainError):
    status = 409
    code = "operation_not_offered"
    title = _l("This top-level domain does not allow the operation")
