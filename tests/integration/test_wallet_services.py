"""The wallet's services on a real database: holds, captures, releases, refunds, limits."""

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.events import Event
from reseller.core.extensions import db
from tests.support.wallet import eur, fund, make_postpaid
from wallet import credit, ledger, services
from wallet.errors import (
    CaptureExceedsHold,
    CreditLimitExceeded,
    HoldNotActive,
    InsufficientFunds,
    InvalidAmount,
)
from wallet.models import Purchase

RATE = Decimal("0.255")


def hold(reseller_id, net="10.00", reference="order-1", rate=RATE, **kwargs):
    with unit_of_work():
        return services.hold_funds(reseller_id=reseller_id, net=eur(net), vat_rate=rate,
                                   reference=reference, description="example.fi register 1y",
                                   item={"domain": "example.fi", "operation": "register",
                                         "period": 1}, **kwargs)


def avail(reseller_id):
    return services.available(reseller_id=reseller_id)


@pytest.fixture
def reseller(factory):
    return factory.reseller()


@pytest.mark.smoke
def test_hold_then_capture_charges_gross_once(reseller):
    fund(reseller.id, "50.00")
    held = hold(reseller.id)
    assert held.gross == eur("12.55") and held.state == "active"
    assert avail(reseller.id) == eur("37.45")
    with unit_of_work():
        purchase = services.capture_hold(reference="order-1")
    with unit_of_work():
        again = services.capture_hold(reference="order-1")
    assert again.id == purchase.id
    assert (purchase.net, purchase.vat, purchase.gross) == (eur("10.00"), eur("2.55"), eur("12.55"))
    wallet = services.get_wallet(reseller_id=reseller.id)
    assert wallet.balance == eur("37.45") and wallet.held == eur("0.00")
    assert services.get_hold(reference="order-1").state == "captured"
    assert ledger.verify() == []


def test_same_reference_returns_the_same_hold(reseller):
    fund(reseller.id, "50.00")
    first = hold(reseller.id)
    second = hold(reseller.id)
    assert first.id == second.id
    assert avail(reseller.id) == eur("37.45")
    assert ledger.verify() == []


def test_replayed_hold_is_returned_even_when_funds_ran_out(reseller):
    fund(reseller.id, "12.55")
    first = hold(reseller.id)
    assert hold(reseller.id).id == first.id
    assert avail(reseller.id) == eur("0.00")


def test_insufficient_funds_holds_nothing(reseller):
    fund(reseller.id, "12.54")
    with pytest.raises(InsufficientFunds) as refused:
        hold(reseller.id)
    assert refused.value.to_problem()["available"] == "12.54"
    assert refused.value.to_problem()["needed"] == "12.55"
    assert refused.value.status == 402
    assert services.get_hold(reference="order-1") is None
    assert avail(reseller.id) == eur("12.54")


def test_release_gives_the_money_back_once(reseller):
    fund(reseller.id, "20.00")
    hold(reseller.id)
    for _ in range(2):
        with unit_of_work():
            services.release_hold(reference="order-1", reason="registry refused")
    assert avail(reseller.id) == eur("20.00")
    assert services.get_hold(reference="order-1").state == "released"
    with pytest.raises(HoldNotActive), unit_of_work():
        services.capture_hold(reference="order-1")
    assert ledger.verify() == []


def test_releasing_a_hold_that_was_never_made_is_a_no_op(reseller):
    fund(reseller.id, "1.00")
    with pytest.raises(InsufficientFunds):
        hold(reseller.id)
    with unit_of_work():
        services.release_hold(reference="order-1", reason="registry refused")
    assert avail(reseller.id) == eur("1.00")


def test_released_after_capture_is_a_no_op(reseller):
    fund(reseller.id, "20.00")
    hold(reseller.id)
    with unit_of_work():
        services.capture_hold(reference="order-1")
        services.release_hold(reference="order-1")
    assert avail(reseller.id) == eur("7.45")


def test_partial_capture_returns_the_rest(reseller):
    fund(reseller.id, "20.00")
    hold(reseller.id, net="10.00")
    with unit_of_work():
        purchase = services.capture_hold(reference="order-1", net=eur("8.00"))
    assert purchase.gross == eur("10.04")
    assert avail(reseller.id) == eur("9.96")
    assert ledger.verify() == []


def test_capture_larger_than_hold_is_refused(reseller):
    fund(reseller.id, "20.00")
    hold(reseller.id, net="10.00")
    with pytest.raises(CaptureExceedsHold), unit_of_work():
        services.capture_hold(reference="order-1", net=eur("10.01"))
    assert services.get_hold(reference="order-1").state == "active"


def test_zero_rated_reseller_is_charged_net(reseller):
    fund(reseller.id, "20.00")
    held = hold(reseller.id, rate=Decimal("0"))
    assert held.gross == eur("10.00")


def test_vat_rate_given_in_percent_is_refused(reseller):
    fund(reseller.id, "100.00")
    with pytest.raises(ValueError):
        hold(reseller.id, rate=Decimal("25.5"))


def test_fractions_of_a_cent_are_refused(reseller):
    fund(reseller.id, "100.00")
    with pytest.raises(InvalidAmount):
        hold(reseller.id, net="1.001")


def test_expired_holds_are_released_by_the_job(reseller):
    fund(reseller.id, "20.00")
    hold(reseller.id, expires_at=clock.now() + timedelta(hours=1))
    with unit_of_work():
        assert services.expire_holds(now=clock.now() + timedelta(hours=2)) == 1
    with unit_of_work():
        assert services.expire_holds(now=clock.now() + timedelta(hours=2)) == 0
    assert services.get_hold(reference="order-1").state == "expired"
    assert avail(reseller.id) == eur("20.00")


def test_refund_reverses_a_purchase_once(reseller):
    fund(reseller.id, "20.00")
    hold(reseller.id)
    with unit_of_work():
        services.capture_hold(reference="order-1")
    with unit_of_work():
        first = services.refund_purchase(reference="order-1", reason="duplicate order")
    with unit_of_work():
        second = services.refund_purchase(reference="order-1", reason="duplicate order")
    assert first.id == second.id and first.reverses == "capture:order-1"
    assert avail(reseller.id) == eur("20.00")
    purchase = services.get_purchase(reference="order-1")
    assert purchase.refunded and purchase.refunded_at is not None
    assert ledger.verify() == []


def test_purchases_are_listed_by_month(reseller):
    fund(reseller.id, "100.00")
    hold(reseller.id, reference="a")
    with unit_of_work():
        services.capture_hold(reference="a")
    start = clock.now() - timedelta(days=1)
    found = services.purchases_between(reseller_id=reseller.id, start=start,
                                       end=clock.now() + timedelta(days=1))
    assert [p.reference for p in found] == ["a"]
    assert db.session.scalar(sa.select(sa.func.sum(Purchase.gross_amount))
                             .where(Purchase.reseller_id == reseller.id)) == Decimal("12.55")


@pytest.mark.smoke
def test_postpaid_purchases_accrue_up_to_the_limit(factory):
    reseller = factory.reseller(payment_mode="postpaid")
    make_postpaid(reseller.id, "30.00")
    hold(reseller.id, reference="a")
    with unit_of_work():
        services.capture_hold(reference="a")
    hold(reseller.id, reference="b")
    with pytest.raises(CreditLimitExceeded) as refused:
        hold(reseller.id, reference="c")
    assert refused.value.to_problem()["code"] == "credit_limit_exceeded"
    wallet = services.get_wallet(reseller_id=reseller.id)
    assert wallet.available == eur("4.90") and wallet.payment_mode == "postpaid"
    assert wallet.owed == eur("12.55") and wallet.held == eur("12.55")
    assert ledger.verify() == []


def test_postpaid_available_is_limit_minus_exposure(factory):
    reseller = factory.reseller()
    make_postpaid(reseller.id, "100.00")
    hold(reseller.id)
    assert avail(reseller.id) == eur("87.45")
    with unit_of_work():
        services.release_hold(reference="order-1")
    assert avail(reseller.id) == eur("100.00")


def test_low_balance_event_fires_once_per_crossing(reseller):
    fund(reseller.id, "30.00")
    with unit_of_work():
        credit.set_low_balance_threshold(reseller_id=reseller.id, threshold=eur("20.00"),
                                           actor="test")
    hold(reseller.id, reference="a")
    hold(reseller.id, reference="b")
    events = db.session.scalars(sa.select(Event).where(
        Event.reseller_id == reseller.id, Event.type == "wallet.low_balance")).all()
    assert len(events) == 1 and events[0].data["available"] == "17.45"
    fund(reseller.id, "50.00")
    hold(reseller.id, reference="c", net="40.00")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event).where(
        Event.reseller_id == reseller.id, Event.type == "wallet.low_balance")) == 2


def test_database_refuses_an_unbalanced_transfer(reseller):
    with pytest.raises(sa.exc.DatabaseError), unit_of_work():
        db.session.execute(sa.insert(ledger.LedgerEntry.__table__).values([
            {"transfer_reference": "bad", "account": ledger.FUNDS, "reseller_id": reseller.id,
             "amount": Decimal("1.00")},
            {"transfer_reference": "bad", "account": ledger.REVENUE, "reseller_id": None,
             "amount": Decimal("-0.99")}]))
        db.session.execute(sa.insert(ledger.LedgerTransfer.__table__).values(
            reference="bad", kind="test", currency="EUR", description="",
            created_at=clock.now()))


def test_database_refuses_changing_an_entry(reseller):
    fund(reseller.id, "10.00")
    with pytest.raises(sa.exc.DatabaseError), unit_of_work():
        db.session.execute(sa.update(ledger.LedgerEntry.__table__).values(amount=Decimal("5")))


def test_database_refuses_a_leg_added_to_a_sealed_transfer(reseller):
    fund(reseller.id, "10.00")
    ref = db.session.scalar(sa.select(ledger.LedgerTransfer.reference))
    with pytest.raises(sa.exc.DatabaseError), unit_of_work():
        db.session.execute(sa.insert(ledger.LedgerEntry.__table__).values(
            transfer_reference=ref, account=ledger.REVENUE, reseller_id=None,
            amount=Decimal("1.00")))


def test_python_refuses_an_unbalanced_transfer(reseller):
    with pytest.raises(ledger.UnbalancedTransfer):
        ledger.post(reference="x", kind="test", legs=[
            ledger.debit(ledger.REVENUE, Decimal("1")),
            ledger.credit(ledger.VAT_PAYABLE, Decimal("2"))])


def test_trial_balance_sums_to_zero(reseller):
    fund(reseller.id, "40.00")
    hold(reseller.id)
    with unit_of_work():
        services.capture_hold(reference="order-1")
    rows = ledger.trial_balance()
    assert sum(d for _, d, _ in rows) == sum(c for _, _, c in rows)


@pytest.mark.smoke
def test_database_refuses_negative_prepaid_funds_and_negative_debt(reseller):
    """The backstop under every charge path: no statement can overdraw a prepaid wallet."""
    fund(reseller.id, "10.00")
    wallets = services.Wallet.__table__
    for values in ({"funds": Decimal("-0.01")}, {"debt": Decimal("-0.01")}):
        with pytest.raises(sa.exc.IntegrityError), unit_of_work():
            db.session.execute(sa.update(wallets).where(wallets.c.reseller_id == reseller.id)
                               .values(values))


def _reverse(reseller_id, amount, reference="reversal:bank:test"):
    from wallet import reversals
    with unit_of_work():
        return reversals.reverse_payment(reseller_id=reseller_id, original="bank:1",
                                         reference=reference, amount=Decimal(amount),
                                         provider="bank", method="bank_transfer", cause="returned",
                                         reason="returned payment")


@pytest.mark.smoke
def test_funds_released_after_a_reversal_pay_the_debt_before_the_next_order(reseller):
    from wallet.errors import DebtOutstanding
    fund(reseller.id, "100.00")
    hold(reseller.id, net="80.00", reference="big", rate=Decimal("0"))
    assert _reverse(reseller.id, "50.00") and not _reverse(reseller.id, "50.00")
    wallet = services.get_wallet(reseller_id=reseller.id)
    assert (wallet.funds, wallet.debt, wallet.available) == (eur("0.00"), eur("30.00"),
                                                             eur("-30.00"))
    with pytest.raises(DebtOutstanding) as refused:
        hold(reseller.id, reference="blocked")
    assert refused.value.extra["debt"] == "30.00"
    with unit_of_work():
        services.release_hold(reference="big")
    hold(reseller.id, reference="after")  # 80.00 back: 30.00 pays the debt, 12.55 the order
    wallet = services.get_wallet(reseller_id=reseller.id)
    assert (wallet.funds, wallet.debt) == (eur("37.45"), eur("0.00"))
    kinds = db.session.scalars(sa.select(ledger.LedgerTransfer.kind).where(
        ledger.LedgerTransfer.reseller_id == reseller.id)
        .order_by(ledger.LedgerTransfer.id)).all()
    assert kinds[-2:] == ["debt", "hold"]
    assert ledger.verify() == []


def test_a_withdrawal_pays_out_only_what_is_left_after_the_debt(reseller):
    from wallet import withdrawals
    fund(reseller.id, "100.00")
    hold(reseller.id, net="80.00", reference="big", rate=Decimal("0"))
    _reverse(reseller.id, "50.00")
    with unit_of_work():
        services.release_hold(reference="big")
    with pytest.raises(InsufficientFunds), unit_of_work():
        withdrawals.request_withdrawal(reseller_id=reseller.id, amount=eur("80.00"),
                                       idempotency_key="w1")
    with unit_of_work():
        withdrawals.request_withdrawal(reseller_id=reseller.id, amount=eur("50.00"),
                                       idempotency_key="w2")
    wallet = services.get_wallet(reseller_id=reseller.id)
    assert (wallet.funds, wallet.debt, wallet.held) == (eur("0.00"), eur("0.00"), eur("50.00"))
    assert ledger.verify() == []
