"""The ledger: the chart of accounts, the sign convention, and posting balanced transfers.

Sign convention (written once, here): every entry carries a signed amount in the ledger
currency. **Positive is a debit, negative is a credit.** A transfer's entries sum to zero;
an account's raw balance is the sum of its entries. Credit-normal accounts (money the
operator holds for or owes someone, and income) therefore carry negative raw balances; the
reports and the wallet show them flipped (``normal_balance``) so that funds read positive.

    top-up 100.00 by card, surcharge 1.50   operator.clearing.card   +101.50
                                            reseller.funds           -100.00
                                            operator.surcharge_revenue -1.50
    hold 12.55 (prepaid)                    reseller.funds +12.55 / reseller.holds -12.55
    hold 12.55 (postpaid)                   reseller.receivable +12.55 / reseller.holds -12.55
    capture 12.55 = 10.00 + VAT 2.55        reseller.holds +12.55 / operator.revenue -10.00 /
                                            operator.vat_payable -2.55
    release                                 the hold reversed back to its source
    invoice issued: per-rate VAT 0.03       reseller.receivable (prepaid: funds) +1.23 /
    above the per-purchase VAT, plus        operator.vat_payable -0.03 /
    late-payment interest 1.20              operator.interest_revenue -1.20
    credit note 12.55 on a paid invoice     operator.revenue +10.00 / vat_payable +2.55 /
                                            reseller.funds (postpaid: receivable) -12.55
    card top-up refunded / charged back     reseller.funds +20.00 (what the funds cover) /
    after 80.00 of it was spent             reseller.debt +80.00 (the shortfall, owed) /
    (``reversal``, wallet.reversals)        operator.surcharge_revenue +1.50 /
                                            operator.clearing.card -101.50
    next top-up 100.00 settles the debt     operator.clearing.card +101.50 /
    first                                   reseller.debt -80.00 / reseller.funds -20.00 /
                                            operator.surcharge_revenue -1.50

``reseller.debt`` is what a reseller owes for money taken back after it was spent: funds
never go below zero (the database refuses it for prepaid wallets), an open debt refuses
every order, and money coming in pays the debt before it reaches the funds.

Transfers are append-only: the database refuses UPDATE and DELETE on entries and
transfers (PostgreSQL; SQLite refuses UPDATE), and it seals each transfer when its row is
inserted after its entries, refusing it unless there are two or more entries summing to
zero, and refusing any entry added afterwards. Corrections are reversing transfers. Each
transfer's ``reference`` is unique and doubles as its idempotency key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.extensions import db
from wallet.models import LedgerEntry, LedgerTransfer, Wallet

FUNDS = "reseller.funds"
HOLDS = "reseller.holds"
RECEIVABLE = "reseller.receivable"
DEBT = "reseller.debt"
REVENUE = "operator.revenue"
VAT_PAYABLE = "operator.vat_payable"
SURCHARGE_REVENUE = "operator.surcharge_revenue"
INTEREST_REVENUE = "operator.interest_revenue"
PAYOUTS = "operator.payouts"
ADJUSTMENTS = "operator.adjustments"
CLEARING_PREFIX = "operator.clearing."
PROVIDERS = ("sandbox", "card", "paypal", "online_banking", "bank")

CREDIT_NORMAL = frozenset({FUNDS, HOLDS, REVENUE, VAT_PAYABLE, SURCHARGE_REVENUE,
                           INTEREST_REVENUE})
RESELLER_ACCOUNTS = (FUNDS, HOLDS, RECEIVABLE, DEBT)
OPERATOR_ACCOUNTS = (REVENUE, VAT_PAYABLE, SURCHARGE_REVENUE, INTEREST_REVENUE, PAYOUTS,
                     ADJUSTMENTS,
                     *(CLEARING_PREFIX + provider for provider in PROVIDERS))

# Wallet columns caching each reseller account's normal balance.
WALLET_COLUMN = {FUNDS: "funds", HOLDS: "held", RECEIVABLE: "receivable", DEBT: "debt"}


class UnbalancedTransfer(ValueError):
    """A programming error: the legs do not sum to zero (the database would refuse too)."""


@dataclass(frozen=True)
class Leg:
    account: str
    amount: Decimal  # signed: positive = debit
    reseller_id: int | None = None


def clearing(provider: str) -> str:
    if provider not in PROVIDERS:
        raise ValueError(f"no clearing account for provider {provider!r}")
    return CLEARING_PREFIX + provider


def debit(account: str, amount: Decimal, reseller_id: int | None = None) -> Leg:
    return Leg(account, amount, reseller_id)


def credit(account: str, amount: Decimal, reseller_id: int | None = None) -> Leg:
    return Leg(account, -amount, reseller_id)


def normal_balance(account: str, raw: Decimal) -> Decimal:
    """The balance as people read it (credit-normal accounts flipped to positive)."""
    return -raw if account in CREDIT_NORMAL else raw


def check_balanced(legs: Iterable[Leg]) -> list[Leg]:
    legs = [leg for leg in legs if leg.amount != 0]
    if len(legs) < 2:
        raise UnbalancedTransfer("a transfer needs two or more non-zero entries")
    if sum((leg.amount for leg in legs), Decimal(0)) != 0:
        raise UnbalancedTransfer(f"entries sum to {sum(leg.amount for leg in legs)}, not 0")
    for leg in legs:
        if leg.account.startswith("reseller.") != (leg.reseller_id is not None):
            raise UnbalancedTransfer(f"{leg.account} needs a reseller id iff it is a reseller's")
        if leg.account not in RESELLER_ACCOUNTS + OPERATOR_ACCOUNTS:
            raise UnbalancedTransfer(f"unknown account {leg.account}")
    return legs


def wallet_deltas(legs: Iterable[Leg], reseller_id: int) -> dict[str, Decimal]:
    """How the wallet's cached normal balances move with these legs."""
    deltas: dict[str, Decimal] = {}
    for leg in legs:
        if leg.reseller_id == reseller_id and leg.account in WALLET_COLUMN:
            column = WALLET_COLUMN[leg.account]
            deltas[column] = deltas.get(column, Decimal(0)) + normal_balance(leg.account, leg.amount)
    return deltas


# Every transfer kind there is (``GET /wallet/transactions?kind=`` takes only these).
TRANSFER_KINDS = ("hold", "capture", "release", "expire", "refund", "adjustment", "topup",
                  "invoice_payment", "bank_transfer", "invoice", "credit_note",
                  "withdrawal_hold", "payout", "withdrawal_cancel", "reversal", "debt")

_ENTRIES = LedgerEntry.__table__
_TRANSFERS = LedgerTransfer.__table__


def post(*, reference: str, kind: str, legs: Iterable[Leg], reseller_id: int | None = None,
         description: str = "", reverses: str | None = None, actor: str | None = None,
         currency: str = "EUR") -> None:
    """Append one balanced transfer: its entries, then the row that seals them.

    Does not touch the wallet cache; callers update it in the same transaction (with
    ``wallet_deltas`` or the equivalent conditional UPDATE on the hot path).
    """
    legs = check_balanced(legs)
    if kind not in TRANSFER_KINDS:
        raise ValueError(f"unknown transfer kind {kind!r}: add it to TRANSFER_KINDS")
    # The legs as parameters (one cached statement), not in .values(): see insert_all_unless_exist
    db.session.execute(sa.insert(_ENTRIES), [
        {"transfer_reference": reference, "account": leg.account,
         "reseller_id": leg.reseller_id, "amount": leg.amount} for leg in legs])
    db.session.execute(sa.insert(_TRANSFERS).values(
        reference=reference, kind=kind, reseller_id=reseller_id, currency=currency,
        description=description, reverses=reverses, actor=actor, created_at=clock.now()))


def transfer_exists(reference: str) -> bool:
    return db.session.scalar(
        sa.select(_TRANSFERS.c.id).where(_TRANSFERS.c.reference == reference)) is not None


def account_balances(reseller_id: int | None = None) -> dict[tuple[str, int | None], Decimal]:
    """Raw balances (sum of entries) per (account, reseller) — from the entries themselves."""
    stmt = sa.select(_ENTRIES.c.account, _ENTRIES.c.reseller_id,
                     sa.func.sum(_ENTRIES.c.amount)).group_by(_ENTRIES.c.account,
                                                              _ENTRIES.c.reseller_id)
    if reseller_id is not None:
        stmt = stmt.where(_ENTRIES.c.reseller_id == reseller_id)
    return {(account, owner): total or Decimal(0)
            for account, owner, total in db.session.execute(stmt)}


def trial_balance() -> list[tuple[str, Decimal, Decimal]]:
    """(account, total debits, total credits) per account; debits equal credits overall."""
    amount = _ENTRIES.c.amount
    zero = sa.literal(0, type_=amount.type)
    stmt = (sa.select(_ENTRIES.c.account,
                      sa.func.coalesce(sa.func.sum(sa.case((amount > 0, amount), else_=zero)), 0),
                      sa.func.coalesce(sa.func.sum(sa.case((amount < 0, -amount), else_=zero)), 0))
            .group_by(_ENTRIES.c.account).order_by(_ENTRIES.c.account))
    return [(account, Decimal(debits), Decimal(credits))
            for account, debits, credits in db.session.execute(stmt)]


def verify() -> list[str]:
    """Every invariant the ledger promises; returns the violations (empty when sound).

    * each transfer's entries sum to zero, and it has two or more;
    * no entry lacks its transfer;
    * each wallet's cached balances equal the sums of its accounts' entries.
    """
    problems: list[str] = []
    e, t = _ENTRIES, _TRANSFERS
    unbalanced = db.session.execute(
        sa.select(e.c.transfer_reference, sa.func.sum(e.c.amount), sa.func.count())
        .group_by(e.c.transfer_reference)
        .having(sa.or_(sa.func.sum(e.c.amount) != 0, sa.func.count() < 2))).all()
    problems += [f"transfer {ref} sums to {total} over {n} entries" for ref, total, n in unbalanced]
    orphans = db.session.scalar(
        sa.select(sa.func.count()).select_from(e).outerjoin(
            t, t.c.reference == e.c.transfer_reference).where(t.c.id.is_(None)))
    if orphans:
        problems.append(f"{orphans} entries without a transfer")
    balances = account_balances()
    for wallet in db.session.execute(sa.select(Wallet.__table__)).mappings():
        for account, column in WALLET_COLUMN.items():
            raw = balances.get((account, wallet["reseller_id"]), Decimal(0))
            if normal_balance(account, raw) != wallet[column]:
                problems.append(f"wallet of reseller {wallet['reseller_id']}: {column} "
                                f"{wallet[column]} != ledger {normal_balance(account, raw)}")
    return problems
