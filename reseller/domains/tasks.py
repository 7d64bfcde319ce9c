"""RQ jobs and periodic work for domains. Each takes ids, re-checks state, and is safe to
run twice; every periodic job is also ``flask jobs run NAME``."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from reseller.core.db import unit_of_work
from reseller.core.errors import DomainError
from reseller.core.events import Event, on_event
from reseller.core.extensions import db
from reseller.core.jobs import enqueue, periodic
from reseller.domains import contacts, lifecycle, orders, pending, recovery, services, sync
from reseller.domains.models import Domain
from reseller.domains.records import find_live_domain, hold_domain
from reseller.registry.services import get_registry


def process_order(order_id: int) -> None:
    orders.process_order(order_id)


def answer_transfer_out(domain_id: int, approve: bool) -> None:
    """Carry out the registrant's answer to a transfer-out request (once). The registry is
    answered with no transaction open, between the unit of work that reads the request
    and the one that records the answer (if the request is still open then)."""
    with unit_of_work():
        domain = db.session.get(Domain, domain_id)
        if domain is None or not domain.is_live or not domain.transfer_out_pending:
            return
        name = domain.name
    try:
        services.send_transfer_answer(name=name, approve=approve)
    except DomainError:  # already settled at the registry (e.g. approved after 5 days)
        approve = False  # the registry's poll message or the sync ends the name if it left
    with unit_of_work():
        domain = hold_domain(domain_id)
        if domain is not None and domain.is_live and domain.transfer_out_pending:
            services.record_transfer_answer(domain, approve=approve)


def set_suspended(domain_id: int, suspended: bool) -> None:
    services.set_suspended(domain_id=domain_id, suspended=suspended)


def _registrant_domains(event: Event) -> list[int]:
    """The ids of the event's live names held by its reseller: a read per thousand names,
    not one per name (a registrant may hold thousands)."""
    names = list(dict.fromkeys(str(n) for n in event.data.get("domains") or []))
    found: list[int] = []
    for start in range(0, len(names), 1000):
        found += db.session.scalars(sa.select(Domain.id).where(
            Domain.live_name.in_(names[start:start + 1000]),
            Domain.reseller_id == event.reseller_id).order_by(Domain.id))
    return found


@on_event("registrant.verification_overdue")
def on_verification_overdue(event: Event) -> None:
    """The registrant never confirmed the email address: hold its domains."""
    if event.data.get("suspend", True):
        for domain_id in _registrant_domains(event):
            enqueue("reseller.domains.tasks.set_suspended", domain_id, True)


@on_event("registrant.verified")
def on_registrant_verified(event: Event) -> None:
    if event.data.get("unsuspend"):
        for domain_id in _registrant_domains(event):
            enqueue("reseller.domains.tasks.set_suspended", domain_id, False)


@on_event("registrant.transfer_decision")
def on_transfer_decision(event: Event) -> None:
    """White label's approve/stop page answered a transfer out: act after the commit."""
    if event.data.get("direction") != "out":
        return
    domain = find_live_domain(str(event.data.get("domain") or ""))
    if domain is not None and domain.reseller_id == event.reseller_id:
        enqueue("reseller.domains.tasks.answer_transfer_out", domain.id,
                event.data.get("decision") == "approve")


@on_event("registrant.owner_change_decision")
def on_owner_change_decision(event: Event) -> None:
    """White label's confirm/decline page answered an owner change."""
    orders.decide_owner_change(reseller_id=event.reseller_id,
                               order_id=int(event.data.get("order_id") or 0),
                               approve=event.data.get("decision") == "approve",
                               lock_opt_out=bool(event.data.get("lock_opt_out")))


@periodic("domains.owner_change_expiry", "40 * * * *")
def expire_owner_changes() -> int:
    """Fail owner changes the registrant did not confirm within the approval period."""
    return orders.expire_owner_changes()


@periodic("domains.recover_orders", "*/5 * * * *")
def recover_orders() -> None:
    """Finish orders left half done (crash, timeout) by asking the registry."""
    minutes = current_app.config.get("ORDER_RECOVERY_AFTER_MINUTES", 5)
    lifecycle.recover_orders(older_than=timedelta(minutes=minutes))


def recover_one(order_id: int) -> str:
    """Ask the registry what became of one open order and finish it (console button)."""
    return recovery.recover_order(order_id)


def push_contact(contact_id: int) -> None:
    """Send a contact whose update's answer was lost to its registries again (RQ retries
    while the answer is still lost)."""
    contacts.resend_contact(contact_id)


def resolve_change(domain_id: int) -> None:
    """Resolve one domain's change whose answer was lost; still unknown: RQ retries."""
    pending.resolve_pending(domain_id, registry=get_registry())


@periodic("domains.resolve_changes", "* * * * *")
def resolve_changes() -> dict[str, int]:
    """Resolve registry commands whose answer was lost (``Domain.pending_change``) by
    sending them again with their transaction id; our record takes what the registry did."""
    return pending.resolve_pending_changes()


@periodic("domains.transfers", "*/10 * * * *")
def check_transfers() -> None:
    """Settle pending transfers in and handle the registry's messages (transfers out)."""
    lifecycle.poll_registry()
    lifecycle.check_transfers()


@periodic("registry.poll", "*/5 * * * *")
def poll_registry() -> int:
    """Read and acknowledge the registry's poll queue (transfers in and out); the number
    of messages handled (``flask registry poll`` prints it)."""
    return lifecycle.poll_registry()


@periodic("registry.sync", "20 * * * *")
def sync_registry(*names: str) -> sync.SyncReport:
    """Read names at the registry and apply what differs (``flask registry sync [NAME…]``:
    the names given, else the run's due names)."""
    config = current_app.config
    return sync.sync_domains(
        names=list(names) or None, limit=config.get("REGISTRY_SYNC_BATCH", 200),
        min_age=timedelta(hours=config.get("REGISTRY_SYNC_MIN_AGE_HOURS", 24)),
        per_second=config.get("REGISTRY_SYNC_PER_SECOND", 5.0))


@periodic("domains.lifecycle", "15 3 * * *")
def run_lifecycle() -> None:
    """Reminders, auto-renew, and expiry → grace → redemption → deleted."""
    lifecycle.send_reminders()
    lifecycle.auto_renew(days_ahead=current_app.config.get("AUTO_RENEW_DAYS_AHEAD", 14))
    lifecycle.expire_domains()


@periodic("catalog.promote_tiers", "45 2 * * *")
def promote_tiers() -> None:
    """Move resellers up a volume tier on trailing-12-month purchases (never down)."""
    lifecycle.promote_tiers()
