"""Keeping the ledger in step with what the invoices say.

The ledger charges each purchase when it is captured, with VAT rounded per purchase; the
invoice rounds VAT once per rate (as the issue requires) and may add late-payment
interest the ledger has never seen. So issuing an invoice books the difference, and
the reseller's receivable then holds exactly what the open invoices still ask for:
paying an invoice's amount due clears it to the cent.

A credit note gives back what it credits: first off the corrected invoice's amount due
(the receivable), the rest to a prepaid reseller's funds, where it is refundable like
any funds; a postpaid reseller keeps it on account (a negative receivable), as with an
overpayment.

Each booking is one transfer with a unique reference (``invoice:<number>``,
``credit-note:<number>``), so it happens once even if a caller retries.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from reseller.core.extensions import db
from wallet import ledger, services
from wallet.invoices.lines import LineIn
from wallet.invoices.models import ZERO, Invoice
from wallet.models import Wallet


@dataclass(frozen=True)
class Settlement:
    """How much of a new invoice is paid already and how much is still due."""

    paid: Decimal
    due: Decimal


def _legs(*pairs: tuple[str, Decimal, int | None]) -> list[ledger.Leg]:
    """Debit legs (negative amounts credit), leaving out the zero ones."""
    return [ledger.debit(account, amount, owner) for account, amount, owner in pairs if amount]


def _post(invoice: Invoice, legs: list[ledger.Leg], *, kind: str, reference: str,
          description: str, debit: Decimal | None = None) -> None:
    if not legs or ledger.transfer_exists(reference):
        return
    state = services.charge(invoice.reseller_id, legs, debit)
    ledger.post(reference=reference, kind=kind, reseller_id=invoice.reseller_id,
                description=description, legs=legs, actor="invoicing")
    services.note_balance(state)


def _prepaid_funds(reseller_id: int) -> Decimal | None:
    """The funds of a prepaid wallet, locked for this transaction; None if not prepaid."""
    stmt = sa.select(Wallet.payment_mode, Wallet.funds_amount).where(
        Wallet.reseller_id == reseller_id).with_for_update()
    row = db.session.execute(stmt).first()
    if row is None or row.payment_mode != "prepaid":
        return None
    return max(row.funds_amount, ZERO)


def book_invoice(invoice: Invoice, lines: list[LineIn]) -> Settlement:
    """Book what the invoice asks beyond what the ledger charged; say what is still due.

    ``lines`` are the ones the invoice was made from. Lines the ledger charged from funds
    are paid; those charged to the receivable are due. The difference (per-rate VAT
    rounding, interest) goes on the receivable with the rest of what is due. A prepaid
    reseller's invoice is then paid from funds as far as they reach (its receivable
    lines come from before it turned prepaid), and what the invoice gives back (rounding
    in the reseller's favour, refunds to the receivable) becomes funds, refundable.
    """
    booked = [line for line in lines if line.booked_vat is not None]
    unbooked = [line for line in lines if line.booked_vat is None]
    unknown = {line.kind for line in unbooked} - {"interest"}
    if unknown:
        raise ValueError(f"no ledger booking for invoice lines of kind {sorted(unknown)}")
    paid = sum((line.net + line.booked_vat for line in booked if line.source == "funds"), ZERO)
    due = sum((line.net + line.booked_vat for line in booked if line.source != "funds"), ZERO)
    rounding = invoice.vat_total - sum((line.booked_vat for line in booked), ZERO)
    interest = sum((line.net for line in unbooked), ZERO)
    extra = rounding + interest
    funds = _prepaid_funds(invoice.reseller_id)
    unpaid = due + extra
    if funds is None:
        from_funds = ZERO  # postpaid: the difference goes on the receivable
    elif unpaid <= 0:
        from_funds = unpaid  # prepaid, and owed something back: it becomes funds
    else:
        from_funds = min(unpaid, funds)
    rid = invoice.reseller_id
    legs = _legs((ledger.FUNDS, from_funds, rid), (ledger.RECEIVABLE, extra - from_funds, rid),
                 (ledger.VAT_PAYABLE, -rounding, None),
                 (ledger.INTEREST_REVENUE, -interest, None))
    _post(invoice, legs, kind="invoice", reference=f"invoice:{invoice.number}",
          description=f"Invoice {invoice.number}: settled with the ledger (VAT rounded "
                      f"per rate{', late-payment interest' if interest else ''})",
          debit=-from_funds if from_funds > 0 else None)
    paid += from_funds
    due += extra - from_funds
    return Settlement(paid=paid, due=due)


def book_credit_note(note: Invoice, original: Invoice, *, due_before: Decimal) -> None:
    """Give back what ``note`` credits: off the amount due first, then to funds."""
    amount = -note.total
    interest = -sum((line.net for line in note.lines
                     if (line.source_key or "").startswith("credit:interest:")), ZERO)
    to_receivable = min(amount, max(due_before, ZERO))
    rest = amount - to_receivable
    if services.payment_mode_of(original.reseller_id) == "prepaid":
        to_funds = rest
    else:
        to_funds, to_receivable = ZERO, amount
    rid = original.reseller_id
    legs = _legs((ledger.VAT_PAYABLE, -note.vat_total, None),
                 (ledger.INTEREST_REVENUE, interest, None),
                 (ledger.REVENUE, -note.net_total - interest, None),
                 (ledger.RECEIVABLE, -to_receivable, rid), (ledger.FUNDS, -to_funds, rid))
    _post(note, legs, kind="credit_note", reference=f"credit-note:{note.number}",
          description=f"Credit note {note.number} for invoice {original.number}")
