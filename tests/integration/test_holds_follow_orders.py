"""Holds follow their orders: never let go while the registry's answer is open, and a
registry success is always charged (the hold, the money taken again, or the operator told)."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.domains import orders
from reseller.domains.models import Order
from reseller.registry.errors import RegistryTimeout
from tests.support.domains import available, fund, install_catalogue, make_contact, sandbox
from wallet import ledger
from wallet import services as wallet
from wallet.money import Money

PRICE = Money.of("12.42")  # .fi, 1 year, net 9.90 + 25.5 % VAT


@pytest.fixture
def reseller(factory):
    install_catalogue()
    reseller = factory.reseller()
    fund(reseller, "100.00")
    return reseller


@pytest.fixture(autouse=True)
def _clean_faults(app):
    yield
    app.extensions["tunnus.registry"].clear_faults()


def place(reseller, name):
    contact = make_contact(reseller)
    with unit_of_work():
        order = orders.order_register(reseller_id=reseller.id, name=name, period=1,
                                      contacts={"registrant": contact.id},
                                      idempotency_key=f"key-{name}")
    return order.id, order.reference


def expire_holds_days_later(days: int) -> int:
    with unit_of_work():
        clock.set_offset(clock.offset() + timedelta(days=days))
        return wallet.expire_holds()


def charged_once(reference: str) -> Money:
    db.session.expire_all()
    purchase = wallet.get_purchase(reference=reference)
    return Money(purchase.gross_amount, purchase.currency)


@pytest.mark.smoke
def test_an_order_open_longer_than_its_hold_completes_and_is_charged(reseller, jobs):
    order_id, reference = place(reseller, "pitkakestoinen.fi")
    sandbox().inject("create", "timeout")  # the registry does not answer for a while
    with pytest.raises(RegistryTimeout):
        jobs.run_all()
    assert expire_holds_days_later(8) == 0  # 8 days > the 7-day hold: kept, not expired
    hold = wallet.get_hold(reference=reference)
    assert hold.state == "active" and hold.extensions == 1
    assert hold.expires_at > clock.now()
    app_registry = sandbox()
    app_registry.clear_faults()
    orders.process_order(order_id)
    db.session.expire_all()
    assert db.session.get(Order, order_id).state == "completed"
    assert charged_once(reference) == PRICE
    assert available(reseller) == Money.of("100.00") - PRICE
    assert ledger.verify() == []


@pytest.mark.smoke
def test_a_success_after_the_hold_ended_takes_the_money_again(reseller, jobs):
    """A hold released by hand (or by an expiry before holds followed orders)."""
    order_id, reference = place(reseller, "myohainen.fi")
    jobs.jobs.clear()
    with unit_of_work():
        wallet.release_hold(reference=reference, reason="released by hand")
    assert available(reseller) == Money.of("100.00")
    orders.process_order(order_id)
    db.session.expire_all()
    assert db.session.get(Order, order_id).state == "completed"
    assert charged_once(reference) == PRICE
    assert available(reseller) == Money.of("100.00") - PRICE
    assert orders.unpaid_orders() == []


def test_a_success_with_no_money_left_is_shown_to_the_operator_with_its_amount(
        reseller, jobs, factory):
    order_id, reference = place(reseller, "rahaton.fi")
    jobs.jobs.clear()
    with unit_of_work():
        wallet.release_hold(reference=reference, reason="released by hand")
        wallet.adjust_funds(reseller_id=reseller.id, amount=Money.of("-95.00"),
                            reason="spent elsewhere", actor="test", reference="spend-1")
    orders.process_order(order_id)  # the registry registered it: the order completes
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    assert order.state == "completed"
    assert [o.id for o in orders.unpaid_orders()] == [order_id]
    assert available(reseller) == Money.of("5.00")  # nothing half-charged


def test_expiry_still_releases_holds_of_finished_or_unknown_purchases(reseller, jobs):
    order_id, reference = place(reseller, "valmis.fi")
    with unit_of_work():
        other = wallet.hold_funds(reseller_id=reseller.id, net=Money.of("1.00"),
                                  vat_rate=PRICE.amount * 0, reference="not-an-order",
                                  description="something else",
                                  expires_at=clock.now() + timedelta(days=1))
    assert other.state == "active"
    assert expire_holds_days_later(2) == 1  # the order's 7-day hold is not due yet
    assert wallet.get_hold(reference="not-an-order").state == "expired"
    assert db.session.scalar(sa.select(Order.state).where(Order.id == order_id)) == "held"
