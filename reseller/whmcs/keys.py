"""Idempotency keys for WHMCS calls, which carry none: derived from what identifies the
request, so that a retry finds the order the first call placed.

A register is identified by its name and period, a transfer by its name and auth code, a
renewal by its name, period and the expiry it starts from (so a legitimate second renewal,
which starts from the later expiry, is a new order), an owner change by its name and the
new holder. A failed order, or a registration whose domain has since ended, does not
answer a new call: the next call is a new attempt under the next key of the series.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa

from reseller.core.extensions import db
from reseller.domains.models import Domain, Order

MAX_ATTEMPTS = 100


def derive(function: str, *parts: Any) -> str:
    digest = hashlib.sha256(json.dumps([function, *parts], sort_keys=True, default=str)
                            .encode()).hexdigest()[:40]
    return f"whmcs-{function}-{digest}"


def _answers(order: Order) -> bool:
    """Whether ``order`` is what a repeat of its request should get back."""
    if order.state == "failed":
        return False
    if order.state == "completed" and order.kind in ("register", "transfer"):
        domain = db.session.get(Domain, order.domain_id) if order.domain_id else None
        return domain is not None and domain.is_live
    return True


def order_key(reseller_id: int, base: str) -> tuple[str, Order | None]:
    """The key for this request and the order already placed under it (None: place one)."""
    found = {order.idempotency_key: order for order in db.session.scalars(
        sa.select(Order).where(Order.reseller_id == reseller_id,
                               Order.idempotency_key.startswith(base, autoescape=True)))}
    for attempt in range(1, MAX_ATTEMPTS + 1):
        key = base if attempt == 1 else f"{base}.{attempt}"
        order = found.get(key)
        if order is None:
            return key, None
        if _answers(order):
            return key, order
    return f"{base}.{MAX_ATTEMPTS + 1}", None
