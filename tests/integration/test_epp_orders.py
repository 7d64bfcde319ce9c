"""The order saga with ``REGISTRY_ADAPTER=epp``: hold → EPP create → capture, through our
EPP client and the sandbox registry's EPP server, including a connection that drops after
the create was sent. Everything commits for real (the server runs on its own threads)."""

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from reseller.accounts.models import Reseller
from reseller.catalog import services as catalog
from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.domains import contacts, orders
from reseller.domains.models import Domain, Order
from reseller.registry.errors import RegistryTimeout
from tests.support.domains import CONTACT
from tests.support.epp import client_registries, epp_router, transfer_request_frame
from tests.support.epp_hostile import HostileServer
from wallet import services as wallet
from wallet.money import Money

# SQLite has one writer: a contact created inside the test's transaction would wait for
# the EPP server's write of the same contact (both processes share the database).
pytestmark = pytest.mark.postgres_only

PRICE = Money.of("12.42")  # .fi, 1 year, net 9.90 + 25.5 % VAT


def shift_clock(by: timedelta | None) -> None:
    """Move the sandbox clock (``None``: back to now), committed so the EPP server's
    threads see it too."""
    with unit_of_work():
        clock.set_offset(timedelta(0) if by is None else clock.offset() + by)


@pytest.fixture
def epp_app(app, epp_server):
    """The app with ``REGISTRY_ADAPTER=epp`` pointed at the sandbox EPP server."""
    original = app.extensions["tunnus.registry"]
    router = epp_router(epp_server)
    app.extensions["tunnus.registry"] = router
    app.extensions["tunnus.jobs"].jobs.clear()
    yield app
    app.extensions["tunnus.registry"] = original
    app.extensions["tunnus.jobs"].jobs.clear()
    router.close()


@pytest.fixture
def placed(epp_app):
    """A funded reseller with a contact (created at the registry over EPP) and a held
    order for toimiva.fi: (reseller id, order id, order reference)."""
    with unit_of_work():
        catalog.install_defaults()
        reseller = Reseller(company_name="Asiakas Oy", country="FI", business_id="2464491-9",
                            contact_email="a@example.test", language="fi", status="active",
                            tier="standard")
        db.session.add(reseller)
        db.session.flush()
        wallet.open_wallet(reseller_id=reseller.id)
        wallet.adjust_funds(reseller_id=reseller.id, amount=Money.of("100.00"),
                            reason="test", actor="test", reference="epp-saga")
        contact = contacts.create_contact(reseller_id=reseller.id, **CONTACT)
    with unit_of_work():
        order = orders.order_register(reseller_id=reseller.id, name="toimiva.fi", period=1,
                                      contacts={"registrant": contact.id},
                                      idempotency_key="epp-saga-1")
    return reseller.id, order.id, order.reference


def assert_charged_once(reseller_id, order_id, reference):
    db.session.expire_all()
    assert db.session.get(Order, order_id).state == "completed"
    assert wallet.get_hold(reference=reference).state == "captured"
    assert wallet.available(reseller_id=reseller_id) == Money.of("100.00") - PRICE
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Domain)
                             .where(Domain.name == "toimiva.fi")) == 1
    info = db.session.get(Domain, db.session.get(Order, order_id).domain_id)
    assert info.registrant.handle


def test_an_order_is_held_created_over_epp_and_captured(placed, epp_server):
    reseller_id, order_id, reference = placed
    assert wallet.get_hold(reference=reference).state == "active"
    orders.process_order(order_id)
    assert_charged_once(reseller_id, order_id, reference)
    with epp_server.app.app_context():
        registered = epp_server.registry().info("toimiva.fi")
    assert registered.sponsor == "tunnus"
    orders.process_order(order_id)  # a late duplicate of the job changes nothing
    assert_charged_once(reseller_id, order_id, reference)


def test_a_dropped_connection_after_the_create_is_retried_and_charged_once(placed, epp_server):
    reseller_id, order_id, reference = placed
    epp_server.inject("create", "drop")
    with pytest.raises(RegistryTimeout):
        orders.process_order(order_id)
    db.session.expire_all()
    assert db.session.get(Order, order_id).state == "held"  # nothing charged yet
    assert wallet.get_hold(reference=reference).state == "active"
    orders.process_order(order_id)  # RQ's retry: same clTRID, resolved by info
    assert_charged_once(reseller_id, order_id, reference)


def test_a_dropped_connection_is_finished_by_the_recovery_job(placed, epp_app, epp_server):
    reseller_id, order_id, reference = placed
    epp_server.inject("create", "drop")
    with pytest.raises(RegistryTimeout):
        orders.process_order(order_id)
    outcome = epp_app.extensions["tunnus.registry"].transaction(reference)
    assert outcome.ok and outcome.result.name == "toimiva.fi"
    shift_clock(timedelta(minutes=10))
    try:
        result = epp_app.test_cli_runner().invoke(args=["jobs", "run", "domains.recover_orders"])
        assert result.exit_code == 0, result.output
    finally:
        shift_clock(None)
    assert_charged_once(reseller_id, order_id, reference)


def test_a_taken_name_releases_the_hold_and_charges_nothing(placed, epp_server):
    reseller_id, order_id, reference = placed
    epp_server.seed_foreign("toimiva.fi", "Vieras-koodi-1")
    orders.process_order(order_id)
    db.session.expire_all()
    assert db.session.get(Order, order_id).state == "failed"
    assert wallet.get_hold(reference=reference).state == "released"
    assert wallet.available(reseller_id=reseller_id) == Money.of("100.00")


@pytest.mark.parametrize("mode", ["doctype", "malformed", "oversized"])
def test_a_registry_answering_garbage_charges_nothing(placed, epp_app, epp_server, mode):
    from reseller.registry.epp.server import server_context
    from reseller.registry.services import registry_from_config

    reseller_id, order_id, reference = placed
    pki = epp_server.pki
    hostile = HostileServer(server_context(pki.server_cert, pki.server_key, pki.ca), mode=mode)
    router = registry_from_config({
        "REGISTRY_ADAPTER": "epp", "REGISTRY_CLIENT_ID": "tunnus",
        "EPP_REGISTRIES": client_registries(epp_server).replace(
            f'"port": {epp_server.port}', f'"port": {hostile.port}')})
    sane = epp_app.extensions["tunnus.registry"]
    epp_app.extensions["tunnus.registry"] = router
    try:
        with pytest.raises(RegistryTimeout):  # a ProtocolError: the outcome is unknown
            orders.process_order(order_id)
    finally:
        epp_app.extensions["tunnus.registry"] = sane
        router.close()
        hostile.stop()
    db.session.expire_all()
    assert db.session.get(Order, order_id).state == "held"
    assert wallet.get_hold(reference=reference).state == "active"
    assert wallet.available(reseller_id=reseller_id) == Money.of("100.00") - PRICE  # held
    orders.process_order(order_id)  # the real registry never saw it: sent again, once
    assert_charged_once(reseller_id, order_id, reference)


def test_a_transfer_out_request_arrives_through_the_poll_job(placed, epp_app, epp_server):
    reseller_id, order_id, reference = placed
    orders.process_order(order_id)
    registry = epp_app.extensions["tunnus.registry"]
    code = registry.auth_code(name="toimiva.fi", transaction_id="auth-out-1")
    with epp_server.connect(epp_server.other_client_id) as other:
        asked = other.command(transfer_request_frame("toimiva.fi", code))
        assert asked.code == 1001, asked.message
    result = epp_app.test_cli_runner().invoke(args=["registry", "poll"])
    assert result.exit_code == 0, result.output
    assert "1 message(s) handled" in result.output
    db.session.expire_all()
    domain = db.session.scalar(sa.select(Domain).where(Domain.name == "toimiva.fi"))
    assert domain.transfer_out_pending
    assert registry.poll() == []  # acknowledged


def test_a_transfer_in_finishes_when_its_approval_arrives_in_the_poll_queue(
        placed, epp_app, epp_server):
    reseller_id, _, _ = placed
    epp_server.seed_foreign("tuleva.fi", "Siirto-koodi-9")
    with unit_of_work():
        order = orders.order_transfer(reseller_id=reseller_id, name="tuleva.fi",
                                      auth_code="Siirto-koodi-9", idempotency_key="in-1")
    orders.process_order(order.id)
    db.session.expire_all()
    assert db.session.get(Order, order.id).registry_status == "pending_transfer"
    with epp_server.connect(epp_server.other_client_id) as other:
        approved = other.command('<transfer op="approve"><domain:transfer><domain:name>'
                                 "tuleva.fi</domain:name></domain:transfer></transfer>")
        assert approved.code == 1000, approved.message
    result = epp_app.test_cli_runner().invoke(args=["registry", "poll"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(Order, order.id).state == "completed"
    assert wallet.get_hold(reference=order.reference).state == "captured"
    domain = db.session.scalar(sa.select(Domain).where(Domain.name == "tuleva.fi"))
    assert domain.status == "active"


def test_a_premium_order_over_epp_is_charged_only_at_the_accepted_fee(
        placed, epp_server, monkeypatch):
    reseller_id, _, _ = placed
    contact_id = db.session.scalar(sa.select(Order).where(
        Order.idempotency_key == "epp-saga-1")).params["contacts"]["registrant"]
    with unit_of_work():
        wallet.adjust_funds(reseller_id=reseller_id, amount=Money.of("700.00"),
                            reason="test", actor="test", reference="epp-premium")
        accepted = orders.order_register(
            reseller_id=reseller_id, name="kauppa.fi", period=1,
            contacts={"registrant": contact_id}, idempotency_key="epp-premium-1",
            accept_price=Money.of("250.00"))
        repriced = orders.order_register(
            reseller_id=reseller_id, name="hotelli.fi", period=1,
            contacts={"registrant": contact_id}, idempotency_key="epp-premium-2",
            accept_price=Money.of("250.00"))
    orders.process_order(accepted.id)
    from reseller.registry.sandbox_state import PREMIUM_WORDS

    monkeypatch.setitem(PREMIUM_WORDS, "hotelli", Decimal("260.00"))  # the registry repriced
    orders.process_order(repriced.id)
    db.session.expire_all()
    assert db.session.get(Order, accepted.id).state == "completed"
    assert wallet.get_hold(reference=accepted.reference).state == "captured"
    failed = db.session.get(Order, repriced.id)
    assert failed.state == "failed" and failed.reason.startswith("2004")
    assert wallet.get_hold(reference=failed.reference).state == "released"
    assert wallet.available(reseller_id=reseller_id) == \
        Money.of("800.00") - PRICE - Money.of("313.75")
    with epp_server.app.app_context():
        assert epp_server.registry().info("hotelli.fi") is None
