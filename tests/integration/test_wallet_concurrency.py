"""No overspend and no double move under real concurrency (PostgreSQL, real commits)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from reseller.accounts.models import Reseller
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from wallet import ledger, services
from wallet.errors import InsufficientFunds
from wallet.money import Money

pytestmark = pytest.mark.postgres_only
THREADS = 32


def _funded_reseller(amount: str, *, key: str = "race-funds") -> int:
    with unit_of_work():
        reseller = Reseller(company_name="Race Oy", country="FI", business_id="2464491-9",
                            contact_email="race@race.example", language="fi",
                            tier="standard", status="active")
        db.session.add(reseller)
        db.session.flush()
        services.open_wallet(reseller_id=reseller.id)
        services.adjust_funds(reseller_id=reseller.id, amount=Money.of(amount), reason="race",
                              actor="test", reference=key)
        return reseller.id


def _race(app, work) -> list:
    """Run ``work(i)`` in THREADS threads released at the same moment; collect outcomes."""
    barrier = threading.Barrier(THREADS)
    outcomes: list = [None] * THREADS

    def run(i: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                with unit_of_work():
                    outcomes[i] = work(i)
            except Exception as error:  # noqa: BLE001 - the test inspects every outcome
                outcomes[i] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_32_threads_holding_never_overspend(app, committed_db):
    reseller_id = _funded_reseller("100.00")  # covers exactly 8 holds of 12.55 (100.40)

    def hold(i: int):
        return services.hold_funds(reseller_id=reseller_id, net=Money.of("10.00"),
                                   vat_rate=Decimal("0.255"), reference=f"race-{i}",
                                   description="race")

    outcomes = _race(app, hold)
    held = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, InsufficientFunds)]
    assert len(held) == 7 and len(refused) == THREADS - 7, outcomes
    with app.app_context():
        wallet = services.get_wallet(reseller_id=reseller_id)
        assert wallet.funds == Money.of("12.15")
        assert wallet.held == Money.of("87.85")
        assert ledger.verify() == []


def test_32_threads_capturing_and_releasing_resolve_each_hold_once(app, committed_db):
    reseller_id = _funded_reseller("100.00")
    with app.app_context(), unit_of_work():
        for i in range(4):
            services.hold_funds(reseller_id=reseller_id, net=Money.of("10.00"),
                                vat_rate=Decimal("0"), reference=f"h{i}", description="x")

    def resolve(i: int):
        reference = f"h{i % 4}"
        if i % 2:
            return services.capture_hold(reference=reference)
        return services.release_hold(reference=reference)

    _race(app, resolve)
    with app.app_context():
        states = [services.get_hold(reference=f"h{i}").state for i in range(4)]
        captured = states.count("captured")
        assert set(states) <= {"captured", "released"}
        assert services.available(reseller_id=reseller_id) == \
            Money.of("100.00") - Money.of("10.00") * captured
        assert ledger.verify() == []


def test_same_key_replayed_concurrently_moves_money_once(app, committed_db):
    reseller_id = _funded_reseller("100.00")

    def hold(_i: int):
        return services.hold_funds(reseller_id=reseller_id, net=Money.of("10.00"),
                                   vat_rate=Decimal("0.255"), reference="same-key",
                                   description="replayed").id

    outcomes = _race(app, hold)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert len(set(outcomes)) == 1
    with app.app_context():
        assert services.available(reseller_id=reseller_id) == Money.of("87.45")
        assert ledger.verify() == []


@pytest.mark.parametrize("first", ["refund", "credit"])
def test_a_refund_and_a_credit_note_for_one_purchase_pay_back_once(app, committed_db, first):
    """The first move holds its transaction open while the second starts. Both paths lock
    the purchase row before looking for the other, so the second waits for the first to
    commit, sees it, and is refused: the money goes back once."""
    import time

    from tests.support.invoicing import at, buy
    from wallet.errors import PurchaseCredited
    from wallet.invoices import monthly
    from wallet.invoices import services as invoices
    from wallet.invoices.errors import NothingToCredit
    from wallet.invoices.invoicing import invoicing_settings
    from wallet.invoices.periods import Month
    from wallet.invoices.settings import Party

    reseller_id = _funded_reseller("100.00", key=f"race-credit-{first}")
    at("2026-10-05T09:00:00")
    reference = buy(db.session.get(Reseller, reseller_id), f"race-{first}.fi", "10.00")
    with unit_of_work():
        number = monthly.issue_month(
            reseller_id=reseller_id, month=Month.parse("2026-10"),
            buyer=Party(name="Race Oy", country="FI"), vat_status="domestic", language="fi",
            payment_mode="prepaid", settings=invoicing_settings(),
            now=at("2026-11-01T00:05:00")).number
    before = services.get_wallet(reseller_id=reseller_id).funds_amount
    moves = {"refund": lambda: services.refund_purchase(reference=reference, reason="race"),
             "credit": lambda: invoices.issue_credit_note(
                 reseller_id=reseller_id, invoice_number=number, reason="race",
                 now=at("2026-11-02T09:00:00"), line_positions=[1])}
    second = "credit" if first == "refund" else "refund"
    done_first = threading.Event()
    outcomes: dict = {}

    def run(name: str) -> None:
        with app.app_context():
            if name == second:
                done_first.wait()
            try:
                with unit_of_work():
                    outcomes[name] = moves[name]()
                    if name == first:
                        done_first.set()
                        time.sleep(0.5)  # hold the transaction while the other one starts
            except (PurchaseCredited, NothingToCredit) as refused:
                outcomes[name] = refused
            finally:
                done_first.set()
                db.session.remove()

    threads = [threading.Thread(target=run, args=(name,)) for name in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not isinstance(outcomes[first], Exception)
    assert isinstance(outcomes[second], (PurchaseCredited, NothingToCredit)), outcomes
    db.session.expire_all()
    assert services.get_wallet(reseller_id=reseller_id).funds_amount == before + Decimal("12.55")
    assert ledger.verify() == []


def test_holds_racing_a_chargeback_never_overdraw_and_the_rest_is_owed(app, committed_db):
    """A card top-up of 100.00 is charged back (delivered twice) while 30 orders race for
    it. Whatever the order: funds never go below zero (the database would refuse), the
    chargeback is booked once, what the funds no longer cover is debt, and every order
    after it is refused."""
    from wallet import reversals, topups
    from wallet.errors import DebtOutstanding

    reseller_id = _funded_reseller("0.01", key="race-chargeback")
    with app.app_context(), unit_of_work():
        topup = topups.create_topup(reseller_id=reseller_id, amount=Money.of("100.00"),
                                    method="card", idempotency_key="race-chargeback",
                                    surcharges={"card": Decimal("1.50")}, provider="sandbox")
        topups.settle_topup(topups.topup_by_token(topup.token, lock=True))
        token = topup.token

    def work(i: int):
        if i < 2:
            return reversals.reverse_topup(topups.topup_by_token(token, lock=True),
                                           amount=Decimal("101.50"), reason="chargeback", cause="chargeback",
                                           reference="reversal:race:chargeback")
        return services.hold_funds(reseller_id=reseller_id, net=Money.of("10.00"),
                                   vat_rate=Decimal("0.255"), reference=f"race-cb-{i}",
                                   description="race")

    outcomes = _race(app, work)
    assert sorted(outcomes[:2]) == [False, True], outcomes
    holds = outcomes[2:]
    refused = [o for o in holds if isinstance(o, (InsufficientFunds, DebtOutstanding))]
    held = [o for o in holds if not isinstance(o, Exception)]
    assert len(held) + len(refused) == len(holds) and len(held) <= 7, outcomes
    with app.app_context():
        wallet = services.get_wallet(reseller_id=reseller_id)
        assert wallet.funds_amount >= 0 and wallet.debt_amount >= 0
        # 100.01 in, 100.00 taken back: whatever the holds took from it is now owed
        assert wallet.debt == wallet.funds + wallet.held - Money.of("0.01")
        assert wallet.debt_amount == 0 or wallet.funds_amount == 0
        assert ledger.verify() == []
