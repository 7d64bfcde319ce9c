"""RQ jobs and periodic work for domains. Each takes ids, re-checks state, and is safe to
run twice; every periodic job is also ``flask jobs run NAME``."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from reseller.core.jobs import periodic
from reseller.domains import lifecycle, orders


def process_order(order_id: int) -> None:
    orders.process_order(order_id)


@periodic("domains.recover_orders", "*/5 * * * *")
def recover_orders() -> None:
    """Finish orders left half done (crash, timeout) by asking the registry."""
    minutes = current_app.config.get("ORDER_RECOVERY_AFTER_MINUTES", 5)
    lifecycle.recover_orders(older_than=timedelta(minutes=minutes))


@periodic("domains.transfers", "*/10 * * * *")
def check_transfers() -> None:
    """Settle pending transfers in and handle the registry's messages (transfers out)."""
    lifecycle.poll_registry()
    lifecycle.check_transfers()


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
