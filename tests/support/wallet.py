"""Test helpers for money: fund a wallet the way the console's manual adjustment does."""

from __future__ import annotations

import itertools

from reseller.core.db import unit_of_work
from wallet import credit, services
from wallet.money import Money

_seq = itertools.count(1)


def fund(reseller_id: int, amount: str) -> None:
    with unit_of_work():
        services.adjust_funds(reseller_id=reseller_id, amount=Money.of(amount),
                              reason="test funds", actor="test",
                              reference=f"test-fund-{reseller_id}-{next(_seq)}")


def make_postpaid(reseller_id: int, limit: str) -> None:
    with unit_of_work():
        credit.set_payment_mode(reseller_id=reseller_id, payment_mode="postpaid",
                                  credit_limit=Money.of(limit), note="test review",
                                  actor="test")


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")
