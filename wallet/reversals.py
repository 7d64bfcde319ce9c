"""Money taken back after it was credited: returned bank payments, card refunds and
chargebacks, PayPal refunds and reversals, failed delayed payments.

Each is one reversing ledger transfer (kind ``reversal``, ``reverses`` naming the payment's
transfer), posted once by its reference, and the reseller is told (``wallet.payment_
reversed``, which whitelabel mails to the billing contact). The rule when the money was
spent already: the reversal takes the funds as far as they go and books the rest to the
reseller's ``debt`` account (funds never go below zero; the database checks it); an open
debt refuses every order until a top-up or bank transfer, which pays the debt first,
settles it. Nothing is written off silently, and nothing is taken from a postpaid
reseller's other payments: a reversed invoice payment re-opens what it paid.
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from reseller.core.events import record_event
from reseller.core.extensions import db
from wallet import ledger, services
from wallet.invoices import services as invoices
from wallet.models import LedgerEntry, LedgerTransfer, TopUp
from wallet.money import LEDGER_CURRENCY

ZERO = Decimal("0.00")


def original_transfer(reference: str) -> LedgerTransfer | None:
    return db.session.scalar(sa.select(LedgerTransfer)
                             .where(LedgerTransfer.reference == reference))


CAUSES = ("refund", "chargeback", "returned")  # the event's ``cause``


def reverse_payment(*, reseller_id: int, original: str, reference: str, amount: Decimal,
                    surcharge: Decimal = ZERO, provider: str, method: str, reason: str,
                    cause: str, invoice_id: int | None = None,
                    actor: str | None = None) -> bool:
    """Take ``amount`` (from the reseller) + ``surcharge`` (from surcharge revenue) back out
    of the wallet into the provider's clearing account, once per ``reference``.
    ``cause`` (one of ``CAUSES``) tells the reseller why, in its language.

    A payment that paid an invoice comes back onto the receivable and re-opens the
    invoice; a top-up comes out of the funds, and what they no longer cover becomes debt.
    False if the reversal was booked already.
    """
    if cause not in CAUSES:
        raise ValueError(f"cause is one of {CAUSES}")
    if amount + surcharge <= 0:
        return False
    account = ledger.RECEIVABLE if invoice_id is not None else ledger.FUNDS
    legs = [ledger.debit(account, amount, reseller_id),
            ledger.debit(ledger.SURCHARGE_REVENUE, surcharge),
            ledger.credit(ledger.clearing(provider), amount + surcharge)]
    posted = services.post_payment(reseller_id=reseller_id, legs=legs, reference=reference,
                                   kind="reversal", reverses=original, actor=actor,
                                   description=f"Reversed: {reason}"[:500])
    if not posted:
        return False
    number = None
    if invoice_id is not None and amount > 0:
        number = invoices.reopen_after_reversal(invoice_id=invoice_id, amount=amount)
    wallet = services.get_wallet(reseller_id=reseller_id)
    record_event(reseller_id=reseller_id, type="wallet.payment_reversed",
                 dedupe_key=f"wallet.payment_reversed:{reference}"[:200], data={
                     "amount": f"{amount:.2f}", "currency": LEDGER_CURRENCY,
                     "method": method, "reason": reason, "cause": cause, "invoice": number,
                     "balance": wallet.balance.as_string(), "debt": wallet.debt.as_string(),
                     "orders_blocked": wallet.debt_amount > 0})
    return True


def reverse_topup(topup: TopUp, *, amount: Decimal, reference: str, reason: str,
                  cause: str) -> bool:
    """Take ``amount`` of a paid top-up (or invoice payment) back, once per ``reference``.

    The reseller's part comes back first, then the surcharge: a full refund reverses both,
    a partial one what the reseller got before the operator's fee.
    """
    from_reseller = min(amount, topup.amount - min(topup.reversed_amount, topup.amount))
    surcharge = amount - from_reseller
    posted = reverse_payment(reseller_id=topup.reseller_id, original=f"topup:{topup.id}",
                             reference=reference, amount=from_reseller, surcharge=surcharge,
                             provider=topup.provider, method=topup.method, reason=reason,
                             cause=cause, invoice_id=topup.invoice_id)
    if posted:
        topup.reversed_amount += amount
        db.session.flush()
    return posted


def reinstate_payment(topup: TopUp, *, reference: str, original: str) -> bool:
    """Give back what the reversal ``original`` took (a chargeback won), once."""
    taken = original_transfer(original)
    if taken is None or original_transfer(reference) is not None:
        return False
    legs = [ledger.Leg(entry.account, -entry.amount, entry.reseller_id)
            for entry in db.session.scalars(sa.select(LedgerEntry).where(
                LedgerEntry.transfer_reference == original))]
    amount = sum((leg.amount for leg in legs if leg.account.startswith(
        ledger.CLEARING_PREFIX)), ZERO)  # back at the provider: a debit again
    if invoice_id := topup.invoice_id:
        from_reseller = sum((-leg.amount for leg in legs if leg.reseller_id), ZERO)
        invoices.reapply_after_reinstatement(invoice_id=invoice_id, amount=from_reseller)
    posted = services.post_payment(reseller_id=topup.reseller_id, legs=legs,
                                   reference=reference, kind="reversal", reverses=original,
                                   description="Chargeback decided in our favour")
    if posted:
        topup.reversed_amount -= amount
        record_event(reseller_id=topup.reseller_id, type="wallet.topup_received",
                     dedupe_key=f"wallet.topup_received:{reference}"[:200], data={
                         "amount": f"{amount:.2f}", "currency": LEDGER_CURRENCY,
                         "method": topup.method})
        db.session.flush()
    return posted
