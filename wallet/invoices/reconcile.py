"""Reconciling receivables with invoices: what each reseller owes on credit, per the ledger,
against what explains it.

A reseller's receivable is explained by the amounts still due on its open invoices, its
purchases and refunds on credit not yet invoiced, and its active holds on credit. More
than that is money owed that no invoice asks for: a fault to look into. Less is money on
account (an overpayment, or a credit beyond what was due), which the next purchases use.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from reseller.core.extensions import db
from wallet.invoices.models import ZERO, Invoice, InvoiceLine
from wallet.models import Hold, Purchase, Wallet


@dataclass(frozen=True)
class Receivable:
    reseller_id: int
    ledger: Decimal  # the receivable per the ledger (the wallet's cached balance)
    explained: Decimal  # open invoices + uninvoiced credit purchases and refunds + holds

    @property
    def difference(self) -> Decimal:
        return self.ledger - self.explained

    @property
    def unexplained(self) -> bool:
        """Owed on credit but asked for by no invoice (money on account is fine)."""
        return self.difference > 0


def _unbilled(prefix: str) -> sa.ColumnElement[bool]:
    return ~sa.exists().where(
        InvoiceLine.source_key == sa.literal(prefix) + sa.cast(Purchase.id, sa.String))


def _sums(stmt: sa.Select) -> dict[int, Decimal]:
    return {reseller_id: Decimal(str(total or 0)) for reseller_id, total in db.session.execute(stmt)}


def receivables() -> list[Receivable]:
    """Every reseller whose receivable differs from what explains it."""
    due = _sums(sa.select(Invoice.reseller_id, sa.func.sum(
        Invoice.total - Invoice.credited_total - Invoice.paid_amount))
        .where(Invoice.kind == "invoice", Invoice.status == "open")
        .group_by(Invoice.reseller_id))
    on_credit = Purchase.source == "receivable"
    bought = _sums(sa.select(Purchase.reseller_id, sa.func.sum(Purchase.gross_amount))
                   .where(on_credit, _unbilled("purchase:")).group_by(Purchase.reseller_id))
    refunded = _sums(sa.select(Purchase.reseller_id, sa.func.sum(Purchase.gross_amount))
                     .where(on_credit, Purchase.refunded.is_(True), _unbilled("refund:"))
                     .group_by(Purchase.reseller_id))
    held = _sums(sa.select(Hold.reseller_id, sa.func.sum(Hold.gross_amount))
                 .where(Hold.state == "active", Hold.source == "receivable")
                 .group_by(Hold.reseller_id))
    found = []
    for reseller_id, ledger_amount in db.session.execute(
            sa.select(Wallet.reseller_id, Wallet.receivable_amount).order_by(Wallet.reseller_id)):
        explained = (due.get(reseller_id, ZERO) + bought.get(reseller_id, ZERO)
                     - refunded.get(reseller_id, ZERO) + held.get(reseller_id, ZERO))
        row = Receivable(reseller_id, ledger_amount, explained)
        if row.difference:
            found.append(row)
    return found
