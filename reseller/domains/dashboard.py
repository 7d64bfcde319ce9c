"""The domains' dashboard panels: names expiring within 30 and 60 days (each with its
renewal price and a one-click renewal) and recent orders with the failures among them."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.errors import DomainError
from reseller.core.extensions import db
from reseller.domains import orders, services
from reseller.domains.models import Domain, Order

SHOWN = 10


def expiring(reseller_id: int) -> dict[str, Any]:
    now = clock.now()
    soon = list(db.session.scalars(
        services.list_domains(reseller_id=reseller_id, status="active",
                              expires_before=now + timedelta(days=60))
        .order_by(Domain.expires_at, Domain.id).limit(SHOWN)))
    rows = []
    for domain in soon:
        try:
            quote, premium = orders.quote_order(reseller_id=reseller_id, name=domain.name,
                                                operation="renew")
        except DomainError:
            quote, premium = None, False
        rows.append({"domain": domain, "price": quote, "premium": premium,
                     "within_30": domain.expires_at <= now + timedelta(days=30),
                     "key": str(uuid.uuid4())})
    return {"expiring": rows,
            "count_30": sum(1 for row in rows if row["within_30"]),
            "count_60": len(rows)}


def recent_orders(reseller_id: int) -> dict[str, Any]:
    since = clock.now() - timedelta(days=30)
    stmt = orders.list_orders(reseller_id=reseller_id)
    recent = list(db.session.scalars(stmt.order_by(Order.id.desc()).limit(5)))
    failed = list(db.session.scalars(
        stmt.where(Order.state == "failed", Order.created_at >= since)
        .order_by(Order.id.desc()).limit(5)))
    waiting = db.session.scalar(
        sa.select(sa.func.count()).select_from(
            stmt.where(Order.state.in_(("pending", "held"))).subquery()))
    return {"recent": recent, "failed": failed, "waiting": waiting or 0}
