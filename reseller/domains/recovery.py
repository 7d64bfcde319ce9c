"""Finishing orders that a crash, timeout or pending transfer left open: ask the registry
what became of each (by its transaction id) and finish it exactly once.

The registry is asked with no transaction open: what to ask is read in one unit of work,
the answer applied in another (``apply_result`` locks the order and finishes it only if
it is still held), so a recovery never holds a row, or the event feed, while it waits."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.core.jobs import enqueue
from reseller.domains.models import Order
from reseller.domains.orders import apply_result, fail_order, read_back
from reseller.registry.services import get_registry


def stuck_orders(*, older_than: timedelta) -> list[int]:
    cutoff = clock.now() - older_than
    return list(db.session.scalars(sa.select(Order.id).where(
        Order.state == "held", Order.created_at <= cutoff,
        sa.or_(Order.registry_status.is_(None), Order.registry_status != "pending_transfer"))
        .order_by(Order.id)))


def _held(order_id: int, *, kind: str | None = None) -> tuple[str, str] | None:
    """(reference, name) of a held order, read in a unit of work of its own (None: finished)."""
    with unit_of_work():
        order = db.session.get(Order, order_id)
        if order is None or order.state != "held" or (kind and order.kind != kind):
            return None
        return order.reference, order.domain_name


def recover_order(order_id: int) -> str:
    """Ask the registry what became of a held order and finish it, or submit it again."""
    held = _held(order_id)
    if held is None:
        return "done"
    reference, name = held
    registry = get_registry()
    outcome = registry.transaction(reference)
    if outcome is None:  # the registry never saw it (crash before the call): send it now
        with unit_of_work():
            enqueue("reseller.domains.tasks.process_order", order_id, urgent=True)
        return "resubmitted"
    if not outcome.ok:
        with unit_of_work():
            fail_order(order_id, reason=f"{outcome.code} {outcome.message}")
        return "failed"
    result = read_back(outcome.result, name=name, registry=registry)
    with unit_of_work():
        apply_result(order_id, result)
    return "finished"


def pending_transfer_orders(*, name: str | None = None) -> list[int]:
    stmt = sa.select(Order.id).where(Order.state == "held", Order.kind == "transfer",
                                     Order.registry_status == "pending_transfer")
    if name is not None:
        stmt = stmt.where(Order.domain_name == name)
    return list(db.session.scalars(stmt.order_by(Order.id)))


def check_transfer(order_id: int) -> None:
    """Settle a transfer in that waited for the losing side, from the registry's answer."""
    held = _held(order_id)
    if held is None:
        return
    _reference, name = held
    registry = get_registry()
    info = registry.transfer_query(name=name)
    if info is not None and info.pending and info.gaining == registry.registrar_id:
        return  # still waiting for the losing side
    reason = "transfer cancelled" if info is None else \
        "transfer superseded" if info.gaining != registry.registrar_id else None
    result = None if reason else read_back(info, name=name, registry=registry)
    with unit_of_work():
        if reason:
            fail_order(order_id, reason=reason)
        else:
            apply_result(order_id, result)
