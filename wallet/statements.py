"""Bank statements (ISO 20022 camt.054 / camt.053): each entry of each account is imported
once (``wallet.camt`` reads the files).

A credit whose structured reference (Finnish or RF) is an open invoice's pays that invoice
and is booked against the reseller's receivable; one matching a wallet's permanent
reference funds the wallet; the rest wait for the operator. A batch entry is split into
its payments only when they add up to it. A returned payment (a debit with ``RvslInd``)
takes back the credit it returns; one that matches no credit waits for the operator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.events import record_event
from reseller.core.extensions import db
from wallet import camt, ledger, reversals, services
from wallet.errors import BankEntryAllocated, BankEntryNotACredit, BankEntryNotFound
from wallet.invoices import services as invoices
from wallet.invoices.errors import InvoiceNotPayable
from wallet.invoices.models import Invoice
from wallet.invoices.periods import HELSINKI
from wallet.invoices.settings import InvoicingSettings
from wallet.models import BankEntry, TopUp, Wallet
from wallet.money import LEDGER_CURRENCY, round_money
from wallet.references import from_rf, is_valid_finnish_reference, normalize


@dataclass
class ImportResult:
    matched: int = 0  # wallet top-ups and invoice payments
    unmatched: int = 0
    duplicates: int = 0
    invoices: int = 0  # of ``matched``, the ones that paid an invoice
    reversed: int = 0  # returned payments taken back from the wallet they had funded
    unbalanced: int = 0  # batches whose payments do not add up (of ``unmatched``)


def parse_statement(data: bytes) -> list[camt.Entry]:
    """Every booked entry of a camt.054/053 file (``InvalidStatement`` if it is none)."""
    return camt.parse(data)


def _national_reference(raw: str | None) -> str | None:
    """The Finnish reference (digits, no leading zeros) in a Finnish or RF reference."""
    if not raw:
        return None
    value = normalize(raw)
    value = (from_rf(value) or value).lstrip("0")
    return value if is_valid_finnish_reference(value) else None


def match_reference(raw: str | None) -> int | None:
    """The reseller whose permanent wallet reference (Finnish or RF form) this is."""
    value = _national_reference(raw)
    if value is None:
        return None
    return db.session.scalar(sa.select(Wallet.reseller_id)
                             .where(Wallet.reference_number == value))


def import_statement(data: bytes, *, settings: InvoicingSettings) -> ImportResult:
    """Record each entry once; pay the invoices and fund the wallets its credits reference,
    and take back the credits its returned payments return.

    ``settings`` are the invoicing settings (late interest when an invoice is paid late);
    the entry points build them from the config (``wallet.invoices.invoicing``).
    """
    result = ImportResult()
    for entry in camt.parse(data):
        if entry.direction == camt.DEBIT:
            continue  # the operator's own payments out: not the wallet's business
        if _already_imported(entry):
            result.duplicates += 1
            continue
        if entry.problem is not None:
            _record(entry, None, entry.entry_key_for(0, whole=True), note=entry.problem)
            result.unmatched += 1
            result.unbalanced += 1
            continue
        for position, payment in enumerate(entry.payments):
            row = _record(entry, payment, entry.entry_key_for(position))
            if entry.direction == camt.REVERSAL:
                if _take_back(row):
                    result.reversed += 1
                else:
                    result.unmatched += 1
            else:
                _place_credit(row, settings, result)
    return result


def _already_imported(entry: camt.Entry) -> bool:
    """Imported before: the same entry of the same account (or, for rows imported before
    entries were keyed per account, the same archive reference on the same day)."""
    same = BankEntry.entry_ref == entry.key
    if entry.archive:
        archives = {entry.archive} | {p.archive for p in entry.payments if p.archive}
        legacy = sa.and_(BankEntry.entry_ref.is_(None), BankEntry.booked_on == entry.booked_on,
                         sa.or_(BankEntry.entry_key.in_(archives),
                                BankEntry.entry_key.startswith(f"{entry.archive}/")))
        same = sa.or_(same, legacy)
    return db.session.scalar(sa.select(BankEntry.id).where(same).limit(1)) is not None


def _record(entry: camt.Entry, payment: camt.Payment | None, key: str,
            note: str | None = None) -> BankEntry:
    """The entry's row (one per payment; the whole entry when it cannot be split)."""
    amount = payment.amount if payment is not None else entry.amount
    row = BankEntry(entry_key=key, entry_ref=entry.key, account=entry.account,
                    direction=entry.direction, statement_id=entry.statement_id,
                    currency=(payment.currency if payment else None) or entry.currency,
                    amount=amount, booked_on=entry.booked_on, state="unmatched",
                    reference=payment and payment.reference and payment.reference[:40],
                    debtor_name=payment and payment.debtor_name and payment.debtor_name[:200],
                    end_to_end_id=payment and payment.end_to_end_id
                    and payment.end_to_end_id[:35],
                    note=note, imported_at=clock.now())
    db.session.add(row)
    db.session.flush()
    return row


def _place_credit(entry: BankEntry, settings: InvoicingSettings, result: ImportResult) -> None:
    usable = entry.currency == LEDGER_CURRENCY and entry.amount > 0 \
        and round_money(entry.amount) == entry.amount
    reference = _national_reference(entry.reference) if usable else None
    if reference is None:
        result.unmatched += 1
    elif _pay_invoice(entry, reference, settings):
        result.matched += 1
        result.invoices += 1
    elif (reseller_id := match_reference(reference)) is not None:
        _credit(entry, reseller_id, state="matched", actor="statement")
        result.matched += 1
    else:
        result.unmatched += 1


def _returned_credit(entry: BankEntry) -> BankEntry | None:
    """The credit a returned payment returns: same account, amount and reference (the
    end-to-end id when the bank gives it), not returned already."""
    already = sa.select(BankEntry.reverses_id).where(BankEntry.reverses_id.is_not(None))
    stmt = sa.select(BankEntry).where(
        BankEntry.direction == "credit", BankEntry.amount == entry.amount,
        BankEntry.currency == entry.currency, BankEntry.id.not_in(already),
        BankEntry.state.in_(("matched", "allocated", "unmatched")))
    if entry.account:
        stmt = stmt.where(sa.or_(BankEntry.account == entry.account,
                                 BankEntry.account.is_(None)))
    if entry.end_to_end_id and entry.end_to_end_id != "NOTPROVIDED":
        stmt = stmt.where(BankEntry.end_to_end_id == entry.end_to_end_id)
    elif entry.reference:
        stmt = stmt.where(BankEntry.reference == entry.reference)
    else:
        return None
    return db.session.scalar(stmt.order_by(BankEntry.id.desc()).limit(1).with_for_update())


def _take_back(entry: BankEntry) -> bool:
    """Reverse the credit ``entry`` returns; False (left for the operator) if none."""
    original = _returned_credit(entry)
    if original is None:
        entry.note = "returned payment: no credit found that it returns"
        return False
    entry.reverses_id, entry.state, entry.allocated_by = original.id, "matched", "statement"
    entry.allocated_at = clock.now()
    if original.state == "unmatched":  # never credited: nothing to take back
        original.state, original.note = "reversed", f"returned ({entry.entry_key[:80]})"
        entry.note = "returned a payment that was never credited"
        db.session.flush()
        return True
    _reverse_credit(original, entry)
    return True


def _reverse_credit(original: BankEntry, entry: BankEntry) -> None:
    transfer = reversals.original_transfer(f"bank:{original.id}")
    invoice_id = _invoice_paid_by(original) if transfer and transfer.kind == \
        "invoice_payment" else None
    entry.reseller_id = original.reseller_id
    reversals.reverse_payment(
        reseller_id=original.reseller_id, original=f"bank:{original.id}",
        reference=f"bank-return:{entry.id}", amount=original.amount, provider="bank",
        method="bank_transfer", cause="returned", invoice_id=invoice_id, actor="statement",
        reason=f"bank transfer returned ({original.reference or original.entry_key[:40]})")
    original.state = "reversed"
    db.session.flush()


def _invoice_paid_by(entry: BankEntry) -> int | None:
    """The invoice a matched credit paid (its note names it: "invoice <number>")."""
    if not (entry.note or "").startswith("invoice "):
        return None
    return db.session.scalar(sa.select(Invoice.id).where(
        Invoice.number == entry.note.removeprefix("invoice ")))


def _paid_at(entry: BankEntry) -> datetime:
    """When the money arrived: the booking date (noon in Helsinki), else now.

    The booking date decides late-payment interest, not the day the file was imported.
    """
    now = clock.now()
    try:
        booked = date.fromisoformat(entry.booked_on or "")
    except ValueError:
        return now
    moment = datetime.combine(booked, time(12), tzinfo=HELSINKI).astimezone(UTC)
    return min(moment, now)


def _pay_invoice(entry: BankEntry, reference: str, settings: InvoicingSettings) -> bool:
    """Pay the open invoice ``reference`` names and book the payment; False if none.

    The ledger transfer (``bank:<entry id>``): clearing.bank is debited, the reseller's
    receivable credited, so postpaid exposure drops and the credit becomes available
    again. An overpayment is booked in full (the receivable may go below zero: money on
    account, used by the next purchases). A reference to an invoice that is already paid
    or credited is left for the operator, as is a credit note's reference.
    """
    paid_at = _paid_at(entry)
    try:
        with db.session.begin_nested():
            invoice = invoices.pay_by_reference(reference=reference, amount=entry.amount,
                                                paid_at=paid_at, settings=settings)
    except InvoiceNotPayable:
        return False
    if invoice is None:
        return False
    rid = invoice.reseller_id
    legs = [ledger.debit(ledger.clearing("bank"), entry.amount),
            ledger.credit(ledger.RECEIVABLE, entry.amount, rid)]
    services.credit_funds(reseller_id=rid, legs=legs, reference=f"bank:{entry.id}",
                          kind="invoice_payment",
                          description=f"Invoice {invoice.number} paid by bank transfer",
                          actor="statement")
    entry.state, entry.reseller_id, entry.allocated_by = "matched", rid, "statement"
    entry.allocated_at = paid_at
    entry.note = f"invoice {invoice.number}"
    db.session.flush()
    return True


def _credit(entry: BankEntry, reseller_id: int, *, state: str, actor: str) -> None:
    legs = [ledger.debit(ledger.clearing("bank"), entry.amount),
            ledger.credit(ledger.FUNDS, entry.amount, reseller_id)]
    services.credit_funds(reseller_id=reseller_id, legs=legs, reference=f"bank:{entry.id}",
                          kind="bank_transfer", description=f"Bank transfer {entry.reference or ''}",
                          actor=actor)
    entry.state = state
    entry.reseller_id = reseller_id
    entry.allocated_by = actor
    entry.allocated_at = clock.now()
    pending = db.session.scalar(sa.select(TopUp).where(
        TopUp.reseller_id == reseller_id, TopUp.method == "bank_transfer",
        TopUp.state == "pending", TopUp.amount == entry.amount).order_by(TopUp.id).limit(1))
    if pending is not None:  # the announced bank top-up has arrived
        pending.state = "paid"
        pending.settled_at = clock.now()
        pending.provider_reference = entry.entry_key[:120]
    record_event(reseller_id=reseller_id, type="wallet.topup_received",
                 dedupe_key=f"wallet.topup_received:bank:{entry.id}", data={
                     "amount": f"{entry.amount:.2f}", "currency": entry.currency,
                     "method": "bank_transfer"})
    db.session.flush()


def unmatched_entries() -> list[BankEntry]:
    """The operator's queue: credits to place and returned payments to look into."""
    return list(db.session.scalars(sa.select(BankEntry).where(BankEntry.state == "unmatched")
                                   .order_by(BankEntry.id)))


def allocate_entry(*, entry_id: int, reseller_id: int, actor: str, note: str = "") -> BankEntry:
    """The operator assigns an unmatched credit to a reseller (funds it, once)."""
    entry = db.session.scalar(sa.select(BankEntry).where(BankEntry.id == entry_id)
                              .with_for_update().execution_options(populate_existing=True))
    if entry is None:
        raise BankEntryNotFound()
    if entry.state != "unmatched":
        raise BankEntryAllocated()
    if entry.direction != "credit":
        raise BankEntryNotACredit()
    services.get_wallet(reseller_id=reseller_id)
    entry.note = note or None
    _credit(entry, reseller_id, state="allocated", actor=actor)
    return entry


def ignore_entry(*, entry_id: int, actor: str, note: str) -> BankEntry:
    """Not ours to credit (e.g. returned to the payer); kept for the record."""
    entry = db.session.scalar(sa.select(BankEntry).where(BankEntry.id == entry_id)
                              .with_for_update().execution_options(populate_existing=True))
    if entry is None:
        raise BankEntryNotFound()
    if entry.state != "unmatched":
        raise BankEntryAllocated()
    entry.state, entry.allocated_by, entry.note = "ignored", actor, note
    entry.allocated_at = clock.now()
    db.session.flush()
    return entry
