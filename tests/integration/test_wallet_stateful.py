"""Hypothesis drives random holds, captures, releases, expiries, top-ups, withdrawals,
adjustments, refunds and reversals of top-ups (chargebacks, returned payments) against a
model of the wallet. After every step: every transfer balances, balances equal the sums of
entries, prepaid funds and debt are never negative, and postpaid exposure never exceeds
the limit. Runs on PostgreSQL and (smoke) on SQLite."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from wallet import credit, ledger, reversals, services, topups, withdrawals
from wallet.errors import CreditLimitExceeded, DebtOutstanding, InsufficientFunds, PaymentRequired
from wallet.money import Money, round_money

CENTS = st.integers(min_value=1, max_value=40_000).map(lambda c: Decimal(c).scaleb(-2))
RATES = st.sampled_from([Decimal("0"), Decimal("0.24"), Decimal("0.255")])
_ids = itertools.count(1)


def machine_for(factory):
    class WalletMachine(RuleBasedStateMachine):
        """The model: funds, held, receivable and the open holds/withdrawals/purchases."""

        def __init__(self) -> None:
            super().__init__()
            self.funds = self.held = self.receivable = self.debt = Decimal("0")
            self.paid: dict[str, Decimal] = {}  # top-up token → the reseller's part
            self.limit = Decimal("0")
            self.holds: dict[str, tuple[Decimal, Decimal, Decimal]] = {}  # ref → net, rate, gross
            self.purchases: dict[str, Decimal] = {}  # ref → gross
            self.pending: dict[int, Decimal] = {}  # withdrawal id → amount
            self.mode = "prepaid"
            self.rid = 0

        @initialize(postpaid=st.booleans(), limit=CENTS)
        def open(self, postpaid: bool, limit: Decimal) -> None:
            self.rid = factory.reseller().id
            if postpaid:
                with unit_of_work():
                    credit.set_payment_mode(reseller_id=self.rid, payment_mode="postpaid",
                                              credit_limit=Money.of(limit), note="n", actor="t")
                self.mode, self.limit = "postpaid", limit

        def _available(self) -> Decimal:
            return self.funds if self.mode == "prepaid" else self.limit - self.receivable

        def _receive(self, amount: Decimal) -> None:
            """Money in pays the debt first."""
            to_debt = min(amount, self.debt)
            self.debt -= to_debt
            self.funds += amount - to_debt

        def _settled(self) -> tuple[Decimal, Decimal]:
            """(funds, debt) once funds on the wallet have paid the debt."""
            paid = min(max(self.funds, Decimal(0)), self.debt)
            return self.funds - paid, self.debt - paid

        @rule(amount=CENTS, method=st.sampled_from(["card", "paypal", "bank_transfer"]))
        def top_up(self, amount: Decimal, method: str) -> None:
            with unit_of_work():
                topup = topups.create_topup(
                    reseller_id=self.rid, amount=Money.of(amount), method=method,
                    idempotency_key=f"k{next(_ids)}", surcharges={"card": Decimal("1.50")},
                    provider="sandbox" if method != "bank_transfer" else "bank")
                topups.settle_topup(topups.topup_by_token(topup.token, lock=True))
                assert not topups.settle_topup(topups.topup_by_token(topup.token, lock=True))
            self._receive(amount)
            self.paid[topup.token] = amount

        @precondition(lambda self: self.paid)
        @rule(data=st.data())
        def reverse(self, data) -> None:
            """A chargeback or returned payment: the funds as far as they go, then debt."""
            token = data.draw(st.sampled_from(sorted(self.paid)))
            amount = self.paid.pop(token)
            with unit_of_work():
                topup = topups.topup_by_token(token, lock=True)
                assert reversals.reverse_topup(topup, amount=topup.total,
                                               reference=f"reversal:t:{token}", reason="r", cause="chargeback")
                assert not reversals.reverse_topup(topup, amount=topup.total,
                                                   reference=f"reversal:t:{token}", reason="r", cause="chargeback")
            from_funds = min(amount, max(self.funds, Decimal(0)))
            self.funds -= from_funds
            self.debt += amount - from_funds

        @rule(net=CENTS, rate=RATES)
        def hold(self, net: Decimal, rate: Decimal) -> None:
            gross = net + round_money(net * rate)
            ref = f"h{next(_ids)}"
            funds, debt = self._settled()
            available = funds if self.mode == "prepaid" else self.limit - self.receivable
            fits = debt == 0 and gross <= available
            try:
                with unit_of_work():
                    services.hold_funds(reseller_id=self.rid, net=Money.of(net), vat_rate=rate,
                                        reference=ref, description="d",
                                        expires_at=clock.now() + timedelta(hours=1))
            except (InsufficientFunds, CreditLimitExceeded, DebtOutstanding) as refused:
                assert not fits and isinstance(refused, DebtOutstanding) == (debt > 0)
                return
            assert fits
            self.funds, self.debt = funds, debt
            self.holds[ref] = (net, rate, gross)
            self.held += gross
            if self.mode == "prepaid":
                self.funds -= gross
            else:
                self.receivable += gross

        @precondition(lambda self: self.holds)
        @rule(data=st.data())
        def replay_hold(self, data) -> None:
            ref = data.draw(st.sampled_from(sorted(self.holds)))
            net, rate, _gross = self.holds[ref]
            with unit_of_work():
                services.hold_funds(reseller_id=self.rid, net=Money.of(net), vat_rate=rate,
                                    reference=ref, description="d")

        def _give_back(self, amount: Decimal) -> None:
            if self.mode == "prepaid":
                self.funds += amount
            else:
                self.receivable -= amount

        @precondition(lambda self: self.holds)
        @rule(data=st.data(), part=st.integers(min_value=1, max_value=100))
        def capture(self, data, part: int) -> None:
            ref = data.draw(st.sampled_from(sorted(self.holds)))
            net, rate, gross = self.holds.pop(ref)
            take = max(Decimal("0.01"), round_money(net * part / 100))
            with unit_of_work():
                purchase = services.capture_hold(reference=ref, net=Money.of(take))
                assert services.capture_hold(reference=ref).id == purchase.id
            charged = take + round_money(take * rate)
            self.held -= gross
            self._give_back(gross - charged)
            self.purchases[ref] = charged

        @precondition(lambda self: self.holds)
        @rule(data=st.data())
        def release(self, data) -> None:
            ref = data.draw(st.sampled_from(sorted(self.holds)))
            _net, _rate, gross = self.holds.pop(ref)
            with unit_of_work():
                services.release_hold(reference=ref)
                services.release_hold(reference=ref)
            self.held -= gross
            self._give_back(gross)

        @rule()
        def expire(self) -> None:
            with unit_of_work():
                services.expire_holds(now=clock.now() + timedelta(hours=2))
            for _net, _rate, gross in self.holds.values():
                self.held -= gross
                self._give_back(gross)
            self.holds.clear()

        @precondition(lambda self: self.purchases)
        @rule(data=st.data())
        def refund(self, data) -> None:
            ref = data.draw(st.sampled_from(sorted(self.purchases)))
            gross = self.purchases.pop(ref)
            with unit_of_work():
                services.refund_purchase(reference=ref, reason="r")
                services.refund_purchase(reference=ref, reason="r")
            self._give_back(gross)

        @precondition(lambda self: self.mode == "prepaid")
        @rule(amount=CENTS)
        def withdraw(self, amount: Decimal) -> None:
            funds, debt = self._settled()
            try:
                with unit_of_work():
                    withdrawal = withdrawals.request_withdrawal(
                        reseller_id=self.rid, amount=Money.of(amount),
                        idempotency_key=f"w{next(_ids)}")
            except (InsufficientFunds, DebtOutstanding):
                assert amount > funds
                return
            self.funds, self.debt = funds, debt
            self.pending[withdrawal.id] = amount
            self.funds -= amount
            self.held += amount

        @precondition(lambda self: self.pending)
        @rule(data=st.data(), approve=st.booleans())
        def decide_withdrawal(self, data, approve: bool) -> None:
            wid = data.draw(st.sampled_from(sorted(self.pending)))
            amount = self.pending.pop(wid)
            with unit_of_work():
                if approve:
                    withdrawals.approve_withdrawal(withdrawal_id=wid, actor="t")
                else:
                    withdrawals.cancel_withdrawal(withdrawal_id=wid, actor="t")
            self.held -= amount
            if not approve:
                self.funds += amount

        @rule(amount=CENTS, debit=st.booleans())
        def adjust(self, amount: Decimal, debit: bool) -> None:
            signed = -amount if debit else amount
            try:
                with unit_of_work():
                    services.adjust_funds(reseller_id=self.rid, amount=Money.of(signed),
                                          reason="r", actor="t", reference=f"a{next(_ids)}")
            except PaymentRequired:
                assert self.mode == "prepaid" and self.funds + signed < 0
                return
            if debit:
                self.funds += signed
            else:
                self._receive(amount)

        @invariant()
        def books_balance(self) -> None:
            if not self.rid:
                return
            assert ledger.verify() == []
            wallet = services.get_wallet(reseller_id=self.rid)
            assert (wallet.funds_amount, wallet.held_amount, wallet.receivable_amount,
                    wallet.debt_amount) == (self.funds, self.held, self.receivable, self.debt)
            assert wallet.debt_amount >= 0
            if self.mode == "prepaid":
                assert wallet.funds_amount >= 0
            else:
                assert wallet.receivable_amount <= wallet.credit_limit_amount

    return WalletMachine


@pytest.mark.smoke
def test_random_operations_keep_the_books_exact(factory, db_session):
    # Derandomised, with no example database: the machine's state lives in a database shared
    # by all its examples (other resellers' holds, global references), so a choice sequence
    # run twice could take another path and Hypothesis would stop with
    # FlakyStrategyDefinition instead of a verdict (it did once, in a suite run). The same
    # 30 walks every run: a failure reproduces; more walks: raise max_examples locally.
    run_state_machine_as_test(machine_for(factory), settings=settings(
        max_examples=30, stateful_step_count=25, deadline=None, derandomize=True,
        database=None, suppress_health_check=list(HealthCheck)))
