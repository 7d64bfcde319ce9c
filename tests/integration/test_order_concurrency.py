"""Concurrent orders for one name, on PostgreSQL with real commits: one domain, one charge."""

import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from reseller.accounts.models import Reseller
from reseller.catalog import services as catalog
from reseller.core.db import unit_of_work
from reseller.core.errors import DomainError
from reseller.core.extensions import db
from reseller.domains import contacts, orders
from reseller.domains.models import Domain, Order
from tests.support.domains import CONTACT
from wallet import services as wallet
from wallet.money import Money

pytestmark = pytest.mark.postgres_only


def _reseller(n: int) -> tuple[int, int]:
    with unit_of_work():
        reseller = Reseller(company_name=f"Kilpailija {n} Oy", country="FI",
                            business_id="2464491-9", contact_email=f"k{n}@example.test",
                            language="fi", status="active", tier="standard")
        db.session.add(reseller)
        db.session.flush()
        wallet.open_wallet(reseller_id=reseller.id)
        wallet.adjust_funds(reseller_id=reseller.id, amount=Money.of("100.00"),
                            reason="test", actor="test", reference=f"race-{n}")
        contact = contacts.create_contact(reseller_id=reseller.id, **CONTACT)
        return reseller.id, contact.id


def _race(app, attempts):
    outcomes, barrier = [], threading.Barrier(len(attempts))

    def attempt(reseller_id, contact_id, key):
        with app.app_context():
            barrier.wait()
            try:
                with unit_of_work():
                    order = orders.order_register(
                        reseller_id=reseller_id, name="kiistelty.fi", period=1,
                        contacts={"registrant": contact_id}, idempotency_key=key)
                    outcomes.append(("order", order.id))
            except DomainError as refused:
                outcomes.append(("refused", refused.code))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=args) for args in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_concurrent_orders_for_one_name_make_one_domain_and_one_charge(app, committed_db):
    with unit_of_work():
        catalog.install_defaults()
    players = [_reseller(n) for n in range(3)]
    attempts = [(rid, cid, f"race-{rid}-{i}") for rid, cid in players for i in range(2)]
    outcomes = _race(app, attempts)
    app.extensions["tunnus.jobs"].run_all()
    placed = {value for kind, value in outcomes if kind == "order"}
    assert len(placed) == 1, outcomes
    assert {value for kind, value in outcomes if kind == "refused"} <= {
        "order_in_progress", "domain_unavailable"}
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Domain)) == 1
    assert db.session.get(Order, placed.pop()).state == "completed"
    spent = sum(Decimal("100.00") - wallet.available(reseller_id=rid).amount
                for rid, _ in players)
    assert spent == Decimal("12.42")


def test_concurrent_retries_with_one_key_hold_once(app, committed_db):
    with unit_of_work():
        catalog.install_defaults()
    rid, cid = _reseller(9)
    outcomes = _race(app, [(rid, cid, "same-key")] * 4)
    ids = {value for kind, value in outcomes if kind == "order"}
    assert len(ids) == 1, outcomes
    assert wallet.available(reseller_id=rid) == Money.of("87.58")
