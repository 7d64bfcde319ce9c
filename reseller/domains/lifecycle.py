"""The lifecycle of registered names: reminders, auto-renew ahead of expiry (skipped with
an event when funds are short), expiry → grace → redemption → deleted by each TLD's
dates, the registry's poll queue (transfers out) and volume-tier promotion."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from reseller.catalog import services as catalog
from reseller.catalog.models import rules_for
from reseller.core.clock import clock
from reseller.core.db import end_transaction, unit_of_work
from reseller.core.errors import DomainError
from reseller.core.events import record_event
from reseller.core.extensions import db
from reseller.domains import orders, recovery, services
from reseller.domains.models import Domain, Order
from reseller.domains.records import hold_domain
from reseller.registry.errors import RegistryError
from reseller.registry.models import DELETED
from reseller.registry.services import get_registry

log = logging.getLogger(__name__)

REMINDER_DAYS = (30, 7)


def _each(ids: list[int], action, label: str) -> int:
    """Run ``action(id)`` per id in its own unit of work; one failure does not stop the rest."""
    done = 0
    for item_id in ids:
        try:
            with unit_of_work():
                action(item_id)
            done += 1
        except (DomainError, RegistryError):
            log.exception("%s failed for %s", label, item_id)
    return done


def _ids(stmt: sa.Select) -> list[int]:
    return list(db.session.scalars(stmt.order_by(Domain.id)))


def send_reminders() -> int:
    now = clock.now()
    ids = _ids(sa.select(Domain.id).where(
        Domain.status == "active", Domain.expires_at <= now + timedelta(days=max(REMINDER_DAYS))))

    def remind(domain_id: int) -> None:
        domain = db.session.get(Domain, domain_id)
        days_left = (domain.expires_at - clock.now()).days
        window = min((d for d in REMINDER_DAYS if days_left < d), default=None)
        if window is None:
            return
        record_event(reseller_id=domain.reseller_id, type="domain.expiring",
                     data={**services.domain_data(domain), "days_left": max(days_left, 0)},
                     dedupe_key=f"domain.expiring:{domain.id}:{domain.expires_at.date()}:{window}")

    return _each(ids, remind, "reminder")


def auto_renew(*, days_ahead: int) -> int:
    ids = _ids(sa.select(Domain.id).where(
        Domain.status.in_(("active", "expired")), Domain.auto_renew.is_(True),
        Domain.expires_at <= clock.now() + timedelta(days=days_ahead)))

    def renew(domain_id: int) -> None:
        # The renewal's premium fee is read from the registry between units of work.
        with unit_of_work():
            domain = db.session.get(Domain, domain_id)
            name, key = domain.name, _renewal_key(domain)
            if db.session.scalar(sa.select(Order.id).where(
                    Order.reseller_id == domain.reseller_id, Order.idempotency_key == key)):
                return  # renewed (or under way) already
        fee = orders.premium_fee(name=name, command="renew", years=1)
        with unit_of_work():
            _renew(domain_id, fee)

    def _renew(domain_id: int, fee: Decimal | None) -> None:
        domain = db.session.get(Domain, domain_id)
        key = _renewal_key(domain)
        try:
            with db.session.begin_nested():
                orders.order_renew(reseller_id=domain.reseller_id, name=domain.name, period=1,
                                   idempotency_key=key, system=True, premium_fee=fee)
        except DomainError as refused:
            # Funds or credit short, or a premium renewal price nobody accepted (money
            # needs consent: the reseller renews it with accept_price): skip, and say so.
            if refused.status == 402 or refused.code == "price_not_accepted":
                record_event(reseller_id=domain.reseller_id, type="domain.expiring", data={
                    **services.domain_data(domain), "auto_renew_skipped": True,
                    "reason": refused.code}, dedupe_key=f"auto-renew-skipped:{key}")
            elif refused.code != "order_in_progress":
                raise

    return _each(ids, renew, "auto-renew")


def _renewal_key(domain: Domain) -> str:
    return f"auto-renew:{domain.id}:{domain.expires_at.date().isoformat()}"


def expire_domains() -> int:
    """Move names along expiry → grace → redemption → deleted by their TLD's dates."""
    now = clock.now()
    ids = _ids(sa.select(Domain.id).where(Domain.status.in_(("active", "expired", "redemption")),
                                          Domain.expires_at <= now))
    return _each(ids, _advance, "expiry")


def _advance(domain_id: int) -> None:
    """One name's step along its dates. The registry's delete runs between two units of
    work, with no transaction open: the first commits what the dates decide (expired) and
    reads what to delete; the second records the deletion, if the name is still the one
    that was deleted (same expiry, still expired). A crash between them repeats the
    delete on the next run with the same transaction id, which the registry answers from
    its record (or with 2303, already gone)."""
    with unit_of_work():
        due = _age(domain_id)
    if due is None:
        return
    name, transaction_id, expires_at = due
    try:
        done = get_registry().delete(name=name, transaction_id=transaction_id)
    except RegistryError as error:
        if getattr(error, "code", None) != 2303:  # already gone at the registry
            raise
        done = DELETED
    with unit_of_work():
        domain = hold_domain(domain_id)
        if domain is None or domain.status != "expired" or domain.expires_at != expires_at:
            return  # renewed or deleted meanwhile (the next run reads the registry again)
        rules = rules_for(domain.tld)
        # 1000: gone at once; 1001: redemption where the TLD restores (RFC 3915)
        restorable = done != DELETED and rules.redemption_days > 0 and rules.restore
        services.mark_deleted(domain, restorable=restorable)


def _age(domain_id: int) -> tuple[str, str, datetime] | None:
    """Apply the dates that need no registry; (name, transaction id, expiry) when the
    grace period is over and the name is to be deleted at the registry."""
    domain = db.session.get(Domain, domain_id)
    if db.session.scalar(sa.select(Order.id).where(Order.lock_key == domain.name)):
        return None  # a renewal or restore is under way; look again next run
    rules = rules_for(domain.tld)
    now = clock.now()
    grace_end = domain.expires_at + timedelta(days=rules.grace_days)
    if domain.status == "active":
        domain.status = "expired"
        db.session.flush()
        record_event(reseller_id=domain.reseller_id, type="domain.expired",
                     data=services.domain_data(domain),
                     dedupe_key=f"domain.expired:{domain.id}:{domain.expires_at.date()}")
    if domain.status == "expired" and grace_end <= now:
        return (domain.name, f"expire-{domain.id}-{domain.expires_at.date().isoformat()}",
                domain.expires_at)
    if domain.status == "redemption":
        started = domain.ended_at or domain.expires_at
        if started + timedelta(days=rules.redemption_days) <= now:
            services.mark_deleted(domain, restorable=False)
    return None


def poll_registry(*, limit: int = 500) -> int:
    """Read the registry's poll queue to the end (an EPP registry shows one message at a
    time), hand each message to the lifecycle and acknowledge it: transfer-out requests
    and completions for our names, and the end of our own transfers in.

    No transaction is open while the registry is asked: each message is handled in its
    own unit of work and acknowledged after it commits, so a crash in between shows the
    message again and it is handled again (every handler is safe to repeat)."""
    registry = get_registry()
    handled = 0
    while handled < limit:
        end_transaction()
        messages = registry.poll()
        if not messages:
            break
        for message in messages:
            _handle_message(registry, message)
            registry.ack(message.id)
            handled += 1
    return handled


def _handle_message(registry, message) -> None:
    # The registry is read before the unit of work: a transfer request's dates.
    query = registry.transfer_query(name=message.name) \
        if message.kind == "transfer_requested" else None
    transfers_in: list[int] = []
    with unit_of_work():
        domain = db.session.scalar(sa.select(Domain).where(Domain.live_name == message.name))
        if domain is not None and message.kind == "transfer_requested":
            _transfer_out_requested(domain, query)
        elif domain is not None and message.kind == "transfer_completed" \
                and message.data.get("losing") == registry.registrar_id:
            services.mark_transferred_out(domain)
        elif message.kind in ("transfer_completed", "transfer_rejected", "transfer_cancelled") \
                and message.data.get("gaining") == registry.registrar_id:
            transfers_in = recovery.pending_transfer_orders(name=message.name)
    for order_id in transfers_in:  # each asks the registry between its own units of work
        try:
            recovery.check_transfer(order_id)
        except (DomainError, RegistryError):  # domains.transfers looks again later
            log.exception("transfer check failed for order %s", order_id)


def _transfer_out_requested(domain: Domain, info) -> None:
    """Another registrar asked for the name: flag it and tell the registrant (white label
    sends the notice with a stop link on ``status: "pending"``)."""
    domain.transfer_out_pending = True
    completes = info.act_by if info is not None else clock.now() + timedelta(days=5)
    db.session.flush()
    record_event(reseller_id=domain.reseller_id, type="domain.transferred_out",
                 data={**services.domain_data(domain), "status": "pending",
                       "completes_at": completes.isoformat(), "date": completes.isoformat()},
                 dedupe_key=f"domain.transferred_out:pending:{domain.id}:"
                            f"{completes.isoformat()}")


def check_transfers() -> int:
    return _each(recovery.pending_transfer_orders(), recovery.check_transfer, "transfer check")


def recover_orders(*, older_than: timedelta) -> int:
    return _each(recovery.stuck_orders(older_than=older_than), recovery.recover_order, "recovery")


def promote_tiers() -> list[tuple[int, str, str]]:
    since = clock.now() - timedelta(days=365)
    rows = db.session.execute(
        sa.select(Order.reseller_id, sa.func.sum(Order.net))
        .where(Order.state == "completed", Order.completed_at >= since)
        .group_by(Order.reseller_id))
    purchases = {reseller_id: Decimal(total or 0) for reseller_id, total in rows}
    return catalog.promote_tiers(purchases=purchases)
