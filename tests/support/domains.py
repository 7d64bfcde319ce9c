"""Helpers for domain tests: the catalogue, funded resellers, contacts, orders run to the end."""

from __future__ import annotations

from typing import Any

from reseller.catalog import services as catalog
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.domains import contacts
from reseller.registry.services import get_registry
from wallet import services as wallet
from wallet.money import Money

CONTACT = {"name": "Maija Meikäläinen", "organization": "Asiakas Oy",
           "registration_number": "2464491-9",
           "email": "maija@asiakas.example", "phone": "+358.401234567",
           "street": "Mannerheimintie 2", "city": "Helsinki", "postal_code": "00100",
           "country": "FI", "language": "fi"}


def install_catalogue() -> None:
    with unit_of_work():
        catalog.install_defaults()


def fund(reseller: Any, amount: str = "100.00", *, payment_mode: str = "prepaid") -> None:
    with unit_of_work():
        wallet.open_wallet(reseller_id=reseller.id, payment_mode=payment_mode)
        if amount and payment_mode == "prepaid":
            wallet.adjust_funds(reseller_id=reseller.id, amount=Money.of(amount),
                                reason="test top-up", actor="test",
                                reference=f"test-fund-{reseller.id}-{amount}")


def available(reseller: Any) -> Money:
    db.session.expire_all()
    return wallet.available(reseller_id=reseller.id)


def make_contact(reseller: Any, **overrides: Any):
    with unit_of_work():
        return contacts.create_contact(reseller_id=reseller.id, **{**CONTACT, **overrides})


def sandbox():
    return get_registry()


def order_jobs(jobs) -> list:
    """The queued order jobs (other packages queue mail and webhooks on the same events)."""
    return [job for job in jobs.jobs if job[0] == "reseller.domains.tasks.process_order"]
