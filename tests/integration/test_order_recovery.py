"""Crashes between the steps of an order: the recovery job asks the registry what happened
and finishes each order exactly once, so the wallet and the registry agree."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.events import Event
from reseller.core.extensions import db
from reseller.domains import orders
from reseller.domains.models import Domain, Order
from reseller.registry.errors import RegistryTimeout
from reseller.registry.sandbox import SimulatedCrash
from tests.support.domains import available, fund, install_catalogue, make_contact, sandbox
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


def place(reseller, name="toipuva.fi"):
    contact = make_contact(reseller)
    with unit_of_work():
        order = orders.order_register(reseller_id=reseller.id, name=name, period=1,
                                      contacts={"registrant": contact.id},
                                      idempotency_key=f"key-{name}")
    return order.id, order.reference


def recover(app):
    clock.set_offset(clock.offset() + timedelta(minutes=10))
    result = app.test_cli_runner().invoke(args=["jobs", "run", "domains.recover_orders"])
    assert result.exit_code == 0, result.output


def assert_finished_once(reseller, order_id, reference, name="toipuva.fi"):
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    assert order.state == "completed"
    assert wallet.get_hold(reference=reference).state == "captured"
    assert available(reseller) == Money.of("100.00") - PRICE
    assert sandbox().info(name).sponsor == "tunnus"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Domain)
                             .where(Domain.name == name)) == 1
    completed = db.session.scalars(sa.select(Event).where(
        Event.type == "order.completed")).all()
    assert [e.data["order_id"] for e in completed].count(order_id) == 1


@pytest.mark.smoke
def test_crash_between_registry_success_and_capture_is_finished_once(reseller, jobs, app):
    order_id, reference = place(reseller)
    sandbox().inject("create", "crash_after")
    with pytest.raises(SimulatedCrash):
        jobs.run_all()  # the worker dies: its job is gone with it
    db.session.expire_all()
    assert db.session.get(Order, order_id).state == "held"
    assert sandbox().info("toipuva.fi").sponsor == "tunnus"  # the registry did act
    assert wallet.get_hold(reference=reference).state == "active"
    recover(app)
    jobs.run_all()
    assert_finished_once(reseller, order_id, reference)
    # a late retry of the crashed job, and another recovery run, change nothing
    with unit_of_work():
        pass
    orders.process_order(order_id)
    recover(app)
    jobs.run_all()
    assert_finished_once(reseller, order_id, reference)


def test_crash_between_hold_and_registry_call_is_submitted_once(reseller, jobs, app):
    order_id, reference = place(reseller)
    jobs.jobs.clear()  # the process died after the commit, before the job ran
    assert sandbox().transaction(reference) is None
    recover(app)
    assert jobs.jobs, "recovery resubmits an order the registry never saw"
    jobs.run_all()
    assert_finished_once(reseller, order_id, reference)


def test_crash_inside_the_job_before_the_registry_call(reseller, jobs, app):
    order_id, reference = place(reseller)
    sandbox().inject("create", "crash_before")
    with pytest.raises(SimulatedCrash):
        jobs.run_all()
    assert db.session.get(Order, order_id).submitted_at is not None
    recover(app)
    jobs.run_all()
    assert_finished_once(reseller, order_id, reference)


def test_a_timeout_after_success_is_retried_with_the_same_transaction(reseller, jobs):
    order_id, reference = place(reseller)
    sandbox().inject("create", "timeout")
    with pytest.raises(RegistryTimeout):
        jobs.run_all()
    orders.process_order(order_id)  # rq's retry
    assert_finished_once(reseller, order_id, reference)


def test_an_unreachable_registry_leaves_the_order_held_for_a_retry(reseller, jobs):
    order_id, reference = place(reseller)
    sandbox().inject("*", "unavailable")
    from reseller.registry.errors import RegistryUnavailable

    with pytest.raises(RegistryUnavailable):
        jobs.run_all()
    assert sandbox().transaction(reference) is None
    assert wallet.get_hold(reference=reference).state == "active"
    orders.process_order(order_id)
    assert_finished_once(reseller, order_id, reference)


def test_renewal_crash_extends_the_expiry_exactly_once(reseller, jobs, app):
    order_id, reference = place(reseller)
    jobs.run_all()
    first_expiry = sandbox().info("toipuva.fi").expires_at
    with unit_of_work():
        renewal = orders.order_renew(reseller_id=reseller.id, name="toipuva.fi", period=1,
                                     idempotency_key="renew-1")
    sandbox().inject("renew", "crash_after")
    with pytest.raises(SimulatedCrash):
        jobs.run_all()
    recover(app)
    jobs.run_all()
    recover(app)
    db.session.expire_all()
    registry_expiry = sandbox().info("toipuva.fi").expires_at
    assert registry_expiry.year == first_expiry.year + 1
    assert db.session.get(Domain, db.session.get(Order, order_id).domain_id).expires_at == \
        registry_expiry
    assert db.session.get(Order, renewal.id).state == "completed"
    assert available(reseller) == Money.of("100.00") - PRICE - PRICE
