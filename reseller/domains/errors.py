"""Refusals raised by the domains package (each with an HTTP status and a stable code)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask_babel import lazy_gettext as _l

from reseller.core.errors import Conflict, DomainError, NotFound
from reseller.registry.errors import RegistryRejected, RegistryTimeout, RegistryUnavailable


class DomainNotFound(NotFound):
    code = "domain_not_found"
    title = _l("No such domain in this account")


class OrderNotFound(NotFound):
    code = "order_not_found"
    title = _l("No such order")


class DomainUnavailable(Conflict):
    code = "domain_unavailable"
    title = _l("The domain name is not available")


class OrderInProgress(Conflict):
    code = "order_in_progress"
    title = _l("Another order for this domain is in progress")


class DomainNotActive(Conflict):
    code = "domain_not_active"
    title = _l("The domain's status does not allow this")


class DomainLocked(Conflict):
    code = "domain_locked"
    title = _l("The domain is locked against transfer")


class TransferLocked(Conflict):
    code = "transfer_locked"
    title = _l("The domain cannot be transferred yet")


class PriceNotAccepted(Conflict):
    """409: a premium price without ``accept_price``, or a price above it. Carries the
    quoted ``price`` ({currency, net, vat, total}) so the caller can consent and retry."""

    code = "price_not_accepted"
    title = _l("The price was not accepted")


class OrdersBlockedOverdue(DomainError):
    """402: the operator pauses new paid orders while an invoice is overdue too long."""

    status = 402
    code = "orders_blocked_overdue"
    title = _l("New orders are paused until your overdue invoices are paid")


class ChangePending(Conflict):
    """409: an earlier change to the domain is waiting for the registry's confirmation
    (its answer was lost); carries ``pending_change``."""

    code = "change_pending"
    title = _l("An earlier change is waiting for the registry's confirmation")

    def __init__(self, detail: object = None, *, retry_after: int = 10, **extra: object) -> None:
        super().__init__(detail, retry_after=retry_after, **extra)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class RegistryRefused(DomainError):
    status = 409
    code = "registry_refused"
    title = _l("The registry refused the operation")


class RegistryDown(DomainError):
    status = 503
    code = "registry_unavailable"
    title = _l("The registry is not answering; try again shortly")


@contextmanager
def registry_errors() -> Iterator[None]:
    """Registry refusals become 409s and outages 503s, never 500s (synchronous calls)."""
    try:
        yield
    except RegistryRejected as rejected:
        raise RegistryRefused(rejected.message, registry_code=rejected.code) from rejected
    except (RegistryUnavailable, RegistryTimeout) as error:
        raise RegistryDown() from error
