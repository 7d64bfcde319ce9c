"""Finishing orders that a crash, timeout or pending transfer left open: ask the registry
what became of each (by its transaction id) and finish it exactly once."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.extensions import db
from reseller.core.jobs import enqueue
from reseller.domains.models import Order
from reseller.domains.orders import apply_result, fail_order
from reseller.registry.services import get_registry


def stuck_orders(*, older_than: timedelta) -> list[int]:
    cutoff = clock.now() - older_than
    return list(db.session.scalars(sa.select(Order.id).where(
        Order.state == "held", Order.created_at <= cutoff,
        sa.or_(Order.registry_status.is_(None), Order.registry_status != "pending_transfer"))
        .order_by(Order.id)))


def recover_order(order_id: int) -> str:
    """Ask the registry what became of a held order and finish it, or submit it again."""
    order = db.session.get(Order, order_id)
    if order is None or order.state != "held":
        return "done"
    outcome = get_registry().transaction(order.reference)
    if outcome is None:  # the registry never saw it (crash before the call): send it now
        enqueue("reseller.domains.tasks.process_order", order_id, urgent=True)
        return "resubmitted"
    if not outcome.ok:
        fail_order(order_id, reason=f"{outcome.code} {outcome.message}")
        return "failed"
    apply_result(order_id, outcome.result)
    return "finished"


def pending_transfer_orders(*, name: str | None = None) -> list[int]:
    stmt = sa.select(Order.id).where(Order.state == "held", Order.kind == "transfer",
                                     Order.registry_status == "pending_transfer")
    if name is not None:
        stmt = stmt.where(Order.domain_name == name)
    return list(db.session.scalars(stmt.order_by(Order.id)))


def check_transfer(order_id: int) -> None:
    order = db.session.get(Order, order_id)
    if order is None or order.state != "held":
        return
    info = get_registry().transfer_query(name=order.domain_name)
    if info is None:
        fail_order(order_id, reason="transfer cancelled")
        return
    if info.gaining != get_registry().registrar_id:
        fail_order(order_id, reason="transfer superseded")
        return
    if not info.pending:
        order.registry_status = None
        apply_result(order_id, info)
